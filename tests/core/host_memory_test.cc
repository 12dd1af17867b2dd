// RetainFreedHostMemory: buffers freed and allocated again step after step (as a model
// step does) come back without page faults once the first step has run.
#include "core/host_memory.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace melody {
namespace {

long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One "step": buffers of a generation step's sizes (0.8 to 3 MiB), allocated in one order,
// written, and freed in another; returns the page faults it took.
long Step() {
  const long before = MinorFaults();
  std::vector<void*> buffers;
  for (size_t size : {840u << 10, 840u << 10, 800u << 10, 800u << 10, 3u << 20, 1u << 20}) {
    void* p = std::malloc(size);
    std::memset(p, 1, size);
    buffers.push_back(p);
  }
  for (size_t i = 0; i < buffers.size(); i += 2) std::free(buffers[i]);
  for (size_t i = 1; i < buffers.size(); i += 2) std::free(buffers[i]);
  return MinorFaults() - before;
}

TEST(HostMemory, RepeatedStepsReuseFreedPages) {
  RetainFreedHostMemory();
  const long first = Step();
  long later = 0;
  for (int i = 0; i < 5; ++i) later += Step();
  // The first step touches about 1,800 new 4 KiB pages; five more steps must reuse them.
  EXPECT_GT(first, 500);
  EXPECT_LT(later, 50) << "page faults in 5 repeated steps after the first (" << first << ")";
}

}  // namespace
}  // namespace melody
