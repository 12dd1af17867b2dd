// Copies and fills ordered on the context's stream. Tensor::CopyFrom / SetZero use the
// legacy default CUDA stream, which does NOT order with the contexts' non-blocking streams
// (core/context.cc), so a device buffer reused across steps must be written through these
// instead: they run after all work already queued on ctx, and before all work queued after
// them. On the CPU they are plain memcpy / memset.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// dst <- src (same dtype and element count; either may live on the host or on ctx's
// device). Returns after the copy has completed when either side is host memory.
void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst);
// t <- 0 (t on ctx's device).
void ZeroOnStream(Context& ctx, Tensor* t);

#if MELODY_HAVE_CUDA
namespace cuda {
void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst);
void ZeroOnStream(Context& ctx, Tensor* t);
}  // namespace cuda
#endif

}  // namespace melody
