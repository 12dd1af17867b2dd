// The attention-wrapped LSTM layer (layer 0 of attention_rnn; model.md §2.5, §2.7) over a
// padded batch, forward and backward. Per step t, for every sequence b with t < len[b]:
//
//   x'    = [x_t ; a_prev] · K_in + b_in            K_in [I + N, I]   (input projection)
//   c, h  = BasicLSTMCell(x', (c_prev, h_prev))      kernel [I + N, 4N] (kernels/lstm_cell.h)
//   y     = [c ; h] · K_q + b_q                     K_q [2N, N]
//   a_t   = attention read of y over the window     (kernels/attention.h; the window holds
//                                                     the last Lw outputs, before out_t)
//   out_t = [h ; a_t] · K_out + b_out               K_out [2N, N]
//   window <- drop oldest, append out_t
//
// Steps t >= len[b] output 0 and carry the whole state (c, h, a, window) unchanged
// (dynamic_rnn). out_t is what the next layer receives; dropout is the caller's business.
//
// The fast paths keep the window as a history of Lw + T entries per sequence (the initial
// window, then every output), each with its key projection out·attn_w computed once when
// the entry is appended: the window of step t is entries t .. t+Lw-1, i.e. the ring buffer
// of kernels/attention.h with capacity Lw + T and head t. The literal reference
// (namespace reference) instead shifts a [Lw, N] window and re-projects it at every step.
//
// Forward saves per-step activations (AttentionLayerActivations); backward runs the steps
// in reverse and returns the input gradient. Gradients w.r.t. the initial state are not
// computed (training starts from the zero state); the initial window still enters d attn_w
// through its keys.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// Variables of cell_0/attention_cell_wrapper (model.md §3.2), in TF's layouts.
struct AttentionLayerWeights {
  Tensor input_kernel;   // attention_cell_wrapper/kernel                    [I + N, I]
  Tensor input_bias;     // attention_cell_wrapper/bias                      [I]
  Tensor lstm_kernel;    // .../basic_lstm_cell/kernel                       [I + N, 4N]
  Tensor lstm_bias;      // .../basic_lstm_cell/bias (no forget bias)        [4N]
  Tensor attn_w;         // .../attention/attn_w                             [1, 1, N, N]
  Tensor attn_v;         // .../attention/attn_v                             [N]
  Tensor query_kernel;   // .../attention/kernel                             [2N, N]
  Tensor query_bias;     // .../attention/bias                               [N]
  Tensor output_kernel;  // .../attn_output_projection/kernel                [2N, N]
  Tensor output_bias;    // .../attn_output_projection/bias                  [N]
};

// Zero-filled tensors with the shapes of `like` (for gradients), on `device`, same dtype.
AttentionLayerWeights ZerosLikeWeights(const AttentionLayerWeights& like, Device device);

// The wrapper's state (model.md §2.8 order c, h, attns, window), plus a cache of the
// window's key projections so that a step-by-step caller (generation) never re-projects an
// entry: forward fills final_state->window_keys; an initial state whose window_keys is
// undefined gets them computed from window (one [Lw, N]·attn_w product per sequence).
struct AttentionLayerState {
  Tensor c, h;         // [B, N]
  Tensor attns;        // [B, N]
  Tensor window;       // [B, Lw, N], oldest first (the flattened [B, Lw·N] state, viewed 3-D)
  Tensor window_keys = Tensor();  // [B, Lw, N] = window · attn_w (optional when initial)
};

// What forward keeps for backward (device tensors; layouts are internal to the fast paths).
struct AttentionLayerActivations {
  int64_t batch = 0, time = 0, input_size = 0, num_units = 0, attn_length = 0;
  int64_t steps = 0;          // the loop count: the longest length in the batch
  Tensor lengths_host;        // [B] int32 on the CPU
  Tensor lengths;             // [B] int32 on the device
  Tensor x_proj;              // [B, T, I]      x' of every step
  Tensor gates;               // [T, B, 4N]     activated LSTM gates
  Tensor state;               // [T + 1, 2, B, N] c_t then h_t, index 0 = initial state
  Tensor attns;               // [T + 1, B, N]  a_t, index 0 = initial attns
  Tensor y;                   // [T, B, N]      query projections
  Tensor alpha;               // [T, B, Lw]     attention weights
  Tensor history_values;      // [B, Lw + T, N] initial window, then out_0 .. out_{T-1}
  Tensor history_keys;        // [B, Lw + T, N] their key projections
};

// inputs [B, T, I] float32 on ctx.device(); lengths [B] int32 on the CPU or ctx.device()
// (each in [0, T]); attn_length >= 1; initial may be null (zero state).
// Overwritten: outputs [B, T, N]. Optional: activations (needed for backward),
// final_state (allocated by the function; the state after len[b] steps of sequence b).
void AttentionLayerForward(Context& ctx, const Tensor& inputs, const Tensor& lengths,
                           const AttentionLayerWeights& weights, int attn_length,
                           const AttentionLayerState* initial, Tensor* outputs,
                           AttentionLayerActivations* activations,
                           AttentionLayerState* final_state);

// d_outputs [B, T, N] (positions t >= len[b] are ignored). Accumulated (+=): every tensor
// of *grads (same shapes as the weights). Overwritten: d_inputs [B, T, I] (may be null).
void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& activations,
                            const Tensor& d_outputs, AttentionLayerWeights* grads,
                            Tensor* d_inputs);

namespace reference {
// kernels/cpu/attention_layer_reference.cc: literal per-sequence loops of model.md
// §2.5/§2.7 on the CPU, T = float or double (all tensors of that dtype; lengths int32).
// Same contracts as above; the backward recomputes the forward itself. Validates its
// arguments.
template <typename T>
void AttentionLayerForward(const Tensor& inputs, const Tensor& lengths,
                           const AttentionLayerWeights& weights, int attn_length,
                           const AttentionLayerState* initial, Tensor* outputs,
                           AttentionLayerState* final_state);
template <typename T>
void AttentionLayerBackward(const Tensor& inputs, const Tensor& lengths,
                            const AttentionLayerWeights& weights, int attn_length,
                            const AttentionLayerState* initial, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs);
}  // namespace reference

namespace internal {
struct AttentionLayerSizes {
  int64_t B = 0, T = 0, I = 0, N = 0, Lw = 0;
};
// The argument checks shared by the dispatcher and the reference (kernels/
// attention_layer.cc, built on kernels/op_checks.h): sizes derived from the inputs and
// weights, every tensor checked (shape, dtype, device). inputs [B, T, I]; weights as in
// AttentionLayerWeights; initial (if any) [B, N] x3 and [B, Lw, N]. Everything of `dtype`
// on `device`; the lengths are checked by op_checks::CheckedHostLengths.
AttentionLayerSizes CheckAttentionLayerArgs(const char* op, const Tensor& inputs,
                                            const AttentionLayerWeights& weights,
                                            int attn_length,
                                            const AttentionLayerState* initial, DType dtype,
                                            Device device);

// Step t's slices of the saved activations (AttentionLayerActivations' layouts), written
// once for the forward and backward of the CPU and CUDA paths (on CUDA these are device
// pointers; only offsets are computed here). F is float for the forward, which writes
// them, and const float for the backward.
template <typename F>
struct AttentionLayerStep {
  F* a_prev;  // attns[t]                         [B, N]
  F* a_t;     // attns[t + 1]
  F* c_prev;  // state[t]: c, then h              [B, N] each
  F* h_prev;
  F* c_t;     // state[t + 1]
  F* h_t;
  F* x_proj;  // x' of step t: [B, I], rows T·I apart in x_proj
  F* gates;   // gates[t]                         [B, 4N]
  F* y;       // y[t]                             [B, N]
  F* alpha;   // alpha[t]                         [B, Lw]
  F* out;     // history entry Lw + t (out_t):    [B, N], rows (Lw + T)·N apart
  F* key;     // its key projection, same layout
};

template <typename F, typename Activations>
AttentionLayerStep<F> AttentionLayerStepOf(Activations& act, int64_t t) {
  const int64_t B = act.batch, I = act.input_size, N = act.num_units, Lw = act.attn_length;
  AttentionLayerStep<F> s;
  s.a_prev = act.attns.template data<float>() + t * B * N;
  s.a_t = s.a_prev + B * N;
  s.c_prev = act.state.template data<float>() + 2 * t * B * N;
  s.h_prev = s.c_prev + B * N;
  s.c_t = s.c_prev + 2 * B * N;
  s.h_t = s.c_t + B * N;
  s.x_proj = act.x_proj.template data<float>() + t * I;
  s.gates = act.gates.template data<float>() + t * B * 4 * N;
  s.y = act.y.template data<float>() + t * B * N;
  s.alpha = act.alpha.template data<float>() + t * B * Lw;
  s.out = act.history_values.template data<float>() + (Lw + t) * N;
  s.key = act.history_keys.template data<float>() + (Lw + t) * N;
  return s;
}
inline AttentionLayerStep<float> AttentionLayerStepAt(AttentionLayerActivations& act,
                                                      int64_t t) {
  return AttentionLayerStepOf<float>(act, t);
}
inline AttentionLayerStep<const float> AttentionLayerStepAt(
    const AttentionLayerActivations& act, int64_t t) {
  return AttentionLayerStepOf<const float>(act, t);
}
}  // namespace internal

// The twins the dispatcher (kernels/attention_layer.cc) calls once it has validated the
// arguments and allocated the activations and the final state; these functions fill them
// (float32).
namespace cpu {  // kernels/cpu/attention_layer.cc
void AttentionLayerForward(Context& ctx, const Tensor& inputs,
                           const AttentionLayerWeights& weights,
                           const AttentionLayerState* initial, AttentionLayerActivations& act,
                           Tensor* outputs, AttentionLayerState* final_state);
// One step (T = 1, every length 1) from a state whose window keys are known, without
// activations: generation's call. Reads the window where it is instead of copying it into
// a history, and writes the final state directly; the same products in the same order as
// AttentionLayerForward, so the same bits. final_state's tensors are allocated.
void AttentionLayerSingleStep(Context& ctx, const Tensor& inputs,
                              const AttentionLayerWeights& weights,
                              const AttentionLayerState& initial, Tensor* outputs,
                              AttentionLayerState* final_state);
void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/attention_layer.cu
void AttentionLayerForward(Context& ctx, const Tensor& inputs,
                           const AttentionLayerWeights& weights,
                           const AttentionLayerState* initial, AttentionLayerActivations& act,
                           Tensor* outputs, AttentionLayerState* final_state);
void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs);
}  // namespace cuda
#endif

}  // namespace melody
