// Thin row-major wrappers over OpenBLAS's cblas_sgemm / cblas_dgemm for the CPU kernels:
// the argument order of the row-major product C = alpha·op(A)·op(B) + beta·C with explicit
// leading dimensions, so strided views (one time step of a [B, T, F] batch) need no copies.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace melody::cpu {

inline void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                  float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
              beta, c, static_cast<int>(ldc));
}

}  // namespace melody::cpu
