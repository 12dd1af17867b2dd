// Fully connected layer y = x · W + b (model.md §2 row-vector convention, W stored
// [in, out] as in TF), forward and backward.
//
// x may have any rank >= 2: its last dimension is K = W.dim(0) and all leading dimensions
// are flattened into M rows (so [B, T, K] and [M, K] both work); y has x's leading
// dimensions and last dimension W.dim(1). The bias is optional (undefined Tensor = none).
//
// CUDA: cuBLAS works column-major. A row-major [M, K] matrix is the column-major [K, M]
// matrix with the same bytes (its transpose), so y = x·W is computed as the column-major
// product yᵀ = Wᵀ·xᵀ: cublasSgemm(N, N, m = out, n = M, k = K, W, ld = out, x, ld = K,
// y, ld = out). The backward products map the same way (see kernels/cuda/linear.cu).
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// y (caller-allocated, x's leading dims + [out]) is overwritten.
void LinearForward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                   Tensor* y);

// Whether backward outputs are overwritten (kOverwrite) or added to (kAccumulate: += ,
// e.g. summing weight gradients over time steps or adding dx into a residual path's
// gradient). The mode applies to every output that is passed.
enum class GradMode { kOverwrite, kAccumulate };

// Given dy (same shape as y): dx = dy · Wᵀ (x's shape), dw = xᵀ · dy ([K, out]),
// db = column sums of dy ([out]). Each output may be nullptr when not needed.
void LinearBackward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& dy,
                    Tensor* dx, Tensor* dw, Tensor* db, GradMode mode);

namespace internal {
// Sizes of a linear op: M rows (x's leading dims flattened), K = in, out.
struct LinearDims {
  int64_t rows = 0, in = 0, out = 0;
};
// The argument checks (kernels/linear.cc, built on kernels/op_checks.h): dtype = x's dtype,
// everything on x's device. Return the sizes.
LinearDims CheckLinearForward(const char* op, const Tensor& x, const Tensor& w,
                              const Tensor& b, const Tensor* y);
LinearDims CheckLinearBackward(const char* op, const Tensor& x, const Tensor& w,
                               const Tensor& dy, const Tensor* dx, const Tensor* dw,
                               const Tensor* db);
}  // namespace internal

namespace reference {
// kernels/cpu/linear_reference.cc: plain loops, CPU only, T = float or double. Same
// contracts as above; validates its arguments itself.
template <typename T>
void LinearForward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor* y);
template <typename T>
void LinearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx,
                    Tensor* dw, Tensor* db, GradMode mode);
}  // namespace reference

// The twins the dispatcher calls with checked arguments and their sizes (float32).
namespace cpu {  // kernels/cpu/linear.cc: OpenBLAS sgemm
void LinearForward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                   const Tensor& w, const Tensor& b, Tensor* y);
void LinearBackward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                    const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                    GradMode mode);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/linear.cu: cuBLAS (row-major mapping above)
void LinearForward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                   const Tensor& w, const Tensor& b, Tensor* y);
void LinearBackward(Context& ctx, const internal::LinearDims& d, const Tensor& x,
                    const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db,
                    GradMode mode);
}  // namespace cuda
#endif

}  // namespace melody
