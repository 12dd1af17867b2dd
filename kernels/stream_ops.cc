// Argument checks and dispatch of the stream-ordered copies and fills
// (kernels/stream_ops.h).
#include "kernels/stream_ops.h"

#include <string>

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {

void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst) {
  MELODY_REQUIRE(dst != nullptr && src.dtype() == dst->dtype() && src.numel() == dst->numel())
      << "CopyOnStream: " << DTypeName(src.dtype()) << ShapeToString(src.shape()) << " into "
      << (dst ? DTypeName(dst->dtype()) + ShapeToString(dst->shape()) : std::string("null"));
  MELODY_REQUIRE((src.device().is_cpu() || src.device() == ctx.device()) &&
                 (dst->device().is_cpu() || dst->device() == ctx.device()))
      << "CopyOnStream: tensors must be on the host or on " << ctx.device().ToString();
  if (src.device().is_cpu() && dst->device().is_cpu()) return cpu::CopyOnStream(ctx, src, dst);
#if MELODY_HAVE_CUDA
  cuda::CopyOnStream(ctx, src, dst);
#else
  op_checks::FailNoCuda("CopyOnStream", ctx);
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
  if (ctx.is_cpu()) return cpu::ZeroOnStream(ctx, t);
#if MELODY_HAVE_CUDA
  cuda::ZeroOnStream(ctx, t);
#else
  op_checks::FailNoCuda("ZeroOnStream", ctx);
#endif
}

}  // namespace melody
