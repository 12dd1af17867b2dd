// Raw launchers of the CUDA attention read kernels (defined in kernels/cuda/attention.cu),
// used by the attention ops and by the attention layer's step loop
// (kernels/cuda/attention_layer.cu). All pointers on the device, float32, stream-ordered
// on `stream`. Ring geometry as in kernels/attention.h. Compiled only with CUDA (nvcc).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace melody::cuda {

void LaunchAttentionReadForward(cudaStream_t stream, int64_t B, int64_t C, int64_t A,
                                int64_t V, int64_t Lw, int64_t head, const float* y,
                                const float* attn_v, const float* values, const float* keys,
                                float* alpha, float* context);
// dy [B, V] overwritten; d_attn_v_rows [B, V], d_values, d_keys accumulated.
void LaunchAttentionReadBackward(cudaStream_t stream, int64_t B, int64_t C, int64_t A,
                                 int64_t V, int64_t Lw, int64_t head, const float* y,
                                 const float* attn_v, const float* values, const float* keys,
                                 const float* alpha, const float* d_context, float* dy,
                                 float* d_attn_v_rows, float* d_values, float* d_keys);

}  // namespace melody::cuda
