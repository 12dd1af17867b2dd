// The LSTM gate loops of one row (forward and backward), written once and compiled twice:
// by cpu/lstm_gates.cc for baseline x86-64 (and every other target) and by
// cpu/lstm_gate_rows_avx2.cc with -mavx2, which lstm_gates.cc calls instead when
// UseAvx2Loops() (cpu/avx2_dispatch.h). Both give the same bits: the loops are
// element-wise, FastExp's floor is exact on both paths, and no FMA is formed
// (-ffp-contract=off).
//
// Include only from those two files, compiled with -fno-trapping-math (without it GCC keeps
// FastExp's clamps as branches and the loops stay scalar). Everything here has internal
// linkage and uses no out-of-line library template, so no AVX2 instruction can reach the
// baseline build through a shared inline copy at link time.
#pragma once

#include <cstdint>

#include "kernels/cpu/fast_math.h"
#include "kernels/lstm_cell.h"

namespace melody::cpu {
namespace {

// One row: pre [4n] (i, j, f, o pre-activations incl. bias) and c_prev [n] -> activated
// gates [4n], c [n], h [n]. All pointers distinct.
inline void GateRowForward(int64_t n, const float* __restrict pre, const float* __restrict cp,
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
inline void GateRowBackward(int64_t n, const float* __restrict g, const float* __restrict dc,
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
}  // namespace melody::cpu
