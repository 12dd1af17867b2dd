// CUDA twins of the melody feature ops (kernels/melody_features.h). Arguments are checked
// by the caller; each returns, per sequence, the first position whose event could not be
// encoded (-1 if none), after the kernel has finished.
#pragma once

#if MELODY_HAVE_CUDA
#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace melody::cuda {

std::vector<int> LookbackFeatures(Context& ctx, const Tensor& events,
                                  const std::vector<int32_t>& lengths, int min_note,
                                  int max_note, Tensor* features);
std::vector<int> KeyMelodyFeatures(Context& ctx, const Tensor& events,
                                   const std::vector<int32_t>& lengths, int min_note,
                                   int max_note, Tensor* features);

}  // namespace melody::cuda
#endif  // MELODY_HAVE_CUDA
