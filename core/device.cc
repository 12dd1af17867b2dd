#include "core/device.h"

#if MELODY_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace melody {

std::string Device::ToString() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
  }
  return "?";
}

bool BuiltWithCuda() {
#if MELODY_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#if MELODY_HAVE_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
#else
  return 0;
#endif
}

std::string CudaUnavailableReason() {
#if MELODY_HAVE_CUDA
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return std::string("no usable CUDA device: ") + cudaGetErrorString(err);
  }
  if (count == 0) return "no CUDA device present";
  return "";
#else
  return "this build has no CUDA backend (configured without nvcc/cuDNN or with "
         "MELODY_ENABLE_CUDA=OFF)";
#endif
}

}  // namespace melody
