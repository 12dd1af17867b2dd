// A small persistent thread pool for the element-wise loops of the CPU kernels. Loops over
// time call it once per step (hundreds of times per batch), so threads are created once
// and reused; spawning per call would cost more than the work at these sizes.
//
// The split of [0, n) into chunks depends only on n, grain and the thread count, and each
// index is processed exactly once, so results never depend on scheduling.
#pragma once

#include <cstdint>
#include <functional>

namespace melody::cpu {

// Calls fn(begin, end) on disjoint ranges covering [0, n), using up to `num_threads`
// threads (the caller's thread included). Runs inline when num_threads <= 1 or n <= grain.
void ParallelFor(int num_threads, int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn);

}  // namespace melody::cpu
