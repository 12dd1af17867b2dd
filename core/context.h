// Per-device execution context passed to every op. Ops are free functions
// `Op(Context&, ...)` that dispatch on ctx.device(): the CPU path uses `num_threads`
// (OpenBLAS and our loops), the CUDA path the stream, cuBLAS/cuDNN handles and workspace.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

#if MELODY_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
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
  cublasHandle_t cublas() const { return cublas_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
#endif

 private:
  Context() = default;
  Device device_;
  int num_threads_ = 1;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
#if MELODY_HAVE_CUDA
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
#endif
};

}  // namespace melody
