// Fast CPU path of kernels/linear.h (OpenBLAS sgemm). float32 only.
#pragma once

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/linear.h"

namespace melody::cpu {
void LinearForward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                   Tensor* y);
void LinearBackward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy,
                    Tensor* dx, Tensor* dw, Tensor* db, GradMode mode);
}  // namespace melody::cpu
