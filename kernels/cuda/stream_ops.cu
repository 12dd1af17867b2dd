// CUDA twin of kernels/stream_ops.h: copies and fills queued on the context's stream.
#include "core/cuda_check.h"
#include "kernels/stream_ops.h"

namespace melody::cuda {

void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst) {
  if (src.nbytes() == 0) return;
  const bool host_src = src.device().is_cpu(), host_dst = dst->device().is_cpu();
  const cudaMemcpyKind kind = host_src ? cudaMemcpyHostToDevice
                              : host_dst ? cudaMemcpyDeviceToHost
                                         : cudaMemcpyDeviceToDevice;
  MELODY_CUDA_CHECK(cudaMemcpyAsync(dst->raw_data(), src.raw_data(), src.nbytes(), kind,
                                    ctx.stream()));
  // Host buffers are pageable and owned by the caller: finish before returning.
  if (host_src || host_dst) MELODY_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
}

void ZeroOnStream(Context& ctx, Tensor* t) {
  if (t->nbytes() == 0) return;
  MELODY_CUDA_CHECK(cudaMemsetAsync(t->raw_data(), 0, t->nbytes(), ctx.stream()));
}

}  // namespace melody::cuda
