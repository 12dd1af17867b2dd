#include "kernels/cpu/blas.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>

#include "core/parallel_for.h"

namespace melody::cpu {
namespace {

// Below this many multiply-adds a product runs on the calling thread: waking a worker
// costs a few microseconds, about 50k multiply-adds at these sizes.
constexpr int64_t kMinParallelMacs = 1 << 17;

void SingleThreadedSgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                         float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                         float beta, float* c, int64_t ldc) {
  // OpenBLAS rejects leading dimensions of 0 even when nothing is read.
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(std::max<int64_t>(lda, 1)), b,
              static_cast<int>(std::max<int64_t>(ldb, 1)), beta, c,
              static_cast<int>(std::max<int64_t>(ldc, 1)));
}

void UseOneOpenBlasThread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

}  // namespace

void Sgemm(int threads, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  if (m == 0 || n == 0) return;
  UseOneOpenBlasThread();
  if (threads <= 1 || m * n * k < kMinParallelMacs) {
    SingleThreadedSgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Split the longer side of C: rows of op(A) or columns of op(B).
  if (m >= n) {
    const int64_t grain = std::max<int64_t>(8, (m + threads - 1) / threads);
    ParallelFor(threads, m, grain, [&](int64_t i0, int64_t i1) {
      const float* a0 = trans_a ? a + i0 : a + i0 * lda;
      SingleThreadedSgemm(trans_a, trans_b, i1 - i0, n, k, alpha, a0, lda, b, ldb, beta,
                          c + i0 * ldc, ldc);
    });
  } else {
    const int64_t grain = std::max<int64_t>(16, (n + threads - 1) / threads);
    ParallelFor(threads, n, grain, [&](int64_t j0, int64_t j1) {
      const float* b0 = trans_b ? b + j0 * ldb : b + j0;
      SingleThreadedSgemm(trans_a, trans_b, m, j1 - j0, k, alpha, a, lda, b0, ldb, beta,
                          c + j0, ldc);
    });
  }
}

}  // namespace melody::cpu
