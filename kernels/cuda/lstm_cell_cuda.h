// CUDA twin of kernels/lstm_cell.h: cuBLAS SGEMMs for the products and one fused
// element-wise kernel each way for the gates (same math as the reference, expf/tanhf).
#pragma once

#if MELODY_HAVE_CUDA
#include <cuda_runtime.h>

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody::cuda {
void LstmGatesForward(Context& ctx, const Tensor& z, const Tensor& c_prev, Tensor* gates,
                      Tensor* c, Tensor* h);
void LstmGatesBackward(Context& ctx, const Tensor& gates, const Tensor& c_prev,
                       const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dz,
                       Tensor* dc_prev);
void LstmCellForward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                     const Tensor& h_prev, const Tensor& kernel, const Tensor& bias,
                     Tensor* gates, Tensor* c, Tensor* h);
void LstmCellBackward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                      const Tensor& h_prev, const Tensor& kernel, const Tensor& gates,
                      const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dx,
                      Tensor* dh_prev, Tensor* dc_prev, Tensor* dkernel, Tensor* dbias);

// Raw launchers on dense row-major device arrays (ld = 4N for z/gates/dz, N for the state),
// for step loops that manage their own buffers. Semantics as in lstm_gates_cpu.h:
// gates may be the z array (in place); bias (4N) and c_prev may be null (= zero);
// dh, dc may be null (= zero); dz may be the gates array; dc_prev may alias dc.
void LaunchLstmGatesForward(cudaStream_t stream, int64_t rows, int64_t n, const float* z,
                            const float* bias, const float* c_prev, float* gates, float* c,
                            float* h);
void LaunchLstmGatesBackward(cudaStream_t stream, int64_t rows, int64_t n, const float* gates,
                             const float* c_prev, const float* c, const float* dh,
                             const float* dc, float* dz, float* dc_prev);
}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
