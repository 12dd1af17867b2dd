// Fused element-wise LSTM gate loops (forward and backward) for the CPU kernels: one pass
// over each row, everything a step needs computed in registers. The inner loops are over
// units j and are written without branches so GCC vectorizes them.
// GCC refuses to if-convert float compares/selects while -ftrapping-math is on (a compare
// might raise an FP exception), which keeps FastExp's clamps and floor from vectorizing.
// Nothing here inspects FP exception flags, so turn that assumption off for this file
// (results are unchanged: it only permits evaluating both sides of a select).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <cstring>
#include <vector>

#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/lstm_gates.h"
#include "kernels/lstm_cell.h"

namespace melody::cpu {
namespace {

// One row: pre [4n] (i, j, f, o pre-activations incl. bias) and c_prev [n] -> activated
// gates [4n], c [n], h [n]. All pointers distinct.
void GateRowForward(int64_t n, const float* __restrict pre, const float* __restrict cp,
                    float* __restrict gates, float* __restrict cr, float* __restrict hr) {
  for (int64_t k = 0; k < n; ++k) {
    const float gi = FastSigmoid(pre[k]);
    const float gj = FastTanh(pre[n + k]);
    const float gf = FastSigmoid(pre[2 * n + k] + kLstmForgetBias);
    const float go = FastSigmoid(pre[3 * n + k]);
    const float cn = cp[k] * gf + gi * gj;
    gates[k] = gi;
    gates[n + k] = gj;
    gates[2 * n + k] = gf;
    gates[3 * n + k] = go;
    cr[k] = cn;
    hr[k] = FastTanh(cn) * go;
  }
}

// One row: activated gates g [4n], upstream dc [n], c_prev, c, dh [n] -> dz [4n],
// dc_prev [n]. All pointers distinct.
void GateRowBackward(int64_t n, const float* __restrict g, const float* __restrict dc,
                     const float* __restrict cp, const float* __restrict cr,
                     const float* __restrict dh, float* __restrict dz,
                     float* __restrict dcp) {
  for (int64_t k = 0; k < n; ++k) {
    const float vi = g[k], vj = g[n + k], vf = g[2 * n + k], vo = g[3 * n + k];
    const float tc = FastTanh(cr[k]);
    const float g_h = dh[k];
    // c feeds h = tanh(c)·o and the next step; dc from above covers the latter.
    const float g_c = dc[k] + g_h * vo * (1.0f - tc * tc);
    dz[k] = g_c * vj * vi * (1.0f - vi);
    dz[n + k] = g_c * vi * (1.0f - vj * vj);
    dz[2 * n + k] = g_c * cp[k] * vf * (1.0f - vf);
    dz[3 * n + k] = g_h * tc * vo * (1.0f - vo);
    dcp[k] = g_c * vf;
  }
}

}  // namespace

void LstmGatesForwardRows(int64_t row_begin, int64_t row_end, int64_t n, float* z,
                          int64_t z_ld, const float* bias, const float* c_prev,
                          int64_t c_prev_ld, float* c, int64_t c_ld, float* h,
                          int64_t h_ld) {
  // Each row's pre-activations are first copied (plus bias) into a per-thread scratch row,
  // so the gate loop reads and writes distinct arrays and GCC vectorizes it.
  thread_local std::vector<float> scratch;
  scratch.assign(5 * n, 0.0f);
  float* __restrict pre = scratch.data();               // 4n: z row + bias
  const float* __restrict zeros = scratch.data() + 4 * n;  // n: c_prev of a zero state
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* zrow = z + r * z_ld;
    if (bias) {
      for (int64_t k = 0; k < 4 * n; ++k) pre[k] = zrow[k] + bias[k];
    } else {
      std::memcpy(pre, zrow, sizeof(float) * 4 * n);
    }
    GateRowForward(n, pre, c_prev ? c_prev + r * c_prev_ld : zeros, zrow, c + r * c_ld,
                   h + r * h_ld);
  }
}

void LstmGatesBackwardRows(int64_t row_begin, int64_t row_end, int64_t n,
                           const float* gates, int64_t gates_ld, const float* c_prev,
                           int64_t c_prev_ld, const float* c, int64_t c_ld, const float* dh,
                           int64_t dh_ld, const float* dc, int64_t dc_ld, float* dz,
                           int64_t dz_ld, float* dc_prev, int64_t dc_prev_ld) {
  // dz may be the gates buffer and dc_prev may alias dc. Each row's gates and dc are first
  // copied into a per-thread scratch row (2.5 KB for N = 128, stays in L1), so the loop
  // below works on non-aliasing pointers and vectorizes; null inputs read a zero row.
  thread_local std::vector<float> scratch;
  scratch.assign(7 * n, 0.0f);
  float* __restrict g = scratch.data();          // 4n: gates row copy
  float* __restrict dc_row = g + 4 * n;          // n: dc row copy (or zeros)
  const float* __restrict zeros = g + 5 * n;     // n: zeros
  float* __restrict dc_prev_sink = g + 6 * n;    // n: discarded dc_prev
  for (int64_t r = row_begin; r < row_end; ++r) {
    std::memcpy(g, gates + r * gates_ld, sizeof(float) * 4 * n);
    if (dc) {
      std::memcpy(dc_row, dc + r * dc_ld, sizeof(float) * n);
    } else {
      std::memset(dc_row, 0, sizeof(float) * n);
    }
    GateRowBackward(n, g, dc_row, c_prev ? c_prev + r * c_prev_ld : zeros, c + r * c_ld,
                    dh ? dh + r * dh_ld : zeros, dz + r * dz_ld,
                    dc_prev ? dc_prev + r * dc_prev_ld : dc_prev_sink);
  }
}

}  // namespace melody::cpu
