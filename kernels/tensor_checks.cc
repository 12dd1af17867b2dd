#include "kernels/tensor_checks.h"

#include "core/error.h"

namespace melody::kernel_checks {

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

}  // namespace melody::kernel_checks
