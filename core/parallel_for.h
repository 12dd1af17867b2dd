// The process's one thread pool and the loops that run on it:
//   ParallelFor         static chunks of [0, n): the CPU kernels' element-wise loops;
//   ParallelForEach     one index at a time to whichever thread is free: uneven items
//                       (the dataset tool's inputs);
//   OrderedParallelMap  results produced on pool threads and consumed in index order on
//                       the caller's thread, at most `window` waiting (the converter).
// Threads are created once and reused: loops over time call ParallelFor hundreds of times
// per batch, and spawning per call would cost more than the work at these sizes. Nothing
// that runs here may depend on which thread runs which index: each index is processed
// exactly once and the split of [0, n) depends only on the arguments, so results never
// depend on scheduling. One job runs at a time; a loop started from inside a job (a pooled
// GEMM inside a pooled row loop) runs inline on the calling thread.
//
// Also here: what "0 = all cores" means (ResolveThreadCount), for the contexts and every
// tool's --num_threads.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace melody {

// `requested` if in [1, max_threads], all cores (at most max_threads, at least 1) for 0;
// otherwise melody::Error "--num_threads must be between 0 (all cores) and <max>, got <n>".
int ResolveThreadCount(int requested, int max_threads);

// A pool thread could not be started (RLIMIT_NPROC / `ulimit -u`, memory): thread() is its
// number (1-based) among the `wanted` pool threads, reason() the system's words.
class ThreadStartError : public Error {
 public:
  ThreadStartError(int thread, int wanted, const std::string& reason);
  int thread() const { return thread_; }
  int wanted() const { return wanted_; }
  const std::string& reason() const { return reason_; }

 private:
  int thread_, wanted_;
  std::string reason_;
};

// Makes sure the pool has at least `count` threads (besides the threads that call into
// it), so that a tool fails on a thread it cannot start before any work, whatever the
// amount of work. Throws ThreadStartError (the threads already started stay in the pool).
void EnsurePoolThreads(int count);

// Calls fn(begin, end) on disjoint ranges covering [0, n), using up to `num_threads`
// threads (the caller's thread included). Runs inline when num_threads <= 1 or n <= grain.
void ParallelFor(int num_threads, int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn);

// Calls fn(i) once for every i in [0, n) on up to `num_threads` threads (the caller's
// included), each thread taking the next index as soon as it is done with one. After the
// first exception no further index is started; it is rethrown once every thread is done.
void ParallelForEach(int num_threads, int64_t n, const std::function<void(int64_t)>& fn);

// Runs fn(worker) once for each worker in [0, workers]: worker 0 on the caller's thread,
// the others on pool threads, concurrently (a pool thread that is done with one worker may
// run another). Returns when all have returned; the first exception is rethrown. Inside a
// job (see above) they run one after another on the calling thread, so worker 0 must not
// wait for the others there (OrderedParallelMap does not call it then).
void RunWithPoolWorkers(int workers, const std::function<void(int)>& fn);

// Calls produce(i) for every i in [0, n) on up to `num_workers` pool threads and
// consume(i, result) on the caller's thread for i = 0, 1, ..., n - 1 in turn, while later
// results are being produced; at most `window` (>= 1) results are produced ahead of the
// one being consumed, so memory stays bounded however large n is. An exception from
// produce(i) is rethrown from here when index i's turn to be consumed comes (earlier
// results are consumed first); an exception from consume stops the producers and is
// rethrown.
template <typename Result>
void OrderedParallelMap(int num_workers, int64_t n, int64_t window,
                        const std::function<Result(int64_t)>& produce,
                        const std::function<void(int64_t, Result&&)>& consume);

// ---- implementation ----------------------------------------------------------------------

namespace parallel_internal {
bool InsidePoolJob();
}  // namespace parallel_internal

template <typename Result>
void OrderedParallelMap(int num_workers, int64_t n, int64_t window,
                        const std::function<Result(int64_t)>& produce,
                        const std::function<void(int64_t, Result&&)>& consume) {
  if (n <= 0) return;
  if (num_workers < 1 || parallel_internal::InsidePoolJob()) {
    for (int64_t i = 0; i < n; ++i) consume(i, produce(i));
    return;
  }
  window = std::max<int64_t>(window, 1);
  struct Slot {
    std::optional<Result> result;
    std::exception_ptr error;
    bool done = false;
  };
  std::vector<Slot> slots(static_cast<size_t>(n));
  std::mutex mutex;
  std::condition_variable work_available, result_ready;
  int64_t next = 0, consumed = 0;
  bool stopping = false;

  auto produce_loop = [&] {
    for (;;) {
      int64_t index;
      {
        std::unique_lock<std::mutex> lock(mutex);
        work_available.wait(lock, [&] { return stopping || next >= n || next < consumed + window; });
        if (stopping || next >= n) return;
        index = next++;
      }
      Slot done;
      try {
        done.result.emplace(produce(index));
      } catch (...) {
        done.error = std::current_exception();
      }
      done.done = true;
      {
        std::lock_guard<std::mutex> lock(mutex);
        slots[static_cast<size_t>(index)] = std::move(done);
      }
      result_ready.notify_all();
    }
  };
  auto consume_loop = [&] {
    try {
      for (int64_t i = 0; i < n; ++i) {
        Slot slot;
        {
          std::unique_lock<std::mutex> lock(mutex);
          result_ready.wait(lock, [&] { return slots[static_cast<size_t>(i)].done; });
          slot = std::move(slots[static_cast<size_t>(i)]);
          slots[static_cast<size_t>(i)] = Slot();
          consumed = i + 1;
        }
        work_available.notify_all();
        if (slot.error) std::rethrow_exception(slot.error);
        consume(i, std::move(*slot.result));
      }
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stopping = true;
      }
      work_available.notify_all();
      throw;
    }
  };
  const int workers = static_cast<int>(std::min<int64_t>(num_workers, n));
  RunWithPoolWorkers(workers, [&](int worker) {
    if (worker == 0)
      consume_loop();
    else
      produce_loop();
  });
}

}  // namespace melody
