#include "kernels/lstm_cell_checks.h"

#include "core/error.h"
#include "kernels/tensor_checks.h"

namespace melody::internal {

using kernel_checks::CheckOutput;
using kernel_checks::CheckRank;
using kernel_checks::CheckTensor;

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

}  // namespace melody::internal
