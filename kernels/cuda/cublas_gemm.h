// Row-major GEMM on cuBLAS (column-major) for the attention ops: C = alpha·op(A)·op(B) +
// beta·C with row-major leading dimensions, computed as Cᵀ = op(B)ᵀ·op(A)ᵀ. FP32 math.
#pragma once

#if MELODY_HAVE_CUDA
#include <cublas_v2.h>

#include "core/cuda_check.h"

namespace melody::cuda {

inline void GemmRowMajor(cublasHandle_t handle, bool trans_a, bool trans_b, int m, int n,
                         int k, float alpha, const float* a, int lda, const float* b, int ldb,
                         float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  MELODY_CUBLAS_CHECK(cublasSgemm(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb,
                                  a, lda, &beta, c, ldc));
}

}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
