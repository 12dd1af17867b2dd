// Fast CPU path of the attention read over a ring buffer of projected keys: one OpenBLAS
// GEMM for the query projection, fused per-row loops (scores, softmax, context and their
// backward; tanh by the vectorizable FastTanh, ~3e-7 absolute error) split over
// ctx.num_threads() by batch row. Arguments were validated by the
// dispatcher (kernels/attention.cc).
// Without this GCC keeps the clamps and compares of FastTanh as branches (they might raise
// floating-point exceptions) and the tanh loops stay scalar; no result changes, since
// floating-point exception flags are never read here. Must precede the includes so the
// inline FastTanh is compiled under it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/attention.h"
#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/parallel_for.h"

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

// Σ_j a[j]·b[j] over 8 interleaved partial sums, added in a fixed order at the end: the
// lane form lets GCC vectorize the reduction without -ffast-math, and the result does not
// depend on threads or alignment.
float Dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  float lanes[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += a[j + k] * b[j + k];
  float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
              ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

// Backward of one score s = Σ_j v_j·tanh(key_j + y_j) given ds: accumulates
// d attn_v += ds·u, dy += dpre and d key += dpre with dpre = ds·v·(1 − u²).
void ScoreBackward(int64_t n, float ds, const float* __restrict key, const float* __restrict y,
                   const float* __restrict attn_v, float* __restrict d_attn_v,
                   float* __restrict dy, float* __restrict d_key) {
  for (int64_t j = 0; j < n; ++j) {
    const float u = FastTanh(key[j] + y[j]);
    d_attn_v[j] += ds * u;
    const float dpre = ds * attn_v[j] * (1.0f - u * u);
    dy[j] += dpre;
    d_key[j] += dpre;
  }
}

}  // namespace

void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                       const float* values, const float* keys, float* alpha, float* context,
                       int64_t b0, int64_t b1) {
  std::vector<float> scores(g.Lw), u(g.V);
  for (int64_t b = b0; b < b1; ++b) {
    const float* __restrict yb = y + b * g.V;
    float* __restrict ub = u.data();
    float max_score = -INFINITY;
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float* __restrict key = keys + (b * g.C + g.Slot(l)) * g.V;
      for (int64_t j = 0; j < g.V; ++j) ub[j] = FastTanh(key[j] + yb[j]);
      const float s = Dot(ub, attn_v, g.V);
      scores[l] = s;
      max_score = std::max(max_score, s);
    }
    float total = 0.0f;
    for (int64_t l = 0; l < g.Lw; ++l) total += (scores[l] = std::exp(scores[l] - max_score));
    float* ab = alpha + b * g.Lw;
    for (int64_t l = 0; l < g.Lw; ++l) ab[l] = scores[l] / total;
    float* __restrict cb = context + b * g.A;
    std::fill(cb, cb + g.A, 0.0f);
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float* __restrict value = values + (b * g.C + g.Slot(l)) * g.A;
      const float w = ab[l];
      for (int64_t k = 0; k < g.A; ++k) cb[k] += w * value[k];
    }
  }
}

void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                               const float* values, const float* keys, const float* alpha,
                               const float* d_context, float* dy, float* d_attn_v_rows,
                               float* d_values, float* d_keys, int64_t b0, int64_t b1) {
  std::vector<float> dalpha(g.Lw);
  for (int64_t b = b0; b < b1; ++b) {
    const float* ab = alpha + b * g.Lw;
    const float* dcb = d_context + b * g.A;
    float weighted = 0.0f;
    for (int64_t l = 0; l < g.Lw; ++l) {
      const int64_t slot = (b * g.C + g.Slot(l));
      const float* __restrict value = values + slot * g.A;
      float* __restrict dvalue = d_values + slot * g.A;
      const float da = Dot(dcb, value, g.A);
      for (int64_t k = 0; k < g.A; ++k) dvalue[k] += ab[l] * dcb[k];
      dalpha[l] = da;
      weighted += ab[l] * da;
    }
    const float* __restrict yb = y + b * g.V;
    float* __restrict dyb = dy + b * g.V;
    float* __restrict dvb = d_attn_v_rows + b * g.V;
    std::fill(dyb, dyb + g.V, 0.0f);
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float ds = ab[l] * (dalpha[l] - weighted);
      const int64_t slot = (b * g.C + g.Slot(l));
      const float* __restrict key = keys + slot * g.V;
      float* __restrict dkey = d_keys + slot * g.V;
      ScoreBackward(g.V, ds, key, yb, attn_v, dvb, dyb, dkey);
    }
  }
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
