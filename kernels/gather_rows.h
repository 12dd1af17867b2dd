// Row gather/scatter and an in-place add: the glue between the padded [B, T, F] layer
// outputs and the [P, F] valid positions the output layer and the loss work on
// (model.md §2.1: keep t < len[b], flattened batch-major).
//
//   GatherRows:  out[p, :] = x[rows[p], :]          x viewed as [R, F] (R = B·T)
//   ScatterRows: out[r, :] = 0; out[rows[p], :] = src[p, :]   (rows distinct)
//   AddInPlace:  y += x                              (residual connections)
//
// `rows` is an int32 tensor [P] of row indices into the flattened [R, F] view, on
// ctx.device(); ValidPositionRows builds it from host lengths.
#pragma once

#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// Row b·T + t for every (b, t < len[b]) in batch-major order, as a host int32 tensor [P].
// Throws melody::Error on a length outside [0, T].
Tensor ValidPositionRows(const std::vector<int32_t>& lengths, int64_t time);

// x: float32 or int64 with numel divisible by F = out->dim(-1)... given as [R, F] or any
// shape whose leading dims flatten to R and last dim is F. out [P, F] (overwritten), same dtype.
void GatherRows(Context& ctx, const Tensor& x, const Tensor& rows, Tensor* out);
// src [P, F] float32; out float32 with R·F elements (overwritten, zero outside `rows`).
void ScatterRows(Context& ctx, const Tensor& src, const Tensor& rows, Tensor* out);
// y += x, float32, same numel.
void AddInPlace(Context& ctx, const Tensor& x, Tensor* y);

namespace reference {
// kernels/cpu/gather_rows_reference.cc: plain loops on the CPU; validate their arguments.
// T = float, double or int64_t (gather); float or double (scatter, add).
template <typename T>
void GatherRows(const Tensor& x, const Tensor& rows, Tensor* out);
template <typename T>
void ScatterRows(const Tensor& src, const Tensor& rows, Tensor* out);
template <typename T>
void AddInPlace(const Tensor& x, Tensor* y);
}  // namespace reference

namespace internal {
struct RowGatherDims {
  int64_t rows_total = 0, picked = 0, features = 0;  // R, P, F
};
// The argument checks (kernels/gather_rows.cc): shapes, dtypes and (when ctx is given)
// devices of the [R, F] side `big`, the row indices and the [P, F] side `small`; returns
// {R, P, F}. The row indices' values are checked by the CPU loops (the CUDA twin trusts
// them: the model builds them with ValidPositionRows).
RowGatherDims CheckGatherRows(const Context* ctx, const Tensor& big, const Tensor& rows,
                              const Tensor& small);
// AddInPlace: float32 tensors of equal size on ctx's device.
void CheckAddInPlace(const Context& ctx, const Tensor& x, const Tensor* y);
}  // namespace internal

// The twins the dispatcher (kernels/gather_rows.cc) calls with checked arguments and sizes.
namespace cpu {  // kernels/cpu/gather_rows.cc: memcpy per row
void GatherRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& x,
                const Tensor& rows, Tensor* out);
void ScatterRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& src,
                 const Tensor& rows, Tensor* out);
void AddInPlace(Context& ctx, const Tensor& x, Tensor* y);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/gather_rows.cu: one thread per element
void GatherRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& x,
                const Tensor& rows, Tensor* out);
void ScatterRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& src,
                 const Tensor& rows, Tensor* out);
void AddInPlace(Context& ctx, const Tensor& x, Tensor* y);
}  // namespace cuda
#endif

}  // namespace melody
