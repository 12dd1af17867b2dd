// Fast CPU path of kernels/linear.h: one sgemm per product, the bias folded in by
// pre-filling y with it and using beta = 1, the bias gradient as one pass of column sums.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/linear.h"

namespace melody::cpu {

void LinearForward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                   const Tensor& w, const Tensor& b, Tensor* y) {
  (void)ctx;
  float* out = y->data<float>();
  float beta = 0.0f;
  if (b.defined()) {
    const float* bias = b.data<float>();
    for (int64_t r = 0; r < d.rows; ++r)
      std::memcpy(out + r * d.out, bias, sizeof(float) * d.out);
    beta = 1.0f;
  }
  if (d.in == 0) {
    if (!b.defined()) std::fill(out, out + d.rows * d.out, 0.0f);
    return;
  }
  Sgemm(ctx.num_threads(), false, false, d.rows, d.out, d.in, 1.0f, x.data<float>(), d.in, w.data<float>(),
        d.out, beta, out, d.out);
}

void LinearBackward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                    const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                    GradMode mode) {
  (void)ctx;
  const float beta = mode == GradMode::kAccumulate ? 1.0f : 0.0f;
  const float* g = dy.data<float>();
  if (dx && d.in > 0) {
    if (d.out == 0) {
      if (beta == 0.0f) dx->SetZero();
    } else {
      // dx[M, K] = dy[M, out] · Wᵀ
      Sgemm(ctx.num_threads(), false, true, d.rows, d.in, d.out, 1.0f, g, d.out, w.data<float>(), d.out, beta,
            dx->data<float>(), d.in);
    }
  }
  if (dw && d.in > 0 && d.out > 0) {
    if (d.rows == 0) {
      if (beta == 0.0f) dw->SetZero();
    } else {
      // dw[K, out] = xᵀ · dy
      Sgemm(ctx.num_threads(), true, false, d.in, d.out, d.rows, 1.0f, x.data<float>(), d.in, g, d.out, beta,
            dw->data<float>(), d.out);
    }
  }
  if (db && d.out > 0) {
    // Column sums in row order: a fixed summation order, so the result does not depend
    // on the thread count. Summed in float like the GEMMs.
    std::vector<float> sums(d.out, 0.0f);
    for (int64_t r = 0; r < d.rows; ++r) {
      const float* row = g + r * d.out;
      for (int64_t j = 0; j < d.out; ++j) sums[j] += row[j];
    }
    float* out = db->data<float>();
    for (int64_t j = 0; j < d.out; ++j)
      out[j] = (mode == GradMode::kAccumulate ? out[j] : 0.0f) + sums[j];
  }
}

}  // namespace melody::cpu
