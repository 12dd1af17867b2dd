#include "kernels/cpu/parallel_for.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace melody::cpu {
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
  static Pool& Get() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static dtors
    return *pool;
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
  void EnsureWorkers(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      workers_.emplace_back([this] { WorkerLoop(); });
      workers_.back().detach();
    }
  }

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
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int num_chunks_ = 0, next_chunk_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  std::exception_ptr error_;
};

}  // namespace

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

}  // namespace melody::cpu
