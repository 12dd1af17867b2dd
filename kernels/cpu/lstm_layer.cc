// Fast CPU path of kernels/lstm_layer.h.
//
// Layout: batch rows are stably sorted by length, longest first, and every per-step
// buffer is time-major with B rows per step in that order. The rows still running at step
// t are then the contiguous prefix [0, active[t]), so every per-step GEMM and gate pass
// touches only live rows, and h_prev / c_prev of step t are the same rows of step t-1.
//
// Forward:  gather x -> x_sorted (zero rows where padded); gates = x_sorted·W_x (one
//           sgemm over all steps); per step: gates_t += h_{t-1}·W_h (sgemm, live rows),
//           fused pass (bias, activations, c, h; threads over rows); scatter h -> y.
// Backward: gather dy -> dh buffer; per step (last to first): dh_t += dz_{t+1}·W_hᵀ
//           (sgemm, live rows of t+1), fused pass writing dz over the saved gates and
//           dc_prev over the running dc; after the loop, three big sgemms: dW_x += x_sortedᵀ
//           ·dz, dW_h += h[0..S-2]ᵀ·dz[1..S-1], dx_sorted = dz·W_xᵀ, and the bias column
//           sums; scatter dx_sorted -> dx. Rows of a step beyond its live prefix are zero
//           in x_sorted, h and dz, so the big products need no masking.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/lstm_gates.h"
#include "kernels/lstm_layer.h"
#include "kernels/op_checks.h"

namespace melody::cpu {
namespace {

// Grows `v` to at least `n` elements (never shrinks: buffers are reused across calls).
void Reserve(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

// Batch rows per chunk for the gather/scatter passes (each row is T·F floats).
constexpr int64_t kRowsPerCopyChunk = 8;

}  // namespace

void LstmLayerForward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                      const std::vector<int32_t>& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y, LstmLayerCache* cache) {
  LstmLayerCache local;
  LstmLayerCache& cc = cache ? *cache : local;
  const int64_t B = d.batch, T = d.time, I = d.input, N = d.units, N4 = 4 * N;
  cc.device = Device::CPU();
  cc.batch = B;
  cc.time = T;
  cc.input = I;
  cc.units = N;
  cc.lengths = lengths;
  const std::vector<int32_t>& len = cc.lengths;
  cc.order.resize(B);
  std::iota(cc.order.begin(), cc.order.end(), 0);
  std::stable_sort(cc.order.begin(), cc.order.end(),
                   [&](int64_t a, int64_t b) { return len[a] > len[b]; });
  const int64_t S = B > 0 ? len[cc.order[0]] : 0;
  cc.steps = S;
  cc.active.assign(S, 0);
  for (int64_t p = 0; p < B; ++p)
    for (int64_t t = 0; t < len[cc.order[p]]; ++t) ++cc.active[t];

  Reserve(cc.x_sorted, S * B * I);
  Reserve(cc.gates, S * B * N4);
  Reserve(cc.c, S * B * N);
  Reserve(cc.h, S * B * N);
  float* xs = cc.x_sorted.data();
  float* G = cc.gates.data();
  float* C = cc.c.data();
  float* H = cc.h.data();
  const float* xin = x.data<float>();
  const float* W = kernel.data<float>();
  const float* Wh = W + I * N4;
  const float* bvec = bias.data<float>();
  const int threads = ctx.num_threads();

  // Gather x into time-major sorted order; padded rows become zero.
  ParallelFor(threads, B, kRowsPerCopyChunk, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r = cc.order[p], lr = len[r];
      for (int64_t t = 0; t < S; ++t) {
        float* dst = xs + (t * B + p) * I;
        if (t < lr) {
          std::memcpy(dst, xin + (r * T + t) * I, sizeof(float) * I);
        } else {
          std::memset(dst, 0, sizeof(float) * I);
        }
      }
    }
  });
  // Input contribution of every step at once.
  if (I > 0) {
    Sgemm(ctx.num_threads(), false, false, S * B, N4, I, 1.0f, xs, I, W, N4, 0.0f, G, N4);
  } else {
    std::memset(G, 0, sizeof(float) * S * B * N4);
  }
  for (int64_t t = 0; t < S; ++t) {
    const int64_t live = cc.active[t];
    float* Gt = G + t * B * N4;
    float* Ct = C + t * B * N;
    float* Ht = H + t * B * N;
    if (t > 0) Sgemm(ctx.num_threads(), false, false, live, N4, N, 1.0f, Ht - B * N, N, Wh, N4, 1.0f, Gt, N4);
    const float* c_prev = t > 0 ? Ct - B * N : nullptr;
    ParallelFor(threads, live, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
      LstmGatesForwardRows(r0, r1, N, Gt, N4, bvec, c_prev, N, Ct, N, Ht, N);
    });
    // Finished rows: zero c and h (h feeds the dW_h product in backward); their gates
    // rows are already zero (x_sorted rows are zero and no bias was added).
    std::memset(Ct + live * N, 0, sizeof(float) * (B - live) * N);
    std::memset(Ht + live * N, 0, sizeof(float) * (B - live) * N);
  }
  // Scatter h into y; zero where padded.
  float* yout = y->data<float>();
  ParallelFor(threads, B, kRowsPerCopyChunk, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r = cc.order[p], lr = len[r];
      for (int64_t t = 0; t < lr; ++t)
        std::memcpy(yout + (r * T + t) * N, H + (t * B + p) * N, sizeof(float) * N);
      std::memset(yout + (r * T + lr) * N, 0, sizeof(float) * (T - lr) * N);
    }
  });
}

void LstmLayerBackward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                       const Tensor& lengths, const Tensor& kernel, const Tensor& bias,
                       const Tensor& y, const Tensor& dy, const LstmLayerCache& cache,
                       Tensor* dx, Tensor* dkernel, Tensor* dbias) {
  const char* op = "LstmLayerBackward";
  (void)y;
  MELODY_REQUIRE(cache.input == d.input && cache.units == d.units &&
                 op_checks::HostLengths(lengths, op, d.time) == cache.lengths)
      << op << ": the cache was filled for different sizes or lengths";
  const int64_t B = d.batch, T = d.time, I = d.input, N = d.units, N4 = 4 * N;
  const int64_t S = cache.steps;
  const std::vector<int32_t>& len = cache.lengths;
  const int threads = ctx.num_threads();
  // The gates buffer becomes dz in place; the cache is logically const to callers (a
  // second backward from the same cache is not supported).
  float* G = const_cast<float*>(cache.gates.data());
  const float* C = cache.c.data();
  const float* H = cache.h.data();
  const float* xs = cache.x_sorted.data();
  const float* W = kernel.data<float>();
  const float* Wh = W + I * N4;

  // dh buffer [S, B, N]: dy gathered into sorted time-major order (zero where padded);
  // the recurrent gradient is added into it step by step.
  thread_local std::vector<float> dh_buffer, dc_running, dx_sorted;
  Reserve(dh_buffer, S * B * N);
  float* DH = dh_buffer.data();
  const float* dyin = dy.data<float>();
  ParallelFor(threads, B, kRowsPerCopyChunk, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r = cache.order[p], lr = len[r];
      for (int64_t t = 0; t < S; ++t) {
        float* dst = DH + (t * B + p) * N;
        if (t < lr) {
          std::memcpy(dst, dyin + (r * T + t) * N, sizeof(float) * N);
        } else {
          std::memset(dst, 0, sizeof(float) * N);
        }
      }
    }
  });
  // Gradient w.r.t. the running c state; rows join (at their last step) with zero.
  dc_running.assign(static_cast<size_t>(B * N), 0.0f);
  float* DC = dc_running.data();
  for (int64_t t = S - 1; t >= 0; --t) {
    const int64_t live = cache.active[t];
    float* Gt = G + t * B * N4;
    float* DHt = DH + t * B * N;
    if (t + 1 < S) {
      // dh_t += dz_{t+1}·W_hᵀ for the rows still live at t + 1.
      const int64_t live_next = cache.active[t + 1];
      Sgemm(ctx.num_threads(), false, true, live_next, N, N4, 1.0f, Gt + B * N4, N4, Wh, N4, 1.0f, DHt, N);
    }
    const float* c_prev = t > 0 ? C + (t - 1) * B * N : nullptr;
    const float* Ct = C + t * B * N;
    ParallelFor(threads, live, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
      LstmGatesBackwardRows(r0, r1, N, Gt, N4, c_prev, N, Ct, N, DHt, N, DC, N, Gt, N4, DC, N);
    });
  }
  const float* DZ = G;
  float* dW = dkernel->data<float>();
  if (S > 0) {
    // dW_x += x_sortedᵀ·dz over every (step, row); dW_h += h_{t-1}ᵀ·dz_t for t >= 1.
    if (I > 0) Sgemm(ctx.num_threads(), true, false, I, N4, S * B, 1.0f, xs, I, DZ, N4, 1.0f, dW, N4);
    if (S > 1)
      Sgemm(ctx.num_threads(), true, false, N, N4, (S - 1) * B, 1.0f, H, N, DZ + B * N4, N4, 1.0f, dW + I * N4, N4);
    // db += column sums of dz: columns split over threads, rows summed in order.
    float* db = dbias->data<float>();
    ParallelFor(threads, N4, 64, [&](int64_t j0, int64_t j1) {
      for (int64_t row = 0; row < S * B; ++row) {
        const float* zr = DZ + row * N4;
        for (int64_t j = j0; j < j1; ++j) db[j] += zr[j];
      }
    });
  }
  if (dx) {
    float* dxo = dx->data<float>();
    if (I > 0 && S > 0) {
      Reserve(dx_sorted, S * B * I);
      Sgemm(ctx.num_threads(), false, true, S * B, I, N4, 1.0f, DZ, N4, W, N4, 0.0f, dx_sorted.data(), I);
    }
    const float* dxs = dx_sorted.data();
    ParallelFor(threads, B, kRowsPerCopyChunk, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t r = cache.order[p], lr = len[r];
        for (int64_t t = 0; t < lr; ++t)
          std::memcpy(dxo + (r * T + t) * I, dxs + (t * B + p) * I, sizeof(float) * I);
        std::memset(dxo + (r * T + lr) * I, 0, sizeof(float) * (T - lr) * I);
      }
    });
  }
}

}  // namespace melody::cpu
