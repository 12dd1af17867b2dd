// Argument checks and dispatcher for kernels/lstm_layer.h.
#include "kernels/lstm_layer.h"

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {
namespace internal {

LstmLayerDims CheckLstmLayer(const char* op, const Tensor& x, const Tensor& lengths,
                             const Tensor& kernel, const Tensor& bias, const Tensor* y,
                             const Tensor* dy, const Tensor* dx, const Tensor* dkernel,
                             const Tensor* dbias) {
  MELODY_REQUIRE(x.defined()) << op << ": x is undefined";
  op_checks::CheckRank(x, op, "x", 3, x.dtype(), x.device());
  LstmLayerDims d;
  d.batch = x.dim(0);
  d.time = x.dim(1);
  d.input = x.dim(2);
  op_checks::CheckRank(kernel, op, "kernel", 2, x.dtype(), x.device());
  MELODY_REQUIRE(kernel.dim(1) % 4 == 0 && kernel.dim(0) == d.input + kernel.dim(1) / 4)
      << op << ": kernel " << ShapeToString(kernel.shape()) << " is not [I + N, 4N] for I = "
      << d.input;
  d.units = kernel.dim(1) / 4;
  op_checks::CheckTensor(bias, op, "bias", {4 * d.units}, x.dtype(), x.device());
  op_checks::CheckLengthsTensor(lengths, op, d.batch, x.device());
  const Shape out = {d.batch, d.time, d.units};
  if (y) op_checks::CheckTensor(*y, op, "y", out, x.dtype(), x.device());
  if (dy) op_checks::CheckTensor(*dy, op, "dy", out, x.dtype(), x.device());
  if (dx) op_checks::CheckTensor(*dx, op, "dx", x.shape(), x.dtype(), x.device());
  if (dkernel)
    op_checks::CheckTensor(*dkernel, op, "dkernel", kernel.shape(), x.dtype(), x.device());
  if (dbias) op_checks::CheckTensor(*dbias, op, "dbias", {4 * d.units}, x.dtype(), x.device());
  return d;
}

}  // namespace internal

void LstmLayerForward(Context& ctx, const Tensor& x, const Tensor& lengths,
                      const Tensor& kernel, const Tensor& bias, Tensor* y,
                      LstmLayerCache* cache) {
  const char* op = "LstmLayerForward";
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << op << ": x must live on the context's device " << ctx.device().ToString();
  MELODY_REQUIRE(y != nullptr) << op << ": y is null";
  const auto d = internal::CheckLstmLayer(op, x, lengths, kernel, bias, y, nullptr, nullptr,
                                          nullptr, nullptr);
  const std::vector<int32_t> host_lengths = op_checks::HostLengths(lengths, op, d.time);
  if (ctx.is_cpu())
    return cpu::LstmLayerForward(ctx, d, x, host_lengths, kernel, bias, y, cache);
#if MELODY_HAVE_CUDA
  return cuda::LstmLayerForward(ctx, d, x, host_lengths, kernel, bias, y, cache);
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

void LstmLayerBackward(Context& ctx, const Tensor& x, const Tensor& lengths,
                       const Tensor& kernel, const Tensor& bias, const Tensor& y,
                       const Tensor& dy, const LstmLayerCache& cache, Tensor* dx,
                       Tensor* dkernel, Tensor* dbias) {
  const char* op = "LstmLayerBackward";
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << op << ": x must live on the context's device " << ctx.device().ToString();
  MELODY_REQUIRE(cache.device == ctx.device() && cache.batch == x.dim(0) &&
                 cache.time == x.dim(1))
      << op << ": the cache was not filled by a forward pass of this batch on "
      << ctx.device().ToString();
  MELODY_REQUIRE(dkernel != nullptr && dbias != nullptr) << op << ": dkernel/dbias are null";
  // Only the cuDNN path reads the forward output y.
  const auto d = internal::CheckLstmLayer(op, x, lengths, kernel, bias,
                                          ctx.is_cpu() ? nullptr : &y, &dy, dx, dkernel, dbias);
  if (ctx.is_cpu())
    return cpu::LstmLayerBackward(ctx, d, x, lengths, kernel, bias, y, dy, cache, dx, dkernel,
                                  dbias);
#if MELODY_HAVE_CUDA
  return cuda::LstmLayerBackward(ctx, d, x, lengths, kernel, bias, y, dy, cache, dx, dkernel,
                                 dbias);
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

}  // namespace melody
