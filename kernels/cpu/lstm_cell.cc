// Fast CPU path of kernels/lstm_cell.h. Forward: gates ← x·W_x (sgemm, beta 0), gates +=
// h_prev·W_h (sgemm, beta 1), then one fused pass adds the bias and applies the gates in
// place; no [x ; h] concatenation is materialised. Backward: one fused pass to dz, then
// sgemms for d[x ; h] and the weight gradient (accumulated with beta = 1).
#include <cstring>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/lstm_gates.h"
#include "kernels/lstm_cell.h"

namespace melody::cpu {

void LstmGatesForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& z,
                      const Tensor& c_prev, Tensor* gates, Tensor* c, Tensor* h) {
  const int64_t n = d.units;
  float* g = gates->data<float>();
  if (g != z.data<float>()) std::memcpy(g, z.data<float>(), z.nbytes());
  ParallelFor(ctx.num_threads(), d.batch, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
    LstmGatesForwardRows(r0, r1, n, g, 4 * n, nullptr, c_prev.data<float>(), n,
                         c->data<float>(), n, h->data<float>(), n);
  });
}

void LstmGatesBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& gates,
                       const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                       const Tensor& dc, Tensor* dz, Tensor* dc_prev) {
  const int64_t n = d.units;
  const float* dhp = dh.defined() ? dh.data<float>() : nullptr;
  const float* dcp = dc.defined() ? dc.data<float>() : nullptr;
  ParallelFor(ctx.num_threads(), d.batch, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
    LstmGatesBackwardRows(r0, r1, n, gates.data<float>(), 4 * n, c_prev.data<float>(), n,
                          c.data<float>(), n, dhp, n, dcp, n, dz->data<float>(), 4 * n,
                          dc_prev->data<float>(), n);
  });
}

void LstmCellForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                     const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                     const Tensor& bias, Tensor* gates, Tensor* c, Tensor* h) {
  const int64_t n = d.units, n4 = 4 * d.units;
  const float* w = kernel.data<float>();
  float* g = gates->data<float>();
  if (d.input > 0) {
    Sgemm(ctx.num_threads(), false, false, d.batch, n4, d.input, 1.0f, x.data<float>(), d.input, w, n4, 0.0f, g,
          n4);
    Sgemm(ctx.num_threads(), false, false, d.batch, n4, n, 1.0f, h_prev.data<float>(), n, w + d.input * n4, n4,
          1.0f, g, n4);
  } else {
    Sgemm(ctx.num_threads(), false, false, d.batch, n4, n, 1.0f, h_prev.data<float>(), n, w, n4, 0.0f, g, n4);
  }
  ParallelFor(ctx.num_threads(), d.batch, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
    LstmGatesForwardRows(r0, r1, n, g, n4, bias.data<float>(), c_prev.data<float>(), n,
                         c->data<float>(), n, h->data<float>(), n);
  });
}

void LstmCellBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                      const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                      const Tensor& gates, const Tensor& c, const Tensor& dh,
                      const Tensor& dc, Tensor* dx, Tensor* dh_prev, Tensor* dc_prev,
                      Tensor* dkernel, Tensor* dbias) {
  const int64_t n = d.units, n4 = 4 * d.units;
  // dz lives in a per-thread scratch buffer (not ctx.Workspace(), which a caller's step
  // loop may be holding).
  thread_local std::vector<float> dz_buffer;
  dz_buffer.resize(static_cast<size_t>(d.batch * n4));
  float* dz = dz_buffer.data();
  const float* dhp = dh.defined() ? dh.data<float>() : nullptr;
  const float* dcp = dc.defined() ? dc.data<float>() : nullptr;
  ParallelFor(ctx.num_threads(), d.batch, kGateRowsPerChunk, [&](int64_t r0, int64_t r1) {
    LstmGatesBackwardRows(r0, r1, n, gates.data<float>(), n4, c_prev.data<float>(), n,
                          c.data<float>(), n, dhp, n, dcp, n, dz, n4,
                          dc_prev->data<float>(), n);
  });
  const float* w = kernel.data<float>();
  float* dw = dkernel->data<float>();
  // d[x ; h_prev] = dz · Wᵀ, split by row block of W.
  if (dx && d.input > 0)
    Sgemm(ctx.num_threads(), false, true, d.batch, d.input, n4, 1.0f, dz, n4, w, n4, 0.0f, dx->data<float>(),
          d.input);
  Sgemm(ctx.num_threads(), false, true, d.batch, n, n4, 1.0f, dz, n4, w + d.input * n4, n4, 0.0f,
        dh_prev->data<float>(), n);
  // dW[x rows] += xᵀ·dz, dW[h rows] += h_prevᵀ·dz.
  if (d.input > 0)
    Sgemm(ctx.num_threads(), true, false, d.input, n4, d.batch, 1.0f, x.data<float>(), d.input, dz, n4, 1.0f, dw,
          n4);
  Sgemm(ctx.num_threads(), true, false, n, n4, d.batch, 1.0f, h_prev.data<float>(), n, dz, n4, 1.0f,
        dw + d.input * n4, n4);
  // db += column sums of dz, rows in order (fixed summation order).
  float* db = dbias->data<float>();
  for (int64_t r = 0; r < d.batch; ++r) {
    const float* row = dz + r * n4;
    for (int64_t k = 0; k < n4; ++k) db[k] += row[k];
  }
}

}  // namespace melody::cpu
