// Fused element-wise LSTM gate loops (forward and backward) for the CPU kernels: one pass
// over each row, everything a step needs computed in registers. The inner loops are over
// units j and are written without branches so GCC vectorizes them.
// The row loops themselves are in cpu/lstm_gate_rows_impl.h, built here and, with AVX2, in
// cpu/lstm_gate_rows_avx2.cc; this file is compiled with -fno-trapping-math
// (kernels/CMakeLists.txt) so that they vectorize.

#include <cstring>
#include <vector>

#include "kernels/cpu/avx2_dispatch.h"
#include "kernels/cpu/lstm_gate_rows_impl.h"
#include "kernels/cpu/lstm_gates.h"

namespace melody::cpu {

namespace baseline {

void GateRowForward(int64_t n, const float* pre, const float* cp, float* gates, float* cr,
                    float* hr) {
  ::melody::cpu::GateRowForward(n, pre, cp, gates, cr, hr);
}

void GateRowBackward(int64_t n, const float* g, const float* dc, const float* cp,
                     const float* cr, const float* dh, float* dz, float* dcp) {
  ::melody::cpu::GateRowBackward(n, g, dc, cp, cr, dh, dz, dcp);
}

}  // namespace baseline

namespace {

GateRowForwardFn ForwardRow() {
#if MELODY_KERNELS_AVX2
  if (UseAvx2Loops()) return avx2::GateRowForward;
#endif
  return baseline::GateRowForward;
}

GateRowBackwardFn BackwardRow() {
#if MELODY_KERNELS_AVX2
  if (UseAvx2Loops()) return avx2::GateRowBackward;
#endif
  return baseline::GateRowBackward;
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
  const GateRowForwardFn row_forward = ForwardRow();
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* zrow = z + r * z_ld;
    if (bias) {
      for (int64_t k = 0; k < 4 * n; ++k) pre[k] = zrow[k] + bias[k];
    } else {
      std::memcpy(pre, zrow, sizeof(float) * 4 * n);
    }
    row_forward(n, pre, c_prev ? c_prev + r * c_prev_ld : zeros, zrow, c + r * c_ld,
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
  const GateRowBackwardFn row_backward = BackwardRow();
  for (int64_t r = row_begin; r < row_end; ++r) {
    std::memcpy(g, gates + r * gates_ld, sizeof(float) * 4 * n);
    if (dc) {
      std::memcpy(dc_row, dc + r * dc_ld, sizeof(float) * n);
    } else {
      std::memset(dc_row, 0, sizeof(float) * n);
    }
    row_backward(n, g, dc_row, c_prev ? c_prev + r * c_prev_ld : zeros, c + r * c_ld,
                    dh ? dh + r * dh_ld : zeros, dz + r * dz_ld,
                    dc_prev ? dc_prev + r * dc_prev_ld : dc_prev_sink);
  }
}

}  // namespace melody::cpu
