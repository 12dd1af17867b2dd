// The attention read's per-row loops (scores, softmax, context, and their backward) on raw
// pointers, written once and compiled twice: by cpu/attention.cc for baseline x86-64 (and
// every other target) and by cpu/attention_rows_avx2.cc with -mavx2, which attention.cc
// calls instead when the CPU has AVX2. The two builds give bit-identical results: the
// loops are element-wise or reduce in a fixed 8-lane order, FastExp's floor is exact on
// both paths, and no FMA is formed (-ffp-contract=off).
//
// Include only from those two files, compiled with -fno-trapping-math (without it GCC
// keeps FastTanh's clamps as branches and the loops stay scalar). Everything here has
// internal linkage and uses no out-of-line library template, so no AVX2 instruction can
// reach the baseline build through a shared inline copy at link time.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/fast_math.h"

namespace melody::cpu {
namespace {

// Σ_j a[j]·b[j] over 8 interleaved partial sums, added in a fixed order at the end: the
// lane form lets GCC vectorize the reduction without -ffast-math, and the result does not
// depend on threads, alignment or vector width.
inline float Dot(const float* __restrict a, const float* __restrict b, int64_t n) {
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
inline void ScoreBackward(int64_t n, float ds, const float* __restrict key,
                          const float* __restrict y, const float* __restrict attn_v,
                          float* __restrict d_attn_v, float* __restrict dy,
                          float* __restrict d_key) {
  for (int64_t j = 0; j < n; ++j) {
    const float u = FastTanh(key[j] + y[j]);
    d_attn_v[j] += ds * u;
    const float dpre = ds * attn_v[j] * (1.0f - u * u);
    dy[j] += dpre;
    d_key[j] += dpre;
  }
}

// AttentionReadRows (attention_rows.h) with caller-provided scratch of Lw + V floats.
inline void ReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                     const float* values, const float* keys, float* alpha, float* context,
                     int64_t b0, int64_t b1, float* scratch) {
  float* __restrict scores = scratch;
  float* __restrict u = scratch + g.Lw;
  for (int64_t b = b0; b < b1; ++b) {
    const float* __restrict yb = y + b * g.V;
    float max_score = -INFINITY;
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float* __restrict key = keys + (b * g.C + g.Slot(l)) * g.V;
      for (int64_t j = 0; j < g.V; ++j) u[j] = FastTanh(key[j] + yb[j]);
      const float s = Dot(u, attn_v, g.V);
      scores[l] = s;
      if (s > max_score) max_score = s;
    }
    float total = 0.0f;
    for (int64_t l = 0; l < g.Lw; ++l) total += (scores[l] = std::exp(scores[l] - max_score));
    float* ab = alpha + b * g.Lw;
    for (int64_t l = 0; l < g.Lw; ++l) ab[l] = scores[l] / total;
    float* __restrict cb = context + b * g.A;
    for (int64_t k = 0; k < g.A; ++k) cb[k] = 0.0f;
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float* __restrict value = values + (b * g.C + g.Slot(l)) * g.A;
      const float w = ab[l];
      for (int64_t k = 0; k < g.A; ++k) cb[k] += w * value[k];
    }
  }
}

// AttentionReadBackwardRows (attention_rows.h) with caller-provided scratch of Lw floats.
inline void ReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                             const float* values, const float* keys, const float* alpha,
                             const float* d_context, float* dy, float* d_attn_v_rows,
                             float* d_values, float* d_keys, int64_t b0, int64_t b1,
                             float* scratch) {
  float* __restrict dalpha = scratch;
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
    for (int64_t j = 0; j < g.V; ++j) dyb[j] = 0.0f;
    for (int64_t l = 0; l < g.Lw; ++l) {
      const float ds = ab[l] * (dalpha[l] - weighted);
      const int64_t slot = (b * g.C + g.Slot(l));
      const float* __restrict key = keys + slot * g.V;
      float* __restrict dkey = d_keys + slot * g.V;
      ScoreBackward(g.V, ds, key, yb, attn_v, dvb, dyb, dkey);
    }
  }
}

}  // namespace
}  // namespace melody::cpu
