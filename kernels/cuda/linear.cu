// CUDA twin of kernels/linear.h: bias broadcast into y, then one cuBLAS SGEMM with beta 1;
// backward as two SGEMMs and a deterministic column-sum kernel for db.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dense_cuda_util.h"
#include "kernels/linear.h"

namespace melody::cuda {

void LinearForward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                   const Tensor& w, const Tensor& b, Tensor* y) {
  float* out = y->data<float>();
  float beta = 0.0f;
  if (b.defined()) {
    BroadcastRows(ctx.stream(), b.data<float>(), d.rows, d.out, out);
    beta = 1.0f;
  }
  if (d.in == 0) {
    if (!b.defined()) ZeroFill(ctx.stream(), out, y->nbytes());
    return;
  }
  // y[M, out] = x[M, K] · W[K, out]
  SgemmRowMajor(CublasHandle(ctx), false, false, d.rows, d.out, d.in, 1.0f, x.data<float>(), d.in,
                w.data<float>(), d.out, beta, out, d.out);
}

void LinearBackward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                    const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                    GradMode mode) {
  const bool acc = mode == GradMode::kAccumulate;
  const float beta = acc ? 1.0f : 0.0f;
  const float* g = dy.data<float>();
  if (dx && d.in > 0) {
    if (d.out == 0) {
      if (!acc) ZeroFill(ctx.stream(), dx->raw_data(), dx->nbytes());
    } else {
      // dx[M, K] = dy[M, out] · Wᵀ
      SgemmRowMajor(CublasHandle(ctx), false, true, d.rows, d.in, d.out, 1.0f, g, d.out,
                    w.data<float>(), d.out, beta, dx->data<float>(), d.in);
    }
  }
  if (dw && d.in > 0 && d.out > 0) {
    if (d.rows == 0) {
      if (!acc) ZeroFill(ctx.stream(), dw->raw_data(), dw->nbytes());
    } else {
      // dw[K, out] = xᵀ · dy
      SgemmRowMajor(CublasHandle(ctx), true, false, d.in, d.out, d.rows, 1.0f, x.data<float>(),
                    d.in, g, d.out, beta, dw->data<float>(), d.out);
    }
  }
  if (db) ColumnSums(ctx.stream(), g, d.rows, d.out, db->data<float>(), acc);
}

}  // namespace melody::cuda
