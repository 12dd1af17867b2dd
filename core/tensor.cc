#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#if MELODY_HAVE_CUDA
#include "core/cuda_check.h"
#endif

namespace melody {

std::string ShapeToString(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

int64_t ShapeNumel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor::Buffer::~Buffer() {
  if (!ptr) return;
  if (device.is_cpu()) {
    std::free(ptr);
  } else {
#if MELODY_HAVE_CUDA
    cudaFree(ptr);  // never throw from a destructor
#endif
  }
}

Tensor::Tensor(Shape shape, DType dtype, Device device)
    : shape_(std::move(shape)), dtype_(dtype), device_(device) {
  for (int64_t d : shape_)
    MELODY_REQUIRE(d >= 0) << "negative dimension in shape " << ShapeToString(shape_);
  buffer_ = std::make_shared<Buffer>();
  buffer_->device = device;
  buffer_->bytes = nbytes();
  // Allocate at least one aligned element so that empty tensors still have a buffer.
  size_t bytes = buffer_->bytes ? buffer_->bytes : 64;
  if (device.is_cpu()) {
    size_t aligned = (bytes + 63) / 64 * 64;
    buffer_->ptr = std::aligned_alloc(64, aligned);
    MELODY_REQUIRE(buffer_->ptr) << "out of host memory allocating " << bytes << " bytes for a "
                                 << ShapeToString(shape_) << " tensor";
  } else {
#if MELODY_HAVE_CUDA
    MELODY_CUDA_CHECK(cudaSetDevice(device.index));
    MELODY_CUDA_CHECK(cudaMalloc(&buffer_->ptr, bytes));
#else
    MELODY_FAIL() << "cannot allocate a tensor on " << device.ToString() << ": "
                  << CudaUnavailableReason();
#endif
  }
}

Tensor Tensor::Zeros(Shape shape, DType dtype, Device device) {
  Tensor t(std::move(shape), dtype, device);
  t.SetZero();
  return t;
}

Tensor Tensor::FromVector(Shape shape, const std::vector<float>& values) {
  Tensor t(std::move(shape), DType::kFloat32, Device::CPU());
  MELODY_REQUIRE(static_cast<int64_t>(values.size()) == t.numel())
      << "FromVector: " << values.size() << " values for shape " << ShapeToString(t.shape());
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), t.nbytes());
  return t;
}

void Tensor::CheckType(DType expected) const {
  MELODY_REQUIRE(dtype_ == expected) << "tensor of dtype " << DTypeName(dtype_)
                                     << " accessed as " << DTypeName(expected);
}

Tensor Tensor::Reshaped(Shape shape) const {
  MELODY_REQUIRE(ShapeNumel(shape) == numel())
      << "cannot reshape " << ShapeToString(shape_) << " to " << ShapeToString(shape);
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::CopyTo(Device device) const {
  Tensor out(shape_, dtype_, device);
  out.CopyFrom(*this);
  return out;
}

void Tensor::CopyFrom(const Tensor& src) {
  MELODY_REQUIRE(src.dtype_ == dtype_ && src.numel() == numel())
      << "CopyFrom: " << DTypeName(src.dtype_) << ShapeToString(src.shape_) << " into "
      << DTypeName(dtype_) << ShapeToString(shape_);
  size_t bytes = nbytes();
  if (bytes == 0) return;
  if (device_.is_cpu() && src.device_.is_cpu()) {
    std::memcpy(raw_data(), src.raw_data(), bytes);
    return;
  }
#if MELODY_HAVE_CUDA
  cudaMemcpyKind kind = src.device_.is_cpu()   ? cudaMemcpyHostToDevice
                        : device_.is_cpu()     ? cudaMemcpyDeviceToHost
                                               : cudaMemcpyDeviceToDevice;
  MELODY_CUDA_CHECK(cudaMemcpy(raw_data(), src.raw_data(), bytes, kind));
#else
  MELODY_FAIL() << "copy between " << src.device_.ToString() << " and " << device_.ToString()
                << ": " << CudaUnavailableReason();
#endif
}

void Tensor::SetZero() {
  if (nbytes() == 0) return;
  if (device_.is_cpu()) {
    std::memset(raw_data(), 0, nbytes());
    return;
  }
#if MELODY_HAVE_CUDA
  MELODY_CUDA_CHECK(cudaMemset(raw_data(), 0, nbytes()));
#endif
}

std::vector<float> Tensor::ToVector() const {
  Tensor host = device_.is_cpu() ? *this : CopyTo(Device::CPU());
  const float* p = host.data<float>();
  return std::vector<float>(p, p + numel());
}

}  // namespace melody
