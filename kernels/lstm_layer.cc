// Argument checks and dispatcher for kernels/lstm_layer.h.
#include "kernels/lstm_layer.h"

#include "core/error.h"
#include "kernels/cpu/lstm_layer_cpu.h"
#include "kernels/tensor_checks.h"
#if MELODY_HAVE_CUDA
#include "kernels/cuda/lstm_layer_cuda.h"
#endif

namespace melody {
namespace internal {

LstmLayerDims CheckLstmLayer(const char* op, const Tensor& x, const Tensor& lengths,
                             const Tensor& kernel, const Tensor& bias, const Tensor* y,
                             const Tensor* dy, const Tensor* dx, const Tensor* dkernel,
                             const Tensor* dbias) {
  MELODY_REQUIRE(x.defined()) << op << ": x is undefined";
  kernel_checks::CheckRank(x, op, "x", 3, x.dtype(), x.device());
  LstmLayerDims d;
  d.batch = x.dim(0);
  d.time = x.dim(1);
  d.input = x.dim(2);
  kernel_checks::CheckRank(kernel, op, "kernel", 2, x.dtype(), x.device());
  MELODY_REQUIRE(kernel.dim(1) % 4 == 0 && kernel.dim(0) == d.input + kernel.dim(1) / 4)
      << op << ": kernel " << ShapeToString(kernel.shape()) << " is not [I + N, 4N] for I = "
      << d.input;
  d.units = kernel.dim(1) / 4;
  kernel_checks::CheckTensor(bias, op, "bias", {4 * d.units}, x.dtype(), x.device());
  MELODY_REQUIRE(lengths.defined()) << op << ": lengths is undefined";
  kernel_checks::CheckTensor(lengths, op, "lengths", {d.batch}, DType::kInt32,
                             lengths.device().is_cpu() ? Device::CPU() : x.device());
  const Shape out = {d.batch, d.time, d.units};
  if (y) kernel_checks::CheckTensor(*y, op, "y", out, x.dtype(), x.device());
  if (dy) kernel_checks::CheckTensor(*dy, op, "dy", out, x.dtype(), x.device());
  if (dx) kernel_checks::CheckTensor(*dx, op, "dx", x.shape(), x.dtype(), x.device());
  if (dkernel)
    kernel_checks::CheckTensor(*dkernel, op, "dkernel", kernel.shape(), x.dtype(), x.device());
  if (dbias) kernel_checks::CheckTensor(*dbias, op, "dbias", {4 * d.units}, x.dtype(), x.device());
  return d;
}

std::vector<int32_t> HostLengths(const char* op, const Tensor& lengths, int64_t time) {
  std::vector<int32_t> host(static_cast<size_t>(lengths.numel()));
  if (!host.empty()) {
    Tensor cpu = lengths.device().is_cpu() ? lengths : lengths.CopyTo(Device::CPU());
    const int32_t* p = cpu.data<int32_t>();
    host.assign(p, p + host.size());
  }
  for (size_t b = 0; b < host.size(); ++b)
    MELODY_REQUIRE(host[b] >= 0 && host[b] <= time)
        << op << ": lengths[" << b << "] = " << host[b] << " is outside [0, " << time << "]";
  return host;
}

}  // namespace internal

void LstmLayerForward(Context& ctx, const Tensor& x, const Tensor& lengths,
                      const Tensor& kernel, const Tensor& bias, Tensor* y,
                      LstmLayerCache* cache) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LstmLayerForward: x must live on the context's device " << ctx.device().ToString();
  if (ctx.is_cpu()) return cpu::LstmLayerForward(ctx, x, lengths, kernel, bias, y, cache);
#if MELODY_HAVE_CUDA
  return cuda::LstmLayerForward(ctx, x, lengths, kernel, bias, y, cache);
#else
  MELODY_FAIL() << "LstmLayerForward on " << ctx.device().ToString() << ": "
                << CudaUnavailableReason();
#endif
}

void LstmLayerBackward(Context& ctx, const Tensor& x, const Tensor& lengths,
                       const Tensor& kernel, const Tensor& bias, const Tensor& y,
                       const Tensor& dy, const LstmLayerCache& cache, Tensor* dx,
                       Tensor* dkernel, Tensor* dbias) {
  MELODY_REQUIRE(x.defined() && x.device() == ctx.device())
      << "LstmLayerBackward: x must live on the context's device " << ctx.device().ToString();
  MELODY_REQUIRE(cache.device == ctx.device() && cache.batch == x.dim(0) &&
                 cache.time == x.dim(1))
      << "LstmLayerBackward: the cache was not filled by a forward pass of this batch on "
      << ctx.device().ToString();
  if (ctx.is_cpu())
    return cpu::LstmLayerBackward(ctx, x, lengths, kernel, bias, y, dy, cache, dx, dkernel,
                                  dbias);
#if MELODY_HAVE_CUDA
  return cuda::LstmLayerBackward(ctx, x, lengths, kernel, bias, y, dy, cache, dx, dkernel,
                                 dbias);
#else
  MELODY_FAIL() << "LstmLayerBackward on " << ctx.device().ToString() << ": "
                << CudaUnavailableReason();
#endif
}

}  // namespace melody
