// Row-major GEMM for the CPU kernels: C = alpha·op(A)·op(B) + beta·C with explicit leading
// dimensions, so strided views (one time step of a [B, T, F] batch) need no copies.
//
// Threads: OpenBLAS runs single-threaded and the product is split across our own pool
// (core/parallel_for.h) by rows or columns of C. Two pools on the same cores fought
// each other: OpenBLAS's idle workers spin in sched_yield between the hundreds of small
// per-step products of a recurrent layer while our pool needs those cores for the gate
// pass, which cost a third of the CPU time in system calls and half the speed on 2 cores.
// The split depends only on the shape and the thread count, so results are reproducible
// for a given --num_threads.
#pragma once

#include <cstdint>

namespace melody::cpu {

void Sgemm(int threads, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

}  // namespace melody::cpu
