#include "apps/lib/thread_count.h"

#include <algorithm>
#include <thread>

#include "core/error.h"

namespace melody {

int ResolveThreadCount(int requested, int max_threads) {
  MELODY_REQUIRE(requested >= 0 && requested <= max_threads)
      << "--num_threads must be between 0 (all cores) and " << max_threads << ", got "
      << requested;
  if (requested > 0) return requested;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores ? std::min(static_cast<int>(cores), max_threads) : 1;
}

}  // namespace melody
