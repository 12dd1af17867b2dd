// Argument checks, allocation of the saved activations and dispatch of the attention
// layer (kernels/attention_layer.h) to the CPU or CUDA twin.
#include "kernels/attention_layer.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {
namespace internal {

AttentionLayerSizes CheckAttentionLayerArgs(const char* op, const Tensor& inputs,
                                   const AttentionLayerWeights& w, int attn_length,
                                   const AttentionLayerState* initial, DType dtype,
                                   Device device) {
  MELODY_REQUIRE(inputs.defined() && inputs.rank() == 3)
      << op << ": inputs must be [B, T, I], got "
      << (inputs.defined() ? ShapeToString(inputs.shape()) : std::string("nothing"));
  MELODY_REQUIRE(attn_length >= 1)
      << op << ": attn_length should be greater than zero, got " << attn_length;
  MELODY_REQUIRE(w.attn_v.defined() && w.attn_v.rank() == 1)
      << op << ": attn_v must be [N]";
  AttentionLayerSizes z;
  z.B = inputs.dim(0);
  z.T = inputs.dim(1);
  z.I = inputs.dim(2);
  z.N = w.attn_v.dim(0);
  z.Lw = attn_length;
  const int64_t I = z.I, N = z.N;
  op_checks::CheckTensor(inputs, op, "inputs", {z.B, z.T, I}, dtype, device);
  op_checks::CheckTensor(w.input_kernel, op, "input_kernel", {I + N, I}, dtype, device);
  op_checks::CheckTensor(w.input_bias, op, "input_bias", {I}, dtype, device);
  op_checks::CheckTensor(w.lstm_kernel, op, "lstm_kernel", {I + N, 4 * N}, dtype, device);
  op_checks::CheckTensor(w.lstm_bias, op, "lstm_bias", {4 * N}, dtype, device);
  op_checks::CheckAttnW(w.attn_w, op, "attn_w", N, N, dtype, device);
  op_checks::CheckTensor(w.attn_v, op, "attn_v", {N}, dtype, device);
  op_checks::CheckTensor(w.query_kernel, op, "query_kernel", {2 * N, N}, dtype, device);
  op_checks::CheckTensor(w.query_bias, op, "query_bias", {N}, dtype, device);
  op_checks::CheckTensor(w.output_kernel, op, "output_kernel", {2 * N, N}, dtype, device);
  op_checks::CheckTensor(w.output_bias, op, "output_bias", {N}, dtype, device);
  if (initial) {
    op_checks::CheckTensor(initial->c, op, "initial.c", {z.B, N}, dtype, device);
    op_checks::CheckTensor(initial->h, op, "initial.h", {z.B, N}, dtype, device);
    op_checks::CheckTensor(initial->attns, op, "initial.attns", {z.B, N}, dtype, device);
    op_checks::CheckTensor(initial->window, op, "initial.window", {z.B, z.Lw, N}, dtype, device);
    if (initial->window_keys.defined())
      op_checks::CheckTensor(initial->window_keys, op, "initial.window_keys", {z.B, z.Lw, N},
                             dtype, device);
  }
  return z;
}

}  // namespace internal

namespace {

using internal::AttentionLayerSizes;

void AllocateActivations(const AttentionLayerSizes& z, const std::vector<int32_t>& len, Device dev,
                         AttentionLayerActivations* act) {
  act->batch = z.B;
  act->time = z.T;
  act->input_size = z.I;
  act->num_units = z.N;
  act->attn_length = z.Lw;
  act->steps = len.empty() ? 0 : *std::max_element(len.begin(), len.end());
  act->lengths_host = Tensor({z.B}, DType::kInt32);
  std::copy(len.begin(), len.end(), act->lengths_host.data<int32_t>());
  act->lengths = act->lengths_host.CopyTo(dev);
  const DType f32 = DType::kFloat32;
  act->x_proj = Tensor({z.B, z.T, z.I}, f32, dev);
  act->gates = Tensor({z.T, z.B, 4 * z.N}, f32, dev);
  act->state = Tensor({z.T + 1, 2, z.B, z.N}, f32, dev);
  act->attns = Tensor({z.T + 1, z.B, z.N}, f32, dev);
  act->y = Tensor({z.T, z.B, z.N}, f32, dev);
  act->alpha = Tensor({z.T, z.B, z.Lw}, f32, dev);
  act->history_values = Tensor({z.B, z.Lw + z.T, z.N}, f32, dev);
  act->history_keys = Tensor({z.B, z.Lw + z.T, z.N}, f32, dev);
}

}  // namespace

AttentionLayerWeights ZerosLikeWeights(const AttentionLayerWeights& like, Device device) {
  auto zeros = [&](const Tensor& t) {
    return Tensor::Zeros(t.shape(), t.dtype()).CopyTo(device);
  };
  AttentionLayerWeights g;
  g.input_kernel = zeros(like.input_kernel);
  g.input_bias = zeros(like.input_bias);
  g.lstm_kernel = zeros(like.lstm_kernel);
  g.lstm_bias = zeros(like.lstm_bias);
  g.attn_w = zeros(like.attn_w);
  g.attn_v = zeros(like.attn_v);
  g.query_kernel = zeros(like.query_kernel);
  g.query_bias = zeros(like.query_bias);
  g.output_kernel = zeros(like.output_kernel);
  g.output_bias = zeros(like.output_bias);
  return g;
}

void AttentionLayerForward(Context& ctx, const Tensor& inputs, const Tensor& lengths,
                           const AttentionLayerWeights& weights, int attn_length,
                           const AttentionLayerState* initial, Tensor* outputs,
                           AttentionLayerActivations* activations,
                           AttentionLayerState* final_state) {
  const char* op = "AttentionLayerForward";
  const Device dev = ctx.device();
  const AttentionLayerSizes z = internal::CheckAttentionLayerArgs(
      op, inputs, weights, attn_length, initial, DType::kFloat32, dev);
  const std::vector<int32_t> len = op_checks::CheckedHostLengths(lengths, op, z.B, z.T, dev);
  op_checks::CheckOutput(outputs, op, "outputs", {z.B, z.T, z.N}, DType::kFloat32, dev);
  if (final_state) {
    final_state->c = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->h = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->attns = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->window = Tensor({z.B, z.Lw, z.N}, DType::kFloat32, dev);
    final_state->window_keys = Tensor({z.B, z.Lw, z.N}, DType::kFloat32, dev);
  }
  // Generation's one step at a time with the window keys carried: no history, no copies.
  const bool single_step = z.T == 1 && std::all_of(len.begin(), len.end(), [](int32_t l) {
    return l == 1;
  });
  if (ctx.is_cpu() && single_step && activations == nullptr && final_state != nullptr &&
      initial != nullptr && initial->window_keys.defined()) {
    return cpu::AttentionLayerSingleStep(ctx, inputs, weights, *initial, outputs, final_state);
  }
  AttentionLayerActivations local;
  AttentionLayerActivations* act = activations ? activations : &local;
  AllocateActivations(z, len, dev, act);
  if (ctx.is_cpu())
    return cpu::AttentionLayerForward(ctx, inputs, weights, initial, *act, outputs, final_state);
#if MELODY_HAVE_CUDA
  return cuda::AttentionLayerForward(ctx, inputs, weights, initial, *act, outputs, final_state);
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs) {
  const char* op = "AttentionLayerBackward";
  const Device dev = ctx.device();
  const AttentionLayerSizes z = internal::CheckAttentionLayerArgs(
      op, inputs, weights, static_cast<int>(act.attn_length), nullptr, DType::kFloat32, dev);
  MELODY_REQUIRE(act.batch == z.B && act.time == z.T && act.input_size == z.I &&
                 act.num_units == z.N && act.history_values.defined())
      << op << ": the activations were saved for another batch or weights";
  op_checks::CheckTensor(d_outputs, op, "d_outputs", {z.B, z.T, z.N}, DType::kFloat32, dev);
  MELODY_REQUIRE(grads != nullptr) << op << ": grads is null";
  internal::CheckAttentionLayerArgs(op, inputs, *grads, static_cast<int>(z.Lw),
                                              nullptr, DType::kFloat32, dev);
  if (d_inputs)
    op_checks::CheckOutput(d_inputs, op, "d_inputs", {z.B, z.T, z.I}, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionLayerBackward(ctx, inputs, weights, act, d_outputs, grads, d_inputs);
#if MELODY_HAVE_CUDA
  return cuda::AttentionLayerBackward(ctx, inputs, weights, act, d_outputs, grads, d_inputs);
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

}  // namespace melody
