// CUDA path of kernels/lstm_layer.h: cuDNN v8 RNN API, one layer (see lstm_layer.cu).
#pragma once

#if MELODY_HAVE_CUDA
#include "kernels/lstm_layer.h"

namespace melody::cuda {
void LstmLayerForward(Context& ctx, const Tensor& x, const Tensor& lengths,
                      const Tensor& kernel, const Tensor& bias, Tensor* y,
                      LstmLayerCache* cache);
void LstmLayerBackward(Context& ctx, const Tensor& x, const Tensor& lengths,
                       const Tensor& kernel, const Tensor& bias, const Tensor& y,
                       const Tensor& dy, const LstmLayerCache& cache, Tensor* dx,
                       Tensor* dkernel, Tensor* dbias);
}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
