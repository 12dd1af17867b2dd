// Raw CUDA launchers of the fused LSTM gate kernels (defined in kernels/cuda/lstm_cell.cu),
// on dense row-major device arrays (ld = 4N for z / gates / dz, N for the state), for step
// loops that manage their own buffers (the attention layer). Semantics as the CPU loops of
// kernels/cpu/lstm_gates.h: gates may be the z array (in place); bias (4N) and c_prev may
// be null (= zero); dh, dc may be null (= zero); dz may be the gates array; dc_prev may
// alias dc. Compiled only with CUDA (nvcc).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace melody::cuda {

void LaunchLstmGatesForward(cudaStream_t stream, int64_t rows, int64_t n, const float* z,
                            const float* bias, const float* c_prev, float* gates, float* c,
                            float* h);
void LaunchLstmGatesBackward(cudaStream_t stream, int64_t rows, int64_t n, const float* gates,
                             const float* c_prev, const float* c, const float* dh,
                             const float* dc, float* dz, float* dc_prev);

}  // namespace melody::cuda
