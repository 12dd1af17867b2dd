// Fast CPU twin of the attention layer (kernels/attention_layer.h). The dispatcher
// (kernels/attention_layer.cc) validates the arguments, allocates the activations and the
// final state; these functions fill them.
#pragma once

#include "kernels/attention_layer.h"

namespace melody::cpu {

void AttentionLayerForward(Context& ctx, const Tensor& inputs,
                           const AttentionLayerWeights& weights,
                           const AttentionLayerState* initial, AttentionLayerActivations& act,
                           Tensor* outputs, AttentionLayerState* final_state);

void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs);

}  // namespace melody::cpu
