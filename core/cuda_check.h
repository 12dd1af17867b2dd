// Check macros for every CUDA runtime, cuDNN, cuBLAS and NCCL call. A failure throws
// melody::Error naming the failing statement, the library's error string and numeric
// code, and file:line. Include only from CUDA-enabled code (MELODY_HAVE_CUDA).
// This header includes the CUDA runtime only: MELODY_CUBLAS_CHECK and MELODY_CUDNN_CHECK
// name their library's types where they are used, so a file using them includes
// <cublas_v2.h> / <cudnn.h> itself (the kernels do, through kernels/cuda/common.cuh), and
// core's headers never pull in cuDNN or cuBLAS.
#pragma once

#if MELODY_HAVE_CUDA
#include <cuda_runtime.h>

#include <string>

namespace melody::internal {
[[noreturn]] void ThrowGpuError(const char* library, const char* statement, long code,
                                const std::string& message, const char* file, int line);
// The name of a cublasStatus_t value.
const char* CublasStatusString(long status);
}  // namespace melody::internal

#define MELODY_CUDA_CHECK(stmt)                                                            \
  do {                                                                                     \
    cudaError_t melody_err_ = (stmt);                                                      \
    if (melody_err_ != cudaSuccess)                                                        \
      ::melody::internal::ThrowGpuError("CUDA", #stmt, static_cast<long>(melody_err_),     \
                                        cudaGetErrorString(melody_err_), __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: reports launch-configuration errors at the launch site.
#define MELODY_CUDA_LAUNCH_CHECK() MELODY_CUDA_CHECK(cudaGetLastError())

#define MELODY_CUDNN_CHECK(stmt)                                                             \
  do {                                                                                       \
    cudnnStatus_t melody_st_ = (stmt);                                                       \
    if (melody_st_ != CUDNN_STATUS_SUCCESS)                                                  \
      ::melody::internal::ThrowGpuError("cuDNN", #stmt, static_cast<long>(melody_st_),       \
                                        cudnnGetErrorString(melody_st_), __FILE__, __LINE__); \
  } while (0)

#define MELODY_CUBLAS_CHECK(stmt)                                                    \
  do {                                                                               \
    cublasStatus_t melody_st_ = (stmt);                                              \
    if (melody_st_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::melody::internal::ThrowGpuError("cuBLAS", #stmt, static_cast<long>(melody_st_), \
                                        ::melody::internal::CublasStatusString(melody_st_), \
                                        __FILE__, __LINE__);                         \
  } while (0)

#if MELODY_HAVE_NCCL
#include <nccl.h>
#define MELODY_NCCL_CHECK(stmt)                                                            \
  do {                                                                                     \
    ncclResult_t melody_st_ = (stmt);                                                      \
    if (melody_st_ != ncclSuccess)                                                         \
      ::melody::internal::ThrowGpuError("NCCL", #stmt, static_cast<long>(melody_st_),      \
                                        ncclGetErrorString(melody_st_), __FILE__, __LINE__); \
  } while (0)
#endif

#endif  // MELODY_HAVE_CUDA
