// CUDA twins of the attention ops (kernels/attention.h); compiled only with the CUDA
// backend. Arguments are validated by the dispatcher (kernels/attention.cc).
#pragma once

#if MELODY_HAVE_CUDA
#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/attention.h"

namespace melody::cuda {

void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys);
void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w);
void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context);
void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys);

// Raw-pointer launches used by the attention layer's step loop (all pointers on the
// device, float32, stream-ordered on `stream`). Ring geometry as in attention.h.
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
#endif  // MELODY_HAVE_CUDA
