// CUDA twin of kernels/dropout.h (one thread per element, same Philox as the CPU).
#pragma once

#if MELODY_HAVE_CUDA
#include "kernels/dropout.h"

namespace melody::cuda {
void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst);
void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask);
}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
