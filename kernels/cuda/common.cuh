// The common layer of the CUDA kernels, for kernels/cuda/*.cu (compiled by nvcc only when
// the CUDA backend is on): launch geometry, a checked zero fill, the context's cuBLAS and
// cuDNN handles, a move-only device buffer and RAII cuDNN descriptors. Every CUDA, cuBLAS
// and cuDNN call made here or by its users goes through the check macros of
// core/cuda_check.h (destructors excepted: they must not throw, so a failed free there is
// ignored, as in core/tensor.cc).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/context.h"
#include "core/cuda_check.h"

namespace melody::cuda {

// ---- launch geometry -------------------------------------------------------------------

// Threads per block of the one-thread-per-element kernels.
inline constexpr int kBlockThreads = 256;

// Number of blocks of `threads` threads that covers `n` work items (n >= 1).
inline unsigned GridFor(int64_t n, int threads = kBlockThreads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

// ---- memory ----------------------------------------------------------------------------

// `bytes` bytes at `ptr` (device memory) <- 0, queued on `stream`.
inline void ZeroFill(cudaStream_t stream, void* ptr, size_t bytes) {
  if (bytes == 0) return;
  MELODY_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream));
}

// Device memory that only grows, owned by one object (move-only, freed on destruction).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { Release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Release();
      ptr_ = std::exchange(other.ptr_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }

  // Makes room for at least `n` bytes; the contents are not kept when it grows. Growing
  // first waits for the device, since work queued earlier may still use the old memory.
  void Reserve(size_t n) {
    if (n <= bytes_) return;
    if (ptr_) {
      MELODY_CUDA_CHECK(cudaDeviceSynchronize());
      MELODY_CUDA_CHECK(cudaFree(ptr_));
      ptr_ = nullptr;
      bytes_ = 0;
    }
    MELODY_CUDA_CHECK(cudaMalloc(&ptr_, std::max<size_t>(n, 1)));
    bytes_ = n;
  }

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void Release() noexcept {
    if (ptr_) cudaFree(ptr_);  // never throws (destructor, move assignment)
    ptr_ = nullptr;
    bytes_ = 0;
  }
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// ---- cuDNN descriptors -----------------------------------------------------------------

// Owns one cuDNN descriptor (move-only). Default-constructed empty; Create() makes one.
template <typename Desc, cudnnStatus_t (*CreateFn)(Desc*), cudnnStatus_t (*DestroyFn)(Desc)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() = default;
  static CudnnDescriptor Create() {
    CudnnDescriptor d;
    MELODY_CUDNN_CHECK(CreateFn(&d.desc_));
    return d;
  }
  ~CudnnDescriptor() {
    if (desc_) DestroyFn(desc_);  // never throws
  }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  CudnnDescriptor(CudnnDescriptor&& other) noexcept : desc_(std::exchange(other.desc_, nullptr)) {}
  CudnnDescriptor& operator=(CudnnDescriptor&& other) noexcept {
    if (this != &other) {
      if (desc_) DestroyFn(desc_);
      desc_ = std::exchange(other.desc_, nullptr);
    }
    return *this;
  }

  Desc get() const { return desc_; }
  explicit operator bool() const { return desc_ != nullptr; }

 private:
  Desc desc_ = nullptr;
};

using TensorDescriptor = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                                         cudnnDestroyTensorDescriptor>;
using DropoutDescriptor = CudnnDescriptor<cudnnDropoutDescriptor_t, cudnnCreateDropoutDescriptor,
                                          cudnnDestroyDropoutDescriptor>;
using RnnDescriptor =
    CudnnDescriptor<cudnnRNNDescriptor_t, cudnnCreateRNNDescriptor, cudnnDestroyRNNDescriptor>;
using RnnDataDescriptor = CudnnDescriptor<cudnnRNNDataDescriptor_t, cudnnCreateRNNDataDescriptor,
                                          cudnnDestroyRNNDataDescriptor>;

// ---- library handles -------------------------------------------------------------------

// The context's cuBLAS and cuDNN handles (bound to ctx.stream()), which core/context.h
// keeps opaque so that code outside the kernels never sees these libraries' headers.
inline cublasHandle_t CublasHandle(const Context& ctx) {
  return static_cast<cublasHandle_t>(ctx.cublas_handle());
}
inline cudnnHandle_t CudnnHandle(const Context& ctx) {
  return static_cast<cudnnHandle_t>(ctx.cudnn_handle());
}

}  // namespace melody::cuda
