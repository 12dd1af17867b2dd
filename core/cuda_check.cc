#include "core/cuda_check.h"

#if MELODY_HAVE_CUDA
#include <cublas_v2.h>

#include <sstream>

#include "core/error.h"

namespace melody::internal {

void ThrowGpuError(const char* library, const char* statement, long code,
                   const std::string& message, const char* file, int line) {
  int device = -1;
  cudaGetDevice(&device);
  std::ostringstream out;
  out << library << " error " << code << " (" << message << ") in `" << statement << "` at "
      << file << ":" << line << " (device " << device << ")";
  throw Error(out.str());
}

const char* CublasStatusString(long status) {
  switch (static_cast<cublasStatus_t>(status)) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "unknown cuBLAS status";
}

}  // namespace melody::internal
#endif  // MELODY_HAVE_CUDA
