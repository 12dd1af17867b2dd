// Fast CPU path of the attention read over a ring buffer of projected keys: one OpenBLAS
// GEMM for the query projection, fused per-row loops (scores, softmax, context and their
// backward; tanh by the vectorizable FastTanh, ~3e-7 absolute error) split over
// ctx.num_threads() by batch row. Arguments were validated by the
// dispatcher (kernels/attention.cc). The row loops live in cpu/attention_rows_impl.h, built
// here and, with AVX2, in cpu/attention_rows_avx2.cc; this file is compiled with
// -fno-trapping-math (kernels/CMakeLists.txt) so that they vectorize.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/attention.h"
#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/attention_rows_impl.h"
#include "kernels/cpu/avx2_dispatch.h"
#include "kernels/cpu/blas.h"

namespace melody::cpu {
namespace {

// Batch rows per thread chunk: one row is Lw·V tanh evaluations, enough work per chunk.
constexpr int64_t kRowsPerChunk = 1;

RingGeometry GeometryOf(const AttentionRing& ring) {
  RingGeometry g;
  g.C = ring.values.dim(1);
  g.A = ring.values.dim(2);
  g.V = ring.keys.dim(2);
  g.Lw = ring.attn_length;
  g.head = ring.head;
  return g;
}

// y [B, V] = query · K_q + b_q.
void ProjectQuery(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                  const Tensor& query_bias, Tensor* y) {
  const int B = static_cast<int>(query.dim(0)), Q = static_cast<int>(query.dim(1));
  const int V = static_cast<int>(query_kernel.dim(1));
  float* out = y->data<float>();
  for (int b = 0; b < B; ++b) std::memcpy(out + b * V, query_bias.data<float>(), V * 4);
  Sgemm(ctx.num_threads(), false, false, B, V, Q, 1.0f, query.data<float>(), Q, query_kernel.data<float>(), V,
       1.0f, out, V);
}

}  // namespace

namespace baseline {

void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                       const float* values, const float* keys, float* alpha, float* context,
                       int64_t b0, int64_t b1, float* scratch) {
  ReadRows(g, y, attn_v, values, keys, alpha, context, b0, b1, scratch);
}

void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                               const float* values, const float* keys, const float* alpha,
                               const float* d_context, float* dy, float* d_attn_v_rows,
                               float* d_values, float* d_keys, int64_t b0, int64_t b1,
                               float* scratch) {
  ReadBackwardRows(g, y, attn_v, values, keys, alpha, d_context, dy, d_attn_v_rows, d_values,
                   d_keys, b0, b1, scratch);
}

}  // namespace baseline

void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                       const float* values, const float* keys, float* alpha, float* context,
                       int64_t b0, int64_t b1) {
  std::vector<float> scratch(g.Lw + g.V);
#if MELODY_KERNELS_AVX2
  if (UseAvx2Loops()) {
    return avx2::AttentionReadRows(g, y, attn_v, values, keys, alpha, context, b0, b1,
                                   scratch.data());
  }
#endif
  baseline::AttentionReadRows(g, y, attn_v, values, keys, alpha, context, b0, b1,
                              scratch.data());
}

void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                               const float* values, const float* keys, const float* alpha,
                               const float* d_context, float* dy, float* d_attn_v_rows,
                               float* d_values, float* d_keys, int64_t b0, int64_t b1) {
  std::vector<float> scratch(g.Lw);
#if MELODY_KERNELS_AVX2
  if (UseAvx2Loops()) {
    return avx2::AttentionReadBackwardRows(g, y, attn_v, values, keys, alpha, d_context, dy,
                                           d_attn_v_rows, d_values, d_keys, b0, b1,
                                           scratch.data());
  }
#endif
  baseline::AttentionReadBackwardRows(g, y, attn_v, values, keys, alpha, d_context, dy,
                                      d_attn_v_rows, d_values, d_keys, b0, b1, scratch.data());
}

void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys) {
  const int R = static_cast<int>(values.dim(0)), A = static_cast<int>(values.dim(1));
  const int V = static_cast<int>(keys->dim(1));
  Sgemm(ctx.num_threads(), false, false, R, V, A, 1.0f, values.data<float>(), A, attn_w.data<float>(), V, 0.0f,
       keys->data<float>(), V);
}

void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w) {
  const int R = static_cast<int>(values.dim(0)), A = static_cast<int>(values.dim(1));
  const int V = static_cast<int>(d_keys.dim(1));
  if (d_values != nullptr) {
    Sgemm(ctx.num_threads(), false, true, R, A, V, 1.0f, d_keys.data<float>(), V, attn_w.data<float>(), V, 1.0f,
         d_values->data<float>(), A);
  }
  Sgemm(ctx.num_threads(), true, false, A, V, R, 1.0f, values.data<float>(), A, d_keys.data<float>(), V, 1.0f,
       d_attn_w->data<float>(), V);
}

void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context) {
  ProjectQuery(ctx, query, query_kernel, query_bias, y);
  const RingGeometry g = GeometryOf(ring);
  ParallelFor(ctx.num_threads(), query.dim(0), kRowsPerChunk, [&](int64_t b0, int64_t b1) {
    AttentionReadRows(g, y->data<float>(), attn_v.data<float>(), ring.values.data<float>(),
                      ring.keys.data<float>(), alpha->data<float>(), context->data<float>(),
                      b0, b1);
  });
}

void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys) {
  const RingGeometry g = GeometryOf(ring);
  const int64_t B = query.dim(0);
  const int Q = static_cast<int>(query.dim(1)), V = static_cast<int>(g.V);
  std::vector<float> dy(B * V), dv_rows(B * V, 0.0f);
  ParallelFor(ctx.num_threads(), B, kRowsPerChunk, [&](int64_t b0, int64_t b1) {
    AttentionReadBackwardRows(g, y.data<float>(), attn_v.data<float>(),
                              ring.values.data<float>(), ring.keys.data<float>(),
                              alpha.data<float>(), d_context.data<float>(), dy.data(),
                              dv_rows.data(), d_values->data<float>(), d_keys->data<float>(),
                              b0, b1);
  });
  // Batch sums in row order: deterministic whatever the thread split.
  float* dv = d_attn_v->data<float>();
  float* dbq = d_query_bias->data<float>();
  for (int64_t b = 0; b < B; ++b) {
    for (int j = 0; j < V; ++j) {
      dv[j] += dv_rows[b * V + j];
      dbq[j] += dy[b * V + j];
    }
  }
  Sgemm(ctx.num_threads(), true, false, Q, V, static_cast<int>(B), 1.0f, query.data<float>(), Q, dy.data(), V,
       1.0f, d_query_kernel->data<float>(), V);
  if (d_query != nullptr) {
    Sgemm(ctx.num_threads(), false, true, static_cast<int>(B), Q, V, 1.0f, dy.data(), V,
         query_kernel.data<float>(), V, 0.0f, d_query->data<float>(), Q);
  }
}

}  // namespace melody::cpu
