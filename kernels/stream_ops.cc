#include "kernels/stream_ops.h"

#include <cstring>

#include "core/error.h"

namespace melody {

void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst) {
  MELODY_REQUIRE(dst != nullptr && src.dtype() == dst->dtype() && src.numel() == dst->numel())
      << "CopyOnStream: " << DTypeName(src.dtype()) << ShapeToString(src.shape()) << " into "
      << (dst ? DTypeName(dst->dtype()) + ShapeToString(dst->shape()) : std::string("null"));
  MELODY_REQUIRE((src.device().is_cpu() || src.device() == ctx.device()) &&
                 (dst->device().is_cpu() || dst->device() == ctx.device()))
      << "CopyOnStream: tensors must be on the host or on " << ctx.device().ToString();
  if (src.device().is_cpu() && dst->device().is_cpu()) {
    if (src.nbytes() > 0) std::memcpy(dst->raw_data(), src.raw_data(), src.nbytes());
    return;
  }
#if MELODY_HAVE_CUDA
  cuda::CopyOnStream(ctx, src, dst);
#else
  MELODY_FAIL() << "CopyOnStream on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

Tensor CopyToContext(Context& ctx, const Tensor& src) {
  Tensor out(src.shape(), src.dtype(), ctx.device());
  CopyOnStream(ctx, src, &out);
  return out;
}

void ZeroOnStream(Context& ctx, Tensor* t) {
  MELODY_REQUIRE(t != nullptr && t->device() == ctx.device())
      << "ZeroOnStream: tensor must be on " << ctx.device().ToString();
  if (ctx.is_cpu()) {
    if (t->nbytes() > 0) std::memset(t->raw_data(), 0, t->nbytes());
    return;
  }
#if MELODY_HAVE_CUDA
  cuda::ZeroOnStream(ctx, t);
#else
  MELODY_FAIL() << "ZeroOnStream on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

}  // namespace melody
