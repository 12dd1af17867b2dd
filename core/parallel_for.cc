#include "core/parallel_for.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

namespace melody {

int ResolveThreadCount(int requested, int max_threads) {
  MELODY_REQUIRE(requested >= 0 && requested <= max_threads)
      << "--num_threads must be between 0 (all cores) and " << max_threads << ", got "
      << requested;
  if (requested > 0) return requested;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores ? std::min(static_cast<int>(cores), max_threads) : 1;
}

ThreadStartError::ThreadStartError(int thread, int wanted, const std::string& reason)
    : Error("cannot start thread " + std::to_string(thread) + " of " + std::to_string(wanted) +
            ": " + reason),
      thread_(thread),
      wanted_(wanted),
      reason_(reason) {}

namespace {

// True on a pool worker and on a caller while its job runs: a ParallelFor from inside a
// chunk (a pooled GEMM inside a pooled row loop) then runs inline instead of waiting for
// the pool it is part of.
thread_local bool t_inside_pool = false;

struct InsidePoolScope {
  InsidePoolScope() : previous(t_inside_pool) { t_inside_pool = true; }
  ~InsidePoolScope() { t_inside_pool = previous; }
  bool previous;
};

// Workers wait on a condition variable for a job generation number; the caller runs
// chunk 0 itself and waits until every other chunk is done.
class Pool {
 public:
  static Pool& Get();

  // Starts workers until there are n; throws ThreadStartError naming the first that fails.
  void EnsureWorkers(int n) {
    std::lock_guard<std::mutex> lock(workers_mutex_);
    while (static_cast<int>(workers_.size()) < n) {
      try {
        workers_.emplace_back([this] { WorkerLoop(); });
      } catch (const std::system_error& e) {
        throw ThreadStartError(static_cast<int>(workers_.size()) + 1, n, e.what());
      }
      workers_.back().detach();
    }
  }

  void Run(int chunks, const std::function<void(int)>& chunk_fn) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one job at a time
    InsidePoolScope inside;
    EnsureWorkers(chunks - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &chunk_fn;
      num_chunks_ = chunks;
      next_chunk_ = 1;
      pending_ = chunks - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr local_error;
    try {
      chunk_fn(0);
    } catch (...) {
      local_error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (local_error) std::rethrow_exception(local_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void WorkerLoop() {
    t_inside_pool = true;
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen && next_chunk_ < num_chunks_; });
      seen = generation_;
      while (next_chunk_ < num_chunks_) {
        int chunk = next_chunk_++;
        const auto* job = job_;
        lock.unlock();
        std::exception_ptr err;
        try {
          (*job)(chunk);
        } catch (...) {
          err = std::current_exception();
        }
        lock.lock();
        if (err && !error_) error_ = err;
        if (--pending_ == 0) done_.notify_all();
      }
    }
  }

  std::mutex run_mutex_;
  std::mutex workers_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int num_chunks_ = 0, next_chunk_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  std::exception_ptr error_;
};

// Never destroyed: workers may outlive static destructors. A child process made by fork()
// has none of its parent's workers, so it starts a pool of its own (the parent's object is
// left alone: its mutexes may have been held by threads that do not exist in the child).
std::atomic<Pool*> g_pool{nullptr};

Pool& Pool::Get() {
  Pool* pool = g_pool.load(std::memory_order_acquire);
  if (pool != nullptr) return *pool;
  static std::once_flag at_fork_registered;
  std::call_once(at_fork_registered, [] {
    pthread_atfork(nullptr, nullptr, [] { g_pool.store(nullptr, std::memory_order_relaxed); });
  });
  Pool* fresh = new Pool();
  if (!g_pool.compare_exchange_strong(pool, fresh, std::memory_order_acq_rel)) {
    delete fresh;  // another thread made one first
    return *pool;
  }
  return *fresh;
}

}  // namespace

namespace parallel_internal {
bool InsidePoolJob() { return t_inside_pool; }
}  // namespace parallel_internal

void EnsurePoolThreads(int count) { Pool::Get().EnsureWorkers(count); }

void ParallelFor(int num_threads, int64_t n, int64_t grain,
                 const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(num_threads, (n + grain - 1) / grain);
  if (chunks <= 1 || t_inside_pool) {
    fn(0, n);
    return;
  }
  const int64_t per = (n + chunks - 1) / chunks;
  chunks = (n + per - 1) / per;
  Pool::Get().Run(static_cast<int>(chunks), [&](int c) {
    const int64_t begin = c * per;
    fn(begin, std::min(n, begin + per));
  });
}

void ParallelForEach(int num_threads, int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(num_threads, n);
  if (threads <= 1 || t_inside_pool) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int64_t> next{0};
  Pool::Get().Run(static_cast<int>(threads), [&](int) {
    for (int64_t i = next++; i < n; i = next++) {
      try {
        fn(i);
      } catch (...) {
        next = n;  // start nothing more
        throw;
      }
    }
  });
}

void RunWithPoolWorkers(int workers, const std::function<void(int)>& fn) {
  if (workers <= 0 || t_inside_pool) {
    for (int w = 0; w <= std::max(workers, 0); ++w) fn(w);
    return;
  }
  Pool::Get().Run(workers + 1, fn);
}

}  // namespace melody
