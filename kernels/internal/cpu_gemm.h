// Row-major single-precision GEMM through OpenBLAS for the fast CPU paths of the attention
// ops: C = alpha · op(A) · op(B) + beta · C with explicit leading dimensions, so that
// strided views (one time step of a [B, T, F] tensor, one half of a concatenation) are used
// in place without copies.
#pragma once

#include <cblas.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace melody::attention_internal {

inline void Gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c,
                 int ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
              ldc);
}

// Runs fn(begin, end) over [0, n) split into at most `threads` contiguous chunks, the first
// on the calling thread. Chunks are fixed by (n, threads), so results do not depend on
// scheduling.
template <typename Fn>
void ParallelFor(int64_t n, int threads, const Fn& fn) {
  const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  if (workers <= 1) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  const int64_t chunk = (n + workers - 1) / workers;
  std::vector<std::thread> pool;
  for (int64_t w = 1; w < workers; ++w) {
    const int64_t begin = w * chunk, end = std::min(n, begin + chunk);
    if (begin < end) pool.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  fn(int64_t{0}, std::min(n, chunk));
  for (auto& t : pool) t.join();
}

}  // namespace melody::attention_internal
