// Argument checks, allocation of the saved activations and dispatch of the attention
// layer (kernels/attention_layer.h) to the CPU or CUDA twin.
#include "kernels/attention_layer.h"

#include <algorithm>
#include <string>

#include "kernels/cpu/attention_layer_cpu.h"
#include "kernels/cuda/attention_layer_cuda.h"
#include "kernels/internal/attention_checks.h"
#include "kernels/internal/attention_layer_checks.h"

namespace melody {
namespace attention_internal {

LayerSizes CheckAttentionLayerArgs(const char* op, const Tensor& inputs,
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
  LayerSizes z;
  z.B = inputs.dim(0);
  z.T = inputs.dim(1);
  z.I = inputs.dim(2);
  z.N = w.attn_v.dim(0);
  z.Lw = attn_length;
  const int64_t I = z.I, N = z.N;
  RequireTensor(op, "inputs", inputs, {z.B, z.T, I}, dtype, device);
  RequireTensor(op, "input_kernel", w.input_kernel, {I + N, I}, dtype, device);
  RequireTensor(op, "input_bias", w.input_bias, {I}, dtype, device);
  RequireTensor(op, "lstm_kernel", w.lstm_kernel, {I + N, 4 * N}, dtype, device);
  RequireTensor(op, "lstm_bias", w.lstm_bias, {4 * N}, dtype, device);
  RequireAttnW(op, "attn_w", w.attn_w, N, N, dtype, device);
  RequireTensor(op, "attn_v", w.attn_v, {N}, dtype, device);
  RequireTensor(op, "query_kernel", w.query_kernel, {2 * N, N}, dtype, device);
  RequireTensor(op, "query_bias", w.query_bias, {N}, dtype, device);
  RequireTensor(op, "output_kernel", w.output_kernel, {2 * N, N}, dtype, device);
  RequireTensor(op, "output_bias", w.output_bias, {N}, dtype, device);
  if (initial) {
    RequireTensor(op, "initial.c", initial->c, {z.B, N}, dtype, device);
    RequireTensor(op, "initial.h", initial->h, {z.B, N}, dtype, device);
    RequireTensor(op, "initial.attns", initial->attns, {z.B, N}, dtype, device);
    RequireTensor(op, "initial.window", initial->window, {z.B, z.Lw, N}, dtype, device);
    if (initial->window_keys.defined())
      RequireTensor(op, "initial.window_keys", initial->window_keys, {z.B, z.Lw, N}, dtype,
                    device);
  }
  return z;
}

std::vector<int32_t> CheckedLengths(const char* op, const Tensor& lengths, int64_t B,
                                    int64_t T, Device device) {
  MELODY_REQUIRE(lengths.defined() && lengths.shape() == Shape{B} &&
                 lengths.dtype() == DType::kInt32)
      << op << ": lengths must be int32 [" << B << "]";
  MELODY_REQUIRE(lengths.device().is_cpu() || lengths.device() == device)
      << op << ": lengths are on " << lengths.device().ToString() << ", expected the CPU or "
      << device.ToString();
  const Tensor host = lengths.device().is_cpu() ? lengths : lengths.CopyTo(Device::CPU());
  std::vector<int32_t> len(host.data<int32_t>(), host.data<int32_t>() + B);
  for (int64_t b = 0; b < B; ++b)
    MELODY_REQUIRE(len[b] >= 0 && len[b] <= T)
        << op << ": lengths[" << b << "] = " << len[b] << " is outside [0, " << T << "]";
  return len;
}

}  // namespace attention_internal

namespace {

using attention_internal::LayerSizes;

[[noreturn]] void NoCuda(const char* op) {
  MELODY_FAIL() << op << ": CUDA context but " << CudaUnavailableReason();
}

void AllocateActivations(const LayerSizes& z, const std::vector<int32_t>& len, Device dev,
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
  const LayerSizes z = attention_internal::CheckAttentionLayerArgs(
      op, inputs, weights, attn_length, initial, DType::kFloat32, dev);
  const std::vector<int32_t> len = attention_internal::CheckedLengths(op, lengths, z.B, z.T, dev);
  attention_internal::RequireOutput(op, "outputs", outputs, {z.B, z.T, z.N}, DType::kFloat32,
                                    dev);
  AttentionLayerActivations local;
  AttentionLayerActivations* act = activations ? activations : &local;
  AllocateActivations(z, len, dev, act);
  if (final_state) {
    final_state->c = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->h = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->attns = Tensor({z.B, z.N}, DType::kFloat32, dev);
    final_state->window = Tensor({z.B, z.Lw, z.N}, DType::kFloat32, dev);
    final_state->window_keys = Tensor({z.B, z.Lw, z.N}, DType::kFloat32, dev);
  }
  if (ctx.is_cpu())
    return cpu::AttentionLayerForward(ctx, inputs, weights, initial, *act, outputs, final_state);
#if MELODY_HAVE_CUDA
  return cuda::AttentionLayerForward(ctx, inputs, weights, initial, *act, outputs, final_state);
#else
  NoCuda(op);
#endif
}

void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& weights,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs) {
  const char* op = "AttentionLayerBackward";
  const Device dev = ctx.device();
  const LayerSizes z = attention_internal::CheckAttentionLayerArgs(
      op, inputs, weights, static_cast<int>(act.attn_length), nullptr, DType::kFloat32, dev);
  MELODY_REQUIRE(act.batch == z.B && act.time == z.T && act.input_size == z.I &&
                 act.num_units == z.N && act.history_values.defined())
      << op << ": the activations were saved for another batch or weights";
  attention_internal::RequireTensor(op, "d_outputs", d_outputs, {z.B, z.T, z.N},
                                    DType::kFloat32, dev);
  MELODY_REQUIRE(grads != nullptr) << op << ": grads is null";
  attention_internal::CheckAttentionLayerArgs(op, inputs, *grads, static_cast<int>(z.Lw),
                                              nullptr, DType::kFloat32, dev);
  if (d_inputs)
    attention_internal::RequireOutput(op, "d_inputs", d_inputs, {z.B, z.T, z.I},
                                      DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionLayerBackward(ctx, inputs, weights, act, d_outputs, grads, d_inputs);
#if MELODY_HAVE_CUDA
  return cuda::AttentionLayerBackward(ctx, inputs, weights, act, d_outputs, grads, d_inputs);
#else
  NoCuda(op);
#endif
}

}  // namespace melody
