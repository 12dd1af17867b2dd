// Fast CPU element-wise LSTM gate loops on raw row-major float arrays (kernels/cpu/
// lstm_gates.cc), shared by the cell (kernels/cpu/lstm_cell.cc), the layer
// (kernels/cpu/lstm_layer.cc) and the attention layer (kernels/cpu/attention_layer.cc).
// Rows are independent, so callers split [row_begin, row_end) over threads.
#pragma once

#include <cstdint>

namespace melody::cpu {

// Rows per thread chunk in the gate loops: below ~16 rows of N = 128 units the hand-off
// to another thread costs more than the work.
inline constexpr int64_t kGateRowsPerChunk = 16;

// For rows r in [row_begin, row_end): z row r (4N pre-activations, `z_ld` floats apart,
// bias NOT included) plus `bias` (4N; may be null) -> activated gates written over z
// (i, j, f, o order: σ(i), tanh(j), σ(f + 1), σ(o)), c and h rows (ld N). c_prev may be
// null (= zero state).
void LstmGatesForwardRows(int64_t row_begin, int64_t row_end, int64_t n, float* z,
                          int64_t z_ld, const float* bias, const float* c_prev,
                          int64_t c_prev_ld, float* c, int64_t c_ld, float* h, int64_t h_ld);

// For rows in [row_begin, row_end): gates (activated, ld `gates_ld`), c_prev (may be null
// = zero), c, dh and dc (either may be null = zero) -> dz (ld dz_ld; may equal the gates
// pointer for in-place use) and dc_prev (may be null = not needed; may alias dc).
void LstmGatesBackwardRows(int64_t row_begin, int64_t row_end, int64_t n,
                           const float* gates, int64_t gates_ld, const float* c_prev,
                           int64_t c_prev_ld, const float* c, int64_t c_ld, const float* dh,
                           int64_t dh_ld, const float* dc, int64_t dc_ld, float* dz,
                           int64_t dz_ld, float* dc_prev, int64_t dc_prev_ld);

// One row of each loop above, in its two builds (cpu/lstm_gate_rows_impl.h), callable
// directly so that tests can compare them. Forward: pre [4n] (bias included), c_prev [n]
// -> activated gates [4n], c [n], h [n]. Backward: gates [4n], dc, c_prev, c, dh [n] ->
// dz [4n], dc_prev [n]. No pointer may alias another.
using GateRowForwardFn = void (*)(int64_t n, const float* pre, const float* c_prev,
                                  float* gates, float* c, float* h);
using GateRowBackwardFn = void (*)(int64_t n, const float* gates, const float* dc,
                                   const float* c_prev, const float* c, const float* dh,
                                   float* dz, float* dc_prev);
#define MELODY_DECLARE_GATE_ROWS                                                        \
  void GateRowForward(int64_t n, const float* pre, const float* c_prev, float* gates,   \
                      float* c, float* h);                                              \
  void GateRowBackward(int64_t n, const float* gates, const float* dc,                  \
                       const float* c_prev, const float* c, const float* dh, float* dz, \
                       float* dc_prev);
namespace baseline {
MELODY_DECLARE_GATE_ROWS
}  // namespace baseline
#if MELODY_KERNELS_AVX2
namespace avx2 {  // built with -mavx2; call only when UseAvx2Loops() (cpu/avx2_dispatch.h)
MELODY_DECLARE_GATE_ROWS
}  // namespace avx2
#endif
#undef MELODY_DECLARE_GATE_ROWS

}  // namespace melody::cpu
