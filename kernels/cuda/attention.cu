// CUDA twin of the attention read over a ring buffer of projected keys. The query
// projection and the key projection are cuBLAS GEMMs; scores, softmax and context (and
// their backward) are one fused kernel each with one block per batch row: warps take
// window slots, lanes take feature columns, reductions are fixed-order shuffles, and each
// block writes only its own row (no atomics, deterministic).
#include <cstdint>

#include "kernels/attention.h"
#include "kernels/cuda/attention_rows.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dense_cuda_util.h"

namespace melody::cuda {
namespace {

constexpr int kReadThreads = 256;  // 8 warps per batch row

__device__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Shared memory: y [V], scores [Lw].
__global__ void ReadForwardKernel(int64_t C, int64_t A, int64_t V, int64_t Lw, int64_t head,
                                  const float* __restrict__ y, const float* __restrict__ attn_v,
                                  const float* __restrict__ values,
                                  const float* __restrict__ keys, float* __restrict__ alpha,
                                  float* __restrict__ context) {
  extern __shared__ float shared[];
  float* ys = shared;
  float* scores = shared + V;
  const int64_t b = blockIdx.x;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t j = threadIdx.x; j < V; j += blockDim.x) ys[j] = y[b * V + j];
  __syncthreads();
  for (int64_t l = warp; l < Lw; l += warps) {
    const float* key = keys + (b * C + (head + l) % C) * V;
    float s = 0.0f;
    for (int64_t j = lane; j < V; j += 32) s += attn_v[j] * tanhf(key[j] + ys[j]);
    s = WarpSum(s);
    if (lane == 0) scores[l] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float max_score = -INFINITY;
    for (int64_t l = 0; l < Lw; ++l) max_score = fmaxf(max_score, scores[l]);
    float total = 0.0f;
    for (int64_t l = 0; l < Lw; ++l) total += (scores[l] = expf(scores[l] - max_score));
    for (int64_t l = 0; l < Lw; ++l) {
      scores[l] /= total;
      alpha[b * Lw + l] = scores[l];
    }
  }
  __syncthreads();
  for (int64_t k = threadIdx.x; k < A; k += blockDim.x) {
    float acc = 0.0f;
    for (int64_t l = 0; l < Lw; ++l) acc += scores[l] * values[(b * C + (head + l) % C) * A + k];
    context[b * A + k] = acc;
  }
}

// Shared memory: ds [Lw] (first dα, then the score gradients).
__global__ void ReadBackwardKernel(int64_t C, int64_t A, int64_t V, int64_t Lw, int64_t head,
                                   const float* __restrict__ y, const float* __restrict__ attn_v,
                                   const float* __restrict__ values,
                                   const float* __restrict__ keys,
                                   const float* __restrict__ alpha,
                                   const float* __restrict__ d_context, float* __restrict__ dy,
                                   float* __restrict__ d_attn_v_rows,
                                   float* __restrict__ d_values, float* __restrict__ d_keys) {
  extern __shared__ float ds[];
  const int64_t b = blockIdx.x;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const float* dcb = d_context + b * A;
  for (int64_t l = warp; l < Lw; l += warps) {
    const int64_t slot = b * C + (head + l) % C;
    const float a = alpha[b * Lw + l];
    float da = 0.0f;
    for (int64_t k = lane; k < A; k += 32) {
      da += dcb[k] * values[slot * A + k];
      d_values[slot * A + k] += a * dcb[k];
    }
    da = WarpSum(da);
    if (lane == 0) ds[l] = da;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float weighted = 0.0f;
    for (int64_t l = 0; l < Lw; ++l) weighted += alpha[b * Lw + l] * ds[l];
    for (int64_t l = 0; l < Lw; ++l) ds[l] = alpha[b * Lw + l] * (ds[l] - weighted);
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    const float yj = y[b * V + j], vj = attn_v[j];
    float dyj = 0.0f, dvj = 0.0f;
    for (int64_t l = 0; l < Lw; ++l) {
      const int64_t slot = b * C + (head + l) % C;
      const float u = tanhf(keys[slot * V + j] + yj);
      dvj += ds[l] * u;
      const float dpre = ds[l] * vj * (1.0f - u * u);
      dyj += dpre;
      d_keys[slot * V + j] += dpre;
    }
    dy[b * V + j] = dyj;
    d_attn_v_rows[b * V + j] += dvj;
  }
}

}  // namespace

void LaunchAttentionReadForward(cudaStream_t stream, int64_t B, int64_t C, int64_t A,
                                int64_t V, int64_t Lw, int64_t head, const float* y,
                                const float* attn_v, const float* values, const float* keys,
                                float* alpha, float* context) {
  if (B == 0) return;
  const size_t shared = static_cast<size_t>(V + Lw) * sizeof(float);
  ReadForwardKernel<<<static_cast<unsigned>(B), kReadThreads, shared, stream>>>(
      C, A, V, Lw, head, y, attn_v, values, keys, alpha, context);
  MELODY_CUDA_LAUNCH_CHECK();
}

void LaunchAttentionReadBackward(cudaStream_t stream, int64_t B, int64_t C, int64_t A,
                                 int64_t V, int64_t Lw, int64_t head, const float* y,
                                 const float* attn_v, const float* values, const float* keys,
                                 const float* alpha, const float* d_context, float* dy,
                                 float* d_attn_v_rows, float* d_values, float* d_keys) {
  if (B == 0) return;
  const size_t shared = static_cast<size_t>(Lw) * sizeof(float);
  ReadBackwardKernel<<<static_cast<unsigned>(B), kReadThreads, shared, stream>>>(
      C, A, V, Lw, head, y, attn_v, values, keys, alpha, d_context, dy, d_attn_v_rows,
      d_values, d_keys);
  MELODY_CUDA_LAUNCH_CHECK();
}

void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys) {
  const int R = static_cast<int>(values.dim(0)), A = static_cast<int>(values.dim(1));
  const int V = static_cast<int>(keys->dim(1));
  SgemmRowMajor(CublasHandle(ctx), false, false, R, V, A, 1.0f, values.data<float>(), A,
                attn_w.data<float>(), V, 0.0f, keys->data<float>(), V);
}

void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w) {
  const int R = static_cast<int>(values.dim(0)), A = static_cast<int>(values.dim(1));
  const int V = static_cast<int>(d_keys.dim(1));
  if (d_values != nullptr) {
    SgemmRowMajor(CublasHandle(ctx), false, true, R, A, V, 1.0f, d_keys.data<float>(), V,
                  attn_w.data<float>(), V, 1.0f, d_values->data<float>(), A);
  }
  SgemmRowMajor(CublasHandle(ctx), true, false, A, V, R, 1.0f, values.data<float>(), A,
                d_keys.data<float>(), V, 1.0f, d_attn_w->data<float>(), V);
}

void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context) {
  const int64_t B = query.dim(0), Q = query.dim(1);
  const int64_t C = ring.values.dim(1), A = ring.values.dim(2), V = ring.keys.dim(2);
  BroadcastRows(ctx.stream(), query_bias.data<float>(), B, V, y->data<float>());
  SgemmRowMajor(CublasHandle(ctx), false, false, static_cast<int>(B), static_cast<int>(V),
                static_cast<int>(Q), 1.0f, query.data<float>(), static_cast<int>(Q),
                query_kernel.data<float>(), static_cast<int>(V), 1.0f, y->data<float>(),
                static_cast<int>(V));
  LaunchAttentionReadForward(ctx.stream(), B, C, A, V, ring.attn_length, ring.head,
                             y->data<float>(), attn_v.data<float>(),
                             ring.values.data<float>(), ring.keys.data<float>(),
                             alpha->data<float>(), context->data<float>());
}

void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys) {
  const int64_t B = query.dim(0), Q = query.dim(1);
  const int64_t C = ring.values.dim(1), A = ring.values.dim(2), V = ring.keys.dim(2);
  // Scratch: dy [B, V] and the per-row attn_v gradients [B, V].
  float* dy = static_cast<float*>(ctx.Workspace(2 * B * V * sizeof(float)));
  float* dv_rows = dy + B * V;
  ZeroFill(ctx.stream(), dv_rows, B * V * sizeof(float));
  LaunchAttentionReadBackward(ctx.stream(), B, C, A, V, ring.attn_length, ring.head,
                              y.data<float>(), attn_v.data<float>(), ring.values.data<float>(),
                              ring.keys.data<float>(), alpha.data<float>(),
                              d_context.data<float>(), dy, dv_rows, d_values->data<float>(),
                              d_keys->data<float>());
  ColumnSums(ctx.stream(), dv_rows, B, V, d_attn_v->data<float>(), true);
  ColumnSums(ctx.stream(), dy, B, V, d_query_bias->data<float>(), true);
  SgemmRowMajor(CublasHandle(ctx), true, false, static_cast<int>(Q), static_cast<int>(V),
                static_cast<int>(B), 1.0f, query.data<float>(), static_cast<int>(Q), dy,
                static_cast<int>(V), 1.0f, d_query_kernel->data<float>(), static_cast<int>(V));
  if (d_query != nullptr) {
    SgemmRowMajor(CublasHandle(ctx), false, true, static_cast<int>(B), static_cast<int>(Q),
                  static_cast<int>(V), 1.0f, dy, static_cast<int>(V), query_kernel.data<float>(),
                  static_cast<int>(V), 0.0f, d_query->data<float>(), static_cast<int>(Q));
  }
}

}  // namespace melody::cuda
