#include "kernels/cpu/avx2_dispatch.h"

namespace melody::cpu {

bool UseAvx2Loops() {
#if MELODY_KERNELS_AVX2
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2;
#else
  return false;
#endif
}

}  // namespace melody::cpu
