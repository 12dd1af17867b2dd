// Validation shared by the attention layer's reference, fast CPU and CUDA paths: sizes
// derived from the inputs and weights, every tensor checked (shape, dtype, device) with a
// message naming the op and the argument.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/attention_layer.h"

namespace melody::attention_internal {

struct LayerSizes {
  int64_t B = 0, T = 0, I = 0, N = 0, Lw = 0;
};

// inputs [B, T, I]; weights as in AttentionLayerWeights; initial (if any) [B, N] x3 and
// [B, Lw, N]. Everything of `dtype` on `device`; lengths are checked separately.
LayerSizes CheckAttentionLayerArgs(const char* op, const Tensor& inputs,
                                   const AttentionLayerWeights& weights, int attn_length,
                                   const AttentionLayerState* initial, DType dtype,
                                   Device device);

// lengths [B] int32 (CPU or `device`) -> host copy, each value checked to lie in [0, T].
std::vector<int32_t> CheckedLengths(const char* op, const Tensor& lengths, int64_t B,
                                    int64_t T, Device device);

}  // namespace melody::attention_internal
