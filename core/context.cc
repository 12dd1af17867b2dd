#include "core/context.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "core/parallel_for.h"

#if MELODY_HAVE_CUDA
#include <cudnn.h>

#include "core/cublas_library.h"
#include "core/cuda_check.h"
#endif

namespace melody {

std::unique_ptr<Context> Context::CreateCpu(int num_threads) {
  std::unique_ptr<Context> ctx(new Context());
  ctx->device_ = Device::CPU();
  // <= 0: all cores, as every tool's --num_threads=0.
  ctx->num_threads_ = ResolveThreadCount(std::max(num_threads, 0), std::numeric_limits<int>::max());
  return ctx;
}

std::unique_ptr<Context> Context::CreateCuda(int index) {
  std::string reason = CudaUnavailableReason();
  MELODY_REQUIRE(reason.empty()) << "cannot create a CUDA context: " << reason;
#if MELODY_HAVE_CUDA
  std::unique_ptr<Context> ctx(new Context());
  ctx->device_ = Device::CUDA(index);
  MELODY_CUDA_CHECK(cudaSetDevice(index));
  // A blocking stream (not cudaStreamNonBlocking): Tensor's synchronous copies and
  // memsets run on the legacy default stream, and a blocking stream orders its kernels
  // with that work in both directions, so CopyTo/ToVector/SetZero never race with ops.
  MELODY_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx->stream_, cudaStreamDefault));
  cublasHandle_t blas = nullptr;
  const CublasLibrary& cublas = Cublas();
  MELODY_CUBLAS_CHECK(cublas.create(&blas));
  ctx->cublas_ = blas;
  MELODY_CUBLAS_CHECK(cublas.set_stream(blas, ctx->stream_));
  // FP32 math by default: TF32 would change results beyond the CPU-twin tolerances.
  MELODY_CUBLAS_CHECK(cublas.set_math_mode(blas, CUBLAS_DEFAULT_MATH));
  cudnnHandle_t dnn = nullptr;
  MELODY_CUDNN_CHECK(cudnnCreate(&dnn));
  ctx->cudnn_ = dnn;
  MELODY_CUDNN_CHECK(cudnnSetStream(dnn, ctx->stream_));
  return ctx;
#else
  (void)index;
  return nullptr;
#endif
}

Context::~Context() {
  if (device_.is_cpu()) {
    std::free(workspace_);
    return;
  }
#if MELODY_HAVE_CUDA
  if (workspace_) cudaFree(workspace_);
  if (cudnn_) cudnnDestroy(static_cast<cudnnHandle_t>(cudnn_));
  if (cublas_) Cublas().destroy(static_cast<cublasHandle_t>(cublas_));
  if (stream_) cudaStreamDestroy(stream_);
#endif
}

void Context::Synchronize() const {
#if MELODY_HAVE_CUDA
  if (device_.is_cuda()) MELODY_CUDA_CHECK(cudaStreamSynchronize(stream_));
#endif
}

void* Context::Workspace(size_t bytes) {
  if (bytes <= workspace_bytes_) return workspace_;
  if (device_.is_cpu()) {
    std::free(workspace_);
    workspace_ = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    MELODY_REQUIRE(workspace_) << "out of host memory for a " << bytes << "-byte workspace";
  } else {
#if MELODY_HAVE_CUDA
    Synchronize();  // the old workspace may still be in use by queued work
    if (workspace_) MELODY_CUDA_CHECK(cudaFree(workspace_));
    workspace_ = nullptr;
    MELODY_CUDA_CHECK(cudaMalloc(&workspace_, bytes));
#endif
  }
  workspace_bytes_ = bytes;
  return workspace_;
}

}  // namespace melody
