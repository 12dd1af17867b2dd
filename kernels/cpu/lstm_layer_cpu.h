// Fast CPU path of kernels/lstm_layer.h (float32). See the header for the scheme.
#pragma once

#include "kernels/lstm_layer.h"

namespace melody::cpu {
void LstmLayerForward(Context& ctx, const Tensor& x, const Tensor& lengths,
                      const Tensor& kernel, const Tensor& bias, Tensor* y,
                      LstmLayerCache* cache);
void LstmLayerBackward(Context& ctx, const Tensor& x, const Tensor& lengths,
                       const Tensor& kernel, const Tensor& bias, const Tensor& y,
                       const Tensor& dy, const LstmLayerCache& cache, Tensor* dx,
                       Tensor* dkernel, Tensor* dbias);
}  // namespace melody::cpu
