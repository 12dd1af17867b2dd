// The one thread pool (core/parallel_for.h): every loop covers each index once, ordered
// maps hand results back in order within their window, errors come back to the caller,
// and a nested loop runs inline instead of waiting for the pool it is part of.
#include "core/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

namespace melody {
namespace {

TEST(ParallelForTest, EveryIndexOnceInDisjointRanges) {
  for (int threads : {1, 2, 3, 8}) {
    std::vector<std::atomic<int>> seen(1000);
    ParallelFor(threads, 1000, 7, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ++seen[i];
    });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1) << threads << " threads";
  }
}

TEST(ParallelForTest, ForEachVisitsEveryIndexOnceAndRethrows) {
  for (int threads : {1, 2, 5}) {
    std::vector<std::atomic<int>> seen(333);
    ParallelForEach(threads, 333, [&](int64_t i) { ++seen[i]; });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1) << threads << " threads";
  }
  EXPECT_THROW(ParallelForEach(3, 100,
                               [](int64_t i) {
                                 if (i == 42) throw std::runtime_error("item 42");
                               }),
               std::runtime_error);
}

TEST(ParallelForTest, NestedLoopsRunInline) {
  std::atomic<int64_t> sum{0};
  ParallelForEach(4, 8, [&](int64_t) {
    ParallelFor(4, 100, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  });
  EXPECT_EQ(sum.load(), 800);
}

TEST(ParallelForTest, OrderedMapConsumesInOrderWithinTheWindow) {
  for (int workers : {1, 2, 7}) {
    std::atomic<int64_t> produced{0};
    int64_t consumed = 0;
    int64_t max_ahead = 0;
    OrderedParallelMap<std::string>(
        workers, 500, 16,
        [&](int64_t i) {
          ++produced;
          return std::to_string(i);
        },
        [&](int64_t i, std::string&& s) {
          ASSERT_EQ(i, consumed);
          ASSERT_EQ(s, std::to_string(i));
          ++consumed;
          // Items produced before this one was handed over, beyond it: at most the window.
          max_ahead = std::max(max_ahead, produced.load() - consumed);
        });
    EXPECT_EQ(consumed, 500);
    EXPECT_LE(max_ahead, 16) << workers << " workers";
  }
}

TEST(ParallelForTest, OrderedMapErrorsComeBackInOrder) {
  int64_t consumed = 0;
  try {
    OrderedParallelMap<int>(
        3, 200, 8,
        [](int64_t i) -> int {
          if (i == 50 || i == 120) throw std::runtime_error("item " + std::to_string(i));
          return static_cast<int>(i);
        },
        [&](int64_t, int&&) { ++consumed; });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "item 50");
  }
  EXPECT_EQ(consumed, 50);
  // A consumer error stops the producers (no hang) and comes back.
  EXPECT_THROW(OrderedParallelMap<int>(
                   2, 10000, 4, [](int64_t i) { return static_cast<int>(i); },
                   [](int64_t i, int&&) {
                     if (i == 3) throw std::runtime_error("disk full");
                   }),
               std::runtime_error);
}

TEST(ParallelForTest, ResolveThreadCount) {
  EXPECT_EQ(ResolveThreadCount(3, 256), 3);
  EXPECT_GE(ResolveThreadCount(0, 256), 1);
  EXPECT_LE(ResolveThreadCount(0, 1), 1);
  try {
    ResolveThreadCount(300, 256);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--num_threads must be between 0 (all cores) and 256, got 300");
  }
}

TEST(ParallelForTest, ThreadStartErrorNamesTheThread) {
  const ThreadStartError e(2, 8, "Resource temporarily unavailable");
  EXPECT_EQ(e.thread(), 2);
  EXPECT_EQ(e.wanted(), 8);
  EXPECT_STREQ(e.what(), "cannot start thread 2 of 8: Resource temporarily unavailable");
}

}  // namespace
}  // namespace melody
