// The generate-mode network (shared/spec/model.md §2.8, §6): the same stack without
// dropout and without lengths (every position of every row is run), from a given state to
// the final state, with the output softmax(logits / temperature) at every position. The
// generator calls it with the whole primer first and then one step at a time, feeding the
// final state back.
//
// State layout, flattened depth-first as the reference's initial_state / final_state
// collections: [c_0, h_0, c_1, h_1, ...]; with attention on layer 0:
// [c_0, h_0, attns, window, c_1, h_1, ...], attns [B, A], window [B, Lw·A] (oldest slot
// first).
#pragma once

#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "models/parameters.h"

namespace melody {

// The zero state for a batch of `batch` rows, on ctx's device (zeroed on ctx's stream).
std::vector<Tensor> ZeroGenerateState(Context& ctx, const ModelLayout& layout, int64_t batch);

// inputs [B, T, I] float32 on ctx.device(); *state (updated in place to the final state)
// as above; temperature > 0. Returns softmax(logits / temperature) as a host float32
// tensor [B, T, C] (the division is element-wise, as in the reference).
//
// window_keys (optional): a cache beside the state of the attention window's key
// projections (window · attn_w), one [B, Lw·N] tensor per layer (undefined for layers
// without attention, or when not yet known). Given, the call uses the defined entries
// instead of re-projecting the whole window and replaces them with the final window's
// keys, so a step-by-step caller projects each window entry once. Rows follow the state's
// rows (gather both alike).
Tensor GenerateForward(Context& ctx, const ModelLayout& layout, const Parameters& params,
                       const Tensor& inputs, float temperature, std::vector<Tensor>* state,
                       std::vector<Tensor>* window_keys = nullptr);

}  // namespace melody
