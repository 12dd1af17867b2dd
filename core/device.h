// Devices and data types. A tensor lives on exactly one device; copies are explicit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace melody {

enum class DeviceType { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;  // CUDA ordinal; 0 for the CPU

  static Device CPU() { return {DeviceType::kCPU, 0}; }
  static Device CUDA(int index = 0) { return {DeviceType::kCUDA, index}; }
  bool is_cpu() const { return type == DeviceType::kCPU; }
  bool is_cuda() const { return type == DeviceType::kCUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string ToString() const;
};

enum class DType { kFloat32, kFloat64, kInt32, kInt64 };

size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::kFloat32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::kFloat64;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::kInt64;
};

// True when this build contains the CUDA backend (MELODY_HAVE_CUDA).
bool BuiltWithCuda();
// Number of usable CUDA devices (0 without the backend or without a GPU). Never throws.
int CudaDeviceCount();
// Why CUDA cannot be used here ("" when it can): for GTEST_SKIP messages and logs.
std::string CudaUnavailableReason();

}  // namespace melody
