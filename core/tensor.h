// A small owning tensor: shape, dtype, device and a buffer. No autograd, no views with
// strides: storage is dense row-major. Copying a Tensor object shares the buffer (cheap
// handle); Clone()/CopyTo() copy the bytes, explicitly.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"

namespace melody {

using Shape = std::vector<int64_t>;
std::string ShapeToString(const Shape& shape);
int64_t ShapeNumel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised storage on `device`.
  Tensor(Shape shape, DType dtype, Device device = Device::CPU());
  static Tensor Zeros(Shape shape, DType dtype, Device device = Device::CPU());
  // A CPU float32 tensor holding `values` (size must match the shape).
  static Tensor FromVector(Shape shape, const std::vector<float>& values);

  bool defined() const { return buffer_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return ShapeNumel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

  void* raw_data() { return buffer_ ? buffer_->ptr : nullptr; }
  const void* raw_data() const { return buffer_ ? buffer_->ptr : nullptr; }
  // Typed pointer; throws if T does not match the dtype.
  template <typename T>
  T* data() {
    CheckType(DTypeOf<T>::value);
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    CheckType(DTypeOf<T>::value);
    return static_cast<const T*>(raw_data());
  }

  // Same bytes, new shape with the same element count.
  Tensor Reshaped(Shape shape) const;
  // Deep copies (synchronous for device transfers).
  Tensor CopyTo(Device device) const;
  Tensor Clone() const { return CopyTo(device_); }
  // Copies the bytes of `src` (same dtype and numel) into this tensor, across devices.
  void CopyFrom(const Tensor& src);
  void SetZero();
  // CPU float32 contents as a vector (copies from the device if needed).
  std::vector<float> ToVector() const;

 private:
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
    Device device;
    ~Buffer();
  };
  void CheckType(DType expected) const;

  Shape shape_;
  DType dtype_ = DType::kFloat32;
  Device device_;
  std::shared_ptr<Buffer> buffer_;
};

}  // namespace melody
