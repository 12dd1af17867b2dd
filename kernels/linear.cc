// Dispatcher and argument checks for kernels/linear.h.
#include "kernels/linear.h"

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {
namespace internal {

namespace {
Shape WithLastDim(const Shape& shape, int64_t last) {
  Shape out = shape;
  out.back() = last;
  return out;
}
}  // namespace

LinearDims CheckLinearForward(const char* op, const Tensor& x, const Tensor& w,
                              const Tensor& b, const Tensor* y) {
  MELODY_REQUIRE(x.defined() && x.rank() >= 2)
      << op << ": x must have rank >= 2, got "
      << (x.defined() ? ShapeToString(x.shape()) : std::string("undefined"));
  op_checks::CheckRank(w, op, "w", 2, x.dtype(), x.device());
  LinearDims d;
  d.in = w.dim(0);
  d.out = w.dim(1);
  MELODY_REQUIRE(x.dim(-1) == d.in) << op << ": x " << ShapeToString(x.shape())
                                    << " does not match w " << ShapeToString(w.shape());
  d.rows = x.numel() / d.in;
  if (b.defined()) op_checks::CheckTensor(b, op, "b", {d.out}, x.dtype(), x.device());
  op_checks::CheckOutput(y, op, "y", WithLastDim(x.shape(), d.out), x.dtype(),
                             x.device());
  return d;
}

LinearDims CheckLinearBackward(const char* op, const Tensor& x, const Tensor& w,
                               const Tensor& dy, const Tensor* dx, const Tensor* dw,
                               const Tensor* db) {
  MELODY_REQUIRE(x.defined() && x.rank() >= 2) << op << ": x must have rank >= 2";
  op_checks::CheckRank(w, op, "w", 2, x.dtype(), x.device());
  LinearDims d;
  d.in = w.dim(0);
  d.out = w.dim(1);
  MELODY_REQUIRE(x.dim(-1) == d.in) << op << ": x " << ShapeToString(x.shape())
                                    << " does not match w " << ShapeToString(w.shape());
  d.rows = x.numel() / d.in;
  op_checks::CheckTensor(dy, op, "dy", WithLastDim(x.shape(), d.out), x.dtype(),
                             x.device());
  if (dx) op_checks::CheckOutput(dx, op, "dx", x.shape(), x.dtype(), x.device());
  if (dw) op_checks::CheckOutput(dw, op, "dw", w.shape(), x.dtype(), x.device());
  if (db) op_checks::CheckOutput(db, op, "db", {d.out}, x.dtype(), x.device());
  return d;
}

}  // namespace internal

void LinearForward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                   Tensor* y) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LinearForward: x must live on the context's device " << ctx.device().ToString();
  const auto d = internal::CheckLinearForward("LinearForward", x, w, b, y);
  if (ctx.is_cpu()) return cpu::LinearForward(ctx, d, x, w, b, y);
#if MELODY_HAVE_CUDA
  return cuda::LinearForward(ctx, d, x, w, b, y);
#else
  op_checks::FailNoCuda("LinearForward", ctx);
#endif
}

void LinearBackward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy,
                    Tensor* dx, Tensor* dw, Tensor* db, GradMode mode) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LinearBackward: x must live on the context's device " << ctx.device().ToString();
  const auto d = internal::CheckLinearBackward("LinearBackward", x, w, dy, dx, dw, db);
  if (ctx.is_cpu()) return cpu::LinearBackward(ctx, d, x, w, dy, dx, dw, db, mode);
#if MELODY_HAVE_CUDA
  return cuda::LinearBackward(ctx, d, x, w, dy, dx, dw, db, mode);
#else
  op_checks::FailNoCuda("LinearBackward", ctx);
#endif
}

}  // namespace melody
