#include "kernels/op_checks.h"

#include "core/error.h"

namespace melody::op_checks {

namespace {
void CheckCommon(const Tensor& t, const char* op, const char* name, DType dtype,
                 Device device) {
  MELODY_REQUIRE(t.defined()) << op << ": argument '" << name << "' is an undefined tensor";
  MELODY_REQUIRE(t.dtype() == dtype) << op << ": argument '" << name << "' has dtype "
                                     << DTypeName(t.dtype()) << ", expected "
                                     << DTypeName(dtype);
  MELODY_REQUIRE(t.device() == device) << op << ": argument '" << name << "' lives on "
                                       << t.device().ToString() << ", expected "
                                       << device.ToString();
}
}  // namespace

void CheckTensor(const Tensor& t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device) {
  CheckCommon(t, op, name, dtype, device);
  MELODY_REQUIRE(t.shape() == shape) << op << ": argument '" << name << "' has shape "
                                     << ShapeToString(t.shape()) << ", expected "
                                     << ShapeToString(shape);
}

void CheckOutput(const Tensor* t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device) {
  MELODY_REQUIRE(t != nullptr) << op << ": output '" << name << "' is null";
  CheckTensor(*t, op, name, shape, dtype, device);
}

void CheckRank(const Tensor& t, const char* op, const char* name, int rank, DType dtype,
               Device device) {
  CheckCommon(t, op, name, dtype, device);
  MELODY_REQUIRE(t.rank() == rank) << op << ": argument '" << name << "' has shape "
                                   << ShapeToString(t.shape()) << ", expected rank " << rank;
}

void CheckAttnW(const Tensor& t, const char* op, const char* name, int64_t a, int64_t v,
                DType dtype, Device device) {
  MELODY_REQUIRE(t.defined()) << op << ": argument '" << name << "' is an undefined tensor";
  if (t.rank() == 4) {
    CheckTensor(t, op, name, {1, 1, a, v}, dtype, device);
  } else {
    CheckTensor(t, op, name, {a, v}, dtype, device);
  }
}

void CheckLengthsTensor(const Tensor& lengths, const char* op, int64_t batch, Device device) {
  MELODY_REQUIRE(lengths.defined()) << op << ": argument 'lengths' is an undefined tensor";
  CheckTensor(lengths, op, "lengths", {batch}, DType::kInt32,
              lengths.device().is_cpu() ? Device::CPU() : device);
}

std::vector<int32_t> HostLengths(const Tensor& lengths, const char* op, int64_t time) {
  std::vector<int32_t> host(static_cast<size_t>(lengths.numel()));
  if (!host.empty()) {
    const Tensor cpu = lengths.device().is_cpu() ? lengths : lengths.CopyTo(Device::CPU());
    const int32_t* p = cpu.data<int32_t>();
    host.assign(p, p + host.size());
  }
  for (size_t b = 0; b < host.size(); ++b)
    MELODY_REQUIRE(host[b] >= 0 && host[b] <= time)
        << op << ": lengths[" << b << "] = " << host[b] << " is outside [0, " << time << "]";
  return host;
}

std::vector<int32_t> CheckedHostLengths(const Tensor& lengths, const char* op, int64_t batch,
                                        int64_t time, Device device) {
  CheckLengthsTensor(lengths, op, batch, device);
  return HostLengths(lengths, op, time);
}

void FailNoCuda(const char* op, const Context& ctx) {
  MELODY_FAIL() << op << " on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
}

}  // namespace melody::op_checks
