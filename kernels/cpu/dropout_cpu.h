// Fast CPU path of kernels/dropout.h: Philox per element, threads over batch rows.
#pragma once

#include "kernels/dropout.h"

namespace melody::cpu {
// dst = src · scale · mask over `view` (dst may be src).
void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst);
// mask = 1 where kept, 0 where dropped.
void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask);
}  // namespace melody::cpu
