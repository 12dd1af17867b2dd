// Argument checks and dispatcher for kernels/lstm_cell.h: CPU -> kernels/cpu/lstm_cell.cc,
// CUDA -> kernels/cuda/lstm_cell.cu; a CUDA context in a build without CUDA is an error.
#include "kernels/lstm_cell.h"

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {
namespace internal {

using op_checks::CheckOutput;
using op_checks::CheckRank;
using op_checks::CheckTensor;

LstmCellDims CheckLstmGatesForward(const char* op, const Tensor& z, const Tensor& c_prev,
                                   const Tensor* gates, const Tensor* c, const Tensor* h) {
  MELODY_REQUIRE(z.defined()) << op << ": z is undefined";
  CheckRank(z, op, "z", 2, z.dtype(), z.device());
  MELODY_REQUIRE(z.dim(1) % 4 == 0) << op << ": z " << ShapeToString(z.shape())
                                    << " must have 4N columns";
  LstmCellDims d;
  d.batch = z.dim(0);
  d.units = z.dim(1) / 4;
  const DType t = z.dtype();
  const Device dev = z.device();
  CheckTensor(c_prev, op, "c_prev", {d.batch, d.units}, t, dev);
  CheckOutput(gates, op, "gates", z.shape(), t, dev);
  CheckOutput(c, op, "c", {d.batch, d.units}, t, dev);
  CheckOutput(h, op, "h", {d.batch, d.units}, t, dev);
  return d;
}

LstmCellDims CheckLstmGatesBackward(const char* op, const Tensor& gates,
                                    const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                                    const Tensor& dc, const Tensor* dz,
                                    const Tensor* dc_prev) {
  MELODY_REQUIRE(gates.defined()) << op << ": gates is undefined";
  CheckRank(gates, op, "gates", 2, gates.dtype(), gates.device());
  MELODY_REQUIRE(gates.dim(1) % 4 == 0)
      << op << ": gates " << ShapeToString(gates.shape()) << " must have 4N columns";
  LstmCellDims d;
  d.batch = gates.dim(0);
  d.units = gates.dim(1) / 4;
  const DType t = gates.dtype();
  const Device dev = gates.device();
  const Shape state = {d.batch, d.units};
  CheckTensor(c_prev, op, "c_prev", state, t, dev);
  CheckTensor(c, op, "c", state, t, dev);
  if (dh.defined()) CheckTensor(dh, op, "dh", state, t, dev);
  if (dc.defined()) CheckTensor(dc, op, "dc", state, t, dev);
  CheckOutput(dz, op, "dz", gates.shape(), t, dev);
  CheckOutput(dc_prev, op, "dc_prev", state, t, dev);
  return d;
}

LstmCellDims CheckLstmCellForward(const char* op, const Tensor& x, const Tensor& c_prev,
                                  const Tensor& h_prev, const Tensor& kernel,
                                  const Tensor& bias, const Tensor* gates, const Tensor* c,
                                  const Tensor* h) {
  MELODY_REQUIRE(x.defined()) << op << ": x is undefined";
  CheckRank(x, op, "x", 2, x.dtype(), x.device());
  CheckRank(kernel, op, "kernel", 2, x.dtype(), x.device());
  LstmCellDims d;
  d.batch = x.dim(0);
  d.input = x.dim(1);
  MELODY_REQUIRE(kernel.dim(1) % 4 == 0 && kernel.dim(0) == d.input + kernel.dim(1) / 4)
      << op << ": kernel " << ShapeToString(kernel.shape()) << " is not [I + N, 4N] for I = "
      << d.input;
  d.units = kernel.dim(1) / 4;
  const Shape state = {d.batch, d.units};
  CheckTensor(c_prev, op, "c_prev", state, x.dtype(), x.device());
  CheckTensor(h_prev, op, "h_prev", state, x.dtype(), x.device());
  CheckTensor(bias, op, "bias", {4 * d.units}, x.dtype(), x.device());
  CheckOutput(gates, op, "gates", {d.batch, 4 * d.units}, x.dtype(), x.device());
  CheckOutput(c, op, "c", state, x.dtype(), x.device());
  CheckOutput(h, op, "h", state, x.dtype(), x.device());
  return d;
}

LstmCellDims CheckLstmCellBackward(const char* op, const Tensor& x, const Tensor& c_prev,
                                   const Tensor& h_prev, const Tensor& kernel,
                                   const Tensor& gates, const Tensor& c, const Tensor& dh,
                                   const Tensor& dc, const Tensor* dx, const Tensor* dh_prev,
                                   const Tensor* dc_prev, const Tensor* dkernel,
                                   const Tensor* dbias) {
  MELODY_REQUIRE(x.defined()) << op << ": x is undefined";
  CheckRank(x, op, "x", 2, x.dtype(), x.device());
  CheckRank(kernel, op, "kernel", 2, x.dtype(), x.device());
  LstmCellDims d;
  d.batch = x.dim(0);
  d.input = x.dim(1);
  MELODY_REQUIRE(kernel.dim(1) % 4 == 0 && kernel.dim(0) == d.input + kernel.dim(1) / 4)
      << op << ": kernel " << ShapeToString(kernel.shape()) << " is not [I + N, 4N] for I = "
      << d.input;
  d.units = kernel.dim(1) / 4;
  const DType t = x.dtype();
  const Device dev = x.device();
  const Shape state = {d.batch, d.units};
  CheckTensor(c_prev, op, "c_prev", state, t, dev);
  CheckTensor(h_prev, op, "h_prev", state, t, dev);
  CheckTensor(gates, op, "gates", {d.batch, 4 * d.units}, t, dev);
  CheckTensor(c, op, "c", state, t, dev);
  if (dh.defined()) CheckTensor(dh, op, "dh", state, t, dev);
  if (dc.defined()) CheckTensor(dc, op, "dc", state, t, dev);
  if (dx) CheckOutput(dx, op, "dx", x.shape(), t, dev);
  CheckOutput(dh_prev, op, "dh_prev", state, t, dev);
  CheckOutput(dc_prev, op, "dc_prev", state, t, dev);
  CheckOutput(dkernel, op, "dkernel", kernel.shape(), t, dev);
  CheckOutput(dbias, op, "dbias", {4 * d.units}, t, dev);
  return d;
}

}  // namespace internal

#if MELODY_HAVE_CUDA
#define MELODY_LSTM_DISPATCH(name, ...)                    \
  if (ctx.is_cpu()) return cpu::name(ctx, d, __VA_ARGS__); \
  return cuda::name(ctx, d, __VA_ARGS__)
#else
#define MELODY_LSTM_DISPATCH(name, ...)                    \
  if (ctx.is_cpu()) return cpu::name(ctx, d, __VA_ARGS__); \
  op_checks::FailNoCuda(#name, ctx)
#endif

void LstmGatesForward(Context& ctx, const Tensor& z, const Tensor& c_prev, Tensor* gates,
                      Tensor* c, Tensor* h) {
  const auto d = internal::CheckLstmGatesForward("LstmGatesForward", z, c_prev, gates, c, h);
  MELODY_LSTM_DISPATCH(LstmGatesForward, z, c_prev, gates, c, h);
}

void LstmGatesBackward(Context& ctx, const Tensor& gates, const Tensor& c_prev,
                       const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dz,
                       Tensor* dc_prev) {
  const auto d = internal::CheckLstmGatesBackward("LstmGatesBackward", gates, c_prev, c, dh,
                                                  dc, dz, dc_prev);
  MELODY_LSTM_DISPATCH(LstmGatesBackward, gates, c_prev, c, dh, dc, dz, dc_prev);
}

void LstmCellForward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                     const Tensor& h_prev, const Tensor& kernel, const Tensor& bias,
                     Tensor* gates, Tensor* c, Tensor* h) {
  const auto d = internal::CheckLstmCellForward("LstmCellForward", x, c_prev, h_prev, kernel,
                                                bias, gates, c, h);
  MELODY_LSTM_DISPATCH(LstmCellForward, x, c_prev, h_prev, kernel, bias, gates, c, h);
}

void LstmCellBackward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                      const Tensor& h_prev, const Tensor& kernel, const Tensor& gates,
                      const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dx,
                      Tensor* dh_prev, Tensor* dc_prev, Tensor* dkernel, Tensor* dbias) {
  const auto d =
      internal::CheckLstmCellBackward("LstmCellBackward", x, c_prev, h_prev, kernel, gates, c,
                                      dh, dc, dx, dh_prev, dc_prev, dkernel, dbias);
  MELODY_LSTM_DISPATCH(LstmCellBackward, x, c_prev, h_prev, kernel, gates, c, dh, dc, dx,
                       dh_prev, dc_prev, dkernel, dbias);
}

#undef MELODY_LSTM_DISPATCH

}  // namespace melody
