// Copies and fills queued on the context's stream: they run after all work already queued
// on ctx and before all work queued after them, without blocking the host for
// device-to-device work. (Tensor::CopyFrom / SetZero are ordered too, since the context's
// stream is a blocking one (core/context.cc), but they go through the legacy default
// stream and synchronize.) On the CPU they are plain memcpy / memset.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// dst <- src (same dtype and element count; either may live on the host or on ctx's
// device). Returns after the copy has completed when either side is host memory.
void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst);
// A new tensor on ctx's device holding a copy of `src` (copied with CopyOnStream).
Tensor CopyToContext(Context& ctx, const Tensor& src);
// t <- 0 (t on ctx's device).
void ZeroOnStream(Context& ctx, Tensor* t);

// The twins the dispatcher (kernels/stream_ops.cc) calls with checked arguments. No
// reference:: twin: a copy is its own definition.
namespace cpu {  // kernels/cpu/stream_ops.cc: memcpy / memset (both sides on the host)
void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst);
void ZeroOnStream(Context& ctx, Tensor* t);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/stream_ops.cu: cudaMemcpyAsync / cudaMemsetAsync on ctx's stream
void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst);
void ZeroOnStream(Context& ctx, Tensor* t);
}  // namespace cuda
#endif

}  // namespace melody
