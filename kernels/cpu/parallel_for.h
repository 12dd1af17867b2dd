// The thread pool moved to core/parallel_for.h (namespace melody). This alias keeps the
// remaining `cpu::ParallelFor` spelling (apps/lib/generate_beam_search.cc) compiling; new
// code includes core/parallel_for.h. Remove it once no file includes it.
#pragma once

#include "core/parallel_for.h"

namespace melody::cpu {
using melody::ParallelFor;
}  // namespace melody::cpu
