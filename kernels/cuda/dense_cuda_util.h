// Helpers for the dense CUDA kernels (linear, LSTM cell/layer, dropout): a row-major
// cuBLAS SGEMM and two small deterministic row/column kernels. Compiled only with CUDA.
#pragma once

#if MELODY_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/cublas_library.h"
#include "kernels/cuda/common.cuh"

namespace melody::cuda {

// Row-major C[m, n] = alpha·op(A)·op(B) + beta·C with row-major leading dimensions.
// cuBLAS is column-major: a row-major matrix's bytes are its transpose in column-major,
// so this computes Cᵀ = op(B)ᵀ·op(A)ᵀ (operands swapped, transpose flags kept).
// k = 0 is legal (C = beta·C); cuBLAS then still demands leading dimensions >= 1, while a
// caller's natural ld for an empty operand (e.g. an LSTM cell with input size 0) is 0.
inline void SgemmRowMajor(cublasHandle_t handle, bool trans_a, bool trans_b, int64_t m,
                          int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  auto ld = [](int64_t v) { return static_cast<int>(v > 1 ? v : 1); };
  MELODY_CUBLAS_CHECK(Cublas().sgemm(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                     trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                     static_cast<int>(m), static_cast<int>(k), &alpha, b, ld(ldb),
                                     a, ld(lda), &beta, c, ld(ldc)));
}

// out[j] = (accumulate ? out[j] : 0) + Σ_r a[r·cols + j], rows summed in order by one
// thread per column (deterministic; no atomics).
void ColumnSums(cudaStream_t stream, const float* a, int64_t rows, int64_t cols, float* out,
                bool accumulate);

// Every row of y[rows, cols] := v[cols].
void BroadcastRows(cudaStream_t stream, const float* v, int64_t rows, int64_t cols, float* y);

}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
