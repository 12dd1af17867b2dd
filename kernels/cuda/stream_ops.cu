// CUDA twin of kernels/stream_ops.h: copies and fills queued on the context's stream.
#include "kernels/cuda/common.cuh"
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

void ZeroOnStream(Context& ctx, Tensor* t) { ZeroFill(ctx.stream(), t->raw_data(), t->nbytes()); }

}  // namespace melody::cuda
