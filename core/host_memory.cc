#include "core/host_memory.h"

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace melody {

void RetainFreedHostMemory() {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  // Setting either threshold also turns off glibc's own adjustment of both.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

}  // namespace melody
