// Dispatcher and argument checks for kernels/linear.h.
#include "kernels/linear.h"

#include "core/error.h"
#include "kernels/cpu/linear_cpu.h"
#include "kernels/tensor_checks.h"
#if MELODY_HAVE_CUDA
#include "kernels/cuda/linear_cuda.h"
#endif

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
  kernel_checks::CheckRank(w, op, "w", 2, x.dtype(), x.device());
  LinearDims d;
  d.in = w.dim(0);
  d.out = w.dim(1);
  MELODY_REQUIRE(x.dim(-1) == d.in) << op << ": x " << ShapeToString(x.shape())
                                    << " does not match w " << ShapeToString(w.shape());
  d.rows = x.numel() / d.in;
  if (b.defined()) kernel_checks::CheckTensor(b, op, "b", {d.out}, x.dtype(), x.device());
  kernel_checks::CheckOutput(y, op, "y", WithLastDim(x.shape(), d.out), x.dtype(),
                             x.device());
  return d;
}

LinearDims CheckLinearBackward(const char* op, const Tensor& x, const Tensor& w,
                               const Tensor& dy, const Tensor* dx, const Tensor* dw,
                               const Tensor* db) {
  MELODY_REQUIRE(x.defined() && x.rank() >= 2) << op << ": x must have rank >= 2";
  kernel_checks::CheckRank(w, op, "w", 2, x.dtype(), x.device());
  LinearDims d;
  d.in = w.dim(0);
  d.out = w.dim(1);
  MELODY_REQUIRE(x.dim(-1) == d.in) << op << ": x " << ShapeToString(x.shape())
                                    << " does not match w " << ShapeToString(w.shape());
  d.rows = x.numel() / d.in;
  kernel_checks::CheckTensor(dy, op, "dy", WithLastDim(x.shape(), d.out), x.dtype(),
                             x.device());
  if (dx) kernel_checks::CheckOutput(dx, op, "dx", x.shape(), x.dtype(), x.device());
  if (dw) kernel_checks::CheckOutput(dw, op, "dw", w.shape(), x.dtype(), x.device());
  if (db) kernel_checks::CheckOutput(db, op, "db", {d.out}, x.dtype(), x.device());
  return d;
}

}  // namespace internal

void LinearForward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                   Tensor* y) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LinearForward: x must live on the context's device " << ctx.device().ToString();
  if (ctx.is_cpu()) return cpu::LinearForward(ctx, x, w, b, y);
#if MELODY_HAVE_CUDA
  return cuda::LinearForward(ctx, x, w, b, y);
#else
  MELODY_FAIL() << "LinearForward on " << ctx.device().ToString() << ": "
                << CudaUnavailableReason();
#endif
}

void LinearBackward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy,
                    Tensor* dx, Tensor* dw, Tensor* db, GradMode mode) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LinearBackward: x must live on the context's device " << ctx.device().ToString();
  if (ctx.is_cpu()) return cpu::LinearBackward(ctx, x, w, dy, dx, dw, db, mode);
#if MELODY_HAVE_CUDA
  return cuda::LinearBackward(ctx, x, w, dy, dx, dw, db, mode);
#else
  MELODY_FAIL() << "LinearBackward on " << ctx.device().ToString() << ": "
                << CudaUnavailableReason();
#endif
}

}  // namespace melody
