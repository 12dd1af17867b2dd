// Per-device execution context passed to every op. Ops are free functions
// `Op(Context&, ...)` that dispatch on ctx.device(): the CPU path uses `num_threads`
// (OpenBLAS and our loops), the CUDA path the stream, cuBLAS/cuDNN handles and workspace.
// This header exposes the CUDA runtime's stream type only: the cuBLAS and cuDNN handles
// are opaque here, and the CUDA kernels read them through kernels/cuda/common.cuh
// (CublasHandle(ctx), CudnnHandle(ctx)), so code outside kernels/ sees neither library.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

#if MELODY_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace melody {

class Context {
 public:
  // CPU context; num_threads <= 0 means all cores.
  static std::unique_ptr<Context> CreateCpu(int num_threads = 0);
  // CUDA context on device `index` (stream + cuBLAS + cuDNN handles). Throws melody::Error
  // with CudaUnavailableReason() when the build or the machine has no CUDA.
  static std::unique_ptr<Context> CreateCuda(int index = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  bool is_cpu() const { return device_.is_cpu(); }
  bool is_cuda() const { return device_.is_cuda(); }
  int num_threads() const { return num_threads_; }

  // Blocks until all work queued on this context has finished (no-op on the CPU).
  void Synchronize() const;

  // Scratch memory on this context's device, grown on demand, valid until the next call.
  void* Workspace(size_t bytes);

#if MELODY_HAVE_CUDA
  cudaStream_t stream() const { return stream_; }
  // The cublasHandle_t and cudnnHandle_t bound to stream(), as opaque pointers.
  void* cublas_handle() const { return cublas_; }
  void* cudnn_handle() const { return cudnn_; }
#endif

 private:
  Context() = default;
  Device device_;
  int num_threads_ = 1;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
#if MELODY_HAVE_CUDA
  cudaStream_t stream_ = nullptr;
  void* cublas_ = nullptr;  // cublasHandle_t
  void* cudnn_ = nullptr;   // cudnnHandle_t
#endif
};

}  // namespace melody
