// Argument checks shared by the kernels: every op validates its tensors up front so a
// wrong shape, dtype or device is a melody::Error naming the op and the argument, never
// an out-of-bounds access.
#pragma once

#include "core/device.h"
#include "core/tensor.h"

namespace melody::kernel_checks {

// Throws unless `t` is defined, has exactly `shape`, `dtype` and lives on `device`.
void CheckTensor(const Tensor& t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device);
// Same for an output pointer (also rejects nullptr).
void CheckOutput(const Tensor* t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device);
// Throws unless `t` is defined with rank `rank`, `dtype` and `device` (shape free).
void CheckRank(const Tensor& t, const char* op, const char* name, int rank, DType dtype,
               Device device);

}  // namespace melody::kernel_checks
