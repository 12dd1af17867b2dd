// Fused element-wise LSTM gate loops (forward and backward) for the CPU kernels: one pass
// over each row, everything a step needs computed in registers. The inner loops are over
// units j and are written without branches so GCC vectorizes them.
#include <cstring>
#include <vector>

#include "kernels/cpu/fast_math.h"
#include "kernels/cpu/lstm_gates_cpu.h"
#include "kernels/lstm_cell.h"

namespace melody::cpu {

void LstmGatesForwardRows(int64_t row_begin, int64_t row_end, int64_t n, float* z,
                          int64_t z_ld, const float* bias, const float* c_prev,
                          int64_t c_prev_ld, float* c, int64_t c_ld, float* h,
                          int64_t h_ld) {
  thread_local std::vector<float> zeros;  // c_prev of a zero initial state
  if (!c_prev) zeros.assign(n, 0.0f);
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* __restrict zi = z + r * z_ld;
    float* __restrict zj = zi + n;
    float* __restrict zf = zi + 2 * n;
    float* __restrict zo = zi + 3 * n;
    const float* __restrict cp = c_prev ? c_prev + r * c_prev_ld : zeros.data();
    float* __restrict cr = c + r * c_ld;
    float* __restrict hr = h + r * h_ld;
    if (bias) {
      for (int64_t k = 0; k < 4 * n; ++k) zi[k] += bias[k];
    }
    for (int64_t k = 0; k < n; ++k) {
      const float gi = FastSigmoid(zi[k]);
      const float gj = FastTanh(zj[k]);
      const float gf = FastSigmoid(zf[k] + kLstmForgetBias);
      const float go = FastSigmoid(zo[k]);
      const float cn = cp[k] * gf + gi * gj;
      zi[k] = gi;
      zj[k] = gj;
      zf[k] = gf;
      zo[k] = go;
      cr[k] = cn;
      hr[k] = FastTanh(cn) * go;
    }
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
    const float* __restrict gi = g;
    const float* __restrict gj = g + n;
    const float* __restrict gf = g + 2 * n;
    const float* __restrict go = g + 3 * n;
    const float* __restrict cp = c_prev ? c_prev + r * c_prev_ld : zeros;
    const float* __restrict cr = c + r * c_ld;
    const float* __restrict dhr = dh ? dh + r * dh_ld : zeros;
    float* __restrict dzi = dz + r * dz_ld;
    float* __restrict dzj = dzi + n;
    float* __restrict dzf = dzi + 2 * n;
    float* __restrict dzo = dzi + 3 * n;
    float* __restrict dcp = dc_prev ? dc_prev + r * dc_prev_ld : dc_prev_sink;
    for (int64_t k = 0; k < n; ++k) {
      const float vi = gi[k], vj = gj[k], vf = gf[k], vo = go[k];
      const float tc = FastTanh(cr[k]);
      const float g_h = dhr[k];
      const float g_c = dc_row[k] + g_h * vo * (1.0f - tc * tc);
      dzi[k] = g_c * vj * vi * (1.0f - vi);
      dzj[k] = g_c * vi * (1.0f - vj * vj);
      dzf[k] = g_c * cp[k] * vf * (1.0f - vf);
      dzo[k] = g_h * tc * vo * (1.0f - vo);
      dcp[k] = g_c * vf;
    }
  }
}

}  // namespace melody::cpu
