// Argument checks shared by the attention ops (attention.h, attention_layer.h) and the
// melody feature ops (melody_features.h): every mismatch throws melody::Error naming the
// op, the argument and what was expected.
#pragma once

#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace melody::attention_internal {

inline void RequireTensor(const char* op, const char* name, const Tensor& t,
                          const Shape& shape, DType dtype, Device device) {
  MELODY_REQUIRE(t.defined()) << op << ": " << name << " is not allocated";
  MELODY_REQUIRE(t.shape() == shape)
      << op << ": " << name << " has shape " << ShapeToString(t.shape()) << ", expected "
      << ShapeToString(shape);
  MELODY_REQUIRE(t.dtype() == dtype) << op << ": " << name << " has dtype "
                                     << DTypeName(t.dtype()) << ", expected "
                                     << DTypeName(dtype);
  MELODY_REQUIRE(t.device() == device) << op << ": " << name << " is on "
                                       << t.device().ToString() << ", expected "
                                       << device.ToString();
}

inline void RequireOutput(const char* op, const char* name, const Tensor* t,
                          const Shape& shape, DType dtype, Device device) {
  MELODY_REQUIRE(t != nullptr) << op << ": output " << name << " is null";
  RequireTensor(op, name, *t, shape, dtype, device);
}

// attn_w is stored [1, 1, A, V] in checkpoints (a 1x1 convolution); [A, V] is accepted too.
inline void RequireAttnW(const char* op, const char* name, const Tensor& t, int64_t a,
                         int64_t v, DType dtype, Device device) {
  MELODY_REQUIRE(t.defined()) << op << ": " << name << " is not allocated";
  if (t.rank() == 4) {
    RequireTensor(op, name, t, {1, 1, a, v}, dtype, device);
  } else {
    RequireTensor(op, name, t, {a, v}, dtype, device);
  }
}

}  // namespace melody::attention_internal
