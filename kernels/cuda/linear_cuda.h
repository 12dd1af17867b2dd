// CUDA twin of kernels/linear.h (cuBLAS; see the row-major mapping documented there).
#pragma once

#if MELODY_HAVE_CUDA
#include "core/context.h"
#include "core/tensor.h"
#include "kernels/linear.h"

namespace melody::cuda {
void LinearForward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                   Tensor* y);
void LinearBackward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy,
                    Tensor* dx, Tensor* dw, Tensor* db, GradMode mode);
}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
