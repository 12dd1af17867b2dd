// The one argument-check helper of the kernels. Every op validates its arguments ONCE, in
// its dispatcher (kernels/<op>.cc), before handing them to the CPU or CUDA twin; the
// reference:: functions, which tests call directly, run the same checks. A wrong shape,
// dtype or device is a melody::Error naming the op and the argument, never an
// out-of-bounds access.
//
// Two layers:
//   * the generic checks below (one tensor at a time, plus lengths and the "no CUDA in
//     this build" failure), implemented in kernels/op_checks.cc;
//   * per-op shape checks (e.g. internal::CheckLinearForward), declared in the op's header
//     kernels/<op>.h in namespace internal and implemented in kernels/<op>.cc next to the
//     dispatcher, built from the generic checks.
#pragma once

#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/device.h"
#include "core/tensor.h"

namespace melody::op_checks {

// Throws unless `t` is defined, has exactly `shape`, `dtype` and lives on `device`.
void CheckTensor(const Tensor& t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device);
// Same for an output pointer (also rejects nullptr).
void CheckOutput(const Tensor* t, const char* op, const char* name, const Shape& shape,
                 DType dtype, Device device);
// Throws unless `t` is defined with rank `rank`, `dtype` and `device` (shape free).
void CheckRank(const Tensor& t, const char* op, const char* name, int rank, DType dtype,
               Device device);
// An attention weight stored [1, 1, a, v] in checkpoints (a 1x1 convolution); [a, v] is
// accepted too.
void CheckAttnW(const Tensor& t, const char* op, const char* name, int64_t a, int64_t v,
                DType dtype, Device device);

// Sequence lengths: an int32 tensor [batch] on the CPU or on `device`.
void CheckLengthsTensor(const Tensor& lengths, const char* op, int64_t batch, Device device);
// Host copy of (already checked) lengths, each required to lie in [0, time].
std::vector<int32_t> HostLengths(const Tensor& lengths, const char* op, int64_t time);
// Both of the above.
std::vector<int32_t> CheckedHostLengths(const Tensor& lengths, const char* op, int64_t batch,
                                        int64_t time, Device device);

// The failure of a dispatcher asked to run on a CUDA context in a build (or on a machine)
// without CUDA: "<op> on <device>: <CudaUnavailableReason()>".
[[noreturn]] void FailNoCuda(const char* op, const Context& ctx);

}  // namespace melody::op_checks
