// The LSTM gate row loops built with -mavx2 (kernels/CMakeLists.txt); cpu/lstm_gates.cc
// calls these when UseAvx2Loops(). Same source as the baseline build:
// cpu/lstm_gate_rows_impl.h.
#include "kernels/cpu/lstm_gate_rows_impl.h"
#include "kernels/cpu/lstm_gates.h"

namespace melody::cpu::avx2 {

void GateRowForward(int64_t n, const float* pre, const float* c_prev, float* gates, float* c,
                    float* h) {
  ::melody::cpu::GateRowForward(n, pre, c_prev, gates, c, h);
}

void GateRowBackward(int64_t n, const float* gates, const float* dc, const float* c_prev,
                     const float* c, const float* dh, float* dz, float* dc_prev) {
  ::melody::cpu::GateRowBackward(n, gates, dc, c_prev, c, dh, dz, dc_prev);
}

}  // namespace melody::cpu::avx2
