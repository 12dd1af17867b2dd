#include "models/melody_rnn_generate.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "kernels/attention_layer.h"
#include "kernels/gather_rows.h"
#include "kernels/linear.h"
#include "kernels/lstm_cell.h"
#include "kernels/stream_ops.h"

namespace melody {

namespace {

// Number of state tensors a layer contributes (model.md §2.8).
int StateTensorsOf(const LayerVariables& layer) { return layer.has_attention() ? 4 : 2; }

}  // namespace

std::vector<Tensor> ZeroGenerateState(Context& ctx, const ModelLayout& layout, int64_t batch) {
  std::vector<Tensor> state;
  const Device device = ctx.device();
  for (const LayerVariables& L : layout.layers) {
    const int64_t N = L.size;
    state.emplace_back(Shape{batch, N}, DType::kFloat32, device);  // c
    state.emplace_back(Shape{batch, N}, DType::kFloat32, device);  // h
    if (L.has_attention()) {
      state.emplace_back(Shape{batch, N}, DType::kFloat32, device);  // attns
      state.emplace_back(Shape{batch, layout.shape.attn_length * N}, DType::kFloat32,
                         device);  // window
    }
  }
  for (Tensor& t : state) ZeroOnStream(ctx, &t);
  return state;
}

Tensor GenerateForward(Context& ctx, const ModelLayout& layout, const Parameters& params,
                       const Tensor& inputs, float temperature, std::vector<Tensor>* state,
                       std::vector<Tensor>* window_keys) {
  MELODY_REQUIRE(temperature > 0 && std::isfinite(temperature))
      << "generate: temperature must be a positive number, got " << temperature;
  MELODY_REQUIRE(inputs.defined() && inputs.rank() == 3 &&
                 inputs.dim(2) == layout.shape.input_size && inputs.device() == ctx.device())
      << "generate: inputs must be [B, T, " << layout.shape.input_size << "] on "
      << ctx.device().ToString();
  const int64_t B = inputs.dim(0), T = inputs.dim(1);
  MELODY_REQUIRE(T >= 1) << "generate: no input steps";
  size_t expected = 0;
  for (const LayerVariables& L : layout.layers) expected += StateTensorsOf(L);
  MELODY_REQUIRE(state != nullptr && state->size() == expected)
      << "generate: the state has " << (state ? state->size() : 0) << " tensors, the model "
      << expected;
  const Device dev = ctx.device();
  std::vector<Tensor> v;
  for (size_t i = 0; i < params.size(); ++i) v.push_back(params.at(i));

  Tensor lengths({B}, DType::kInt32);  // every row runs all T steps
  for (int64_t b = 0; b < B; ++b) lengths.data<int32_t>()[b] = static_cast<int32_t>(T);
  // rows_t[b] = b·T + t: the [B, F] slice of step t of a [B, T, F] tensor.
  std::vector<Tensor> step_rows;
  for (int64_t t = 0; t < T; ++t) {
    Tensor rows({B}, DType::kInt32);
    for (int64_t b = 0; b < B; ++b) rows.data<int32_t>()[b] = static_cast<int32_t>(b * T + t);
    Tensor device_rows({B}, DType::kInt32, dev);
    CopyOnStream(ctx, rows, &device_rows);
    step_rows.push_back(device_rows);
  }

  if (window_keys) window_keys->resize(layout.layers.size());
  Tensor x = inputs;
  size_t s = 0;  // index of this layer's first state tensor
  for (size_t l = 0; l < layout.layers.size(); ++l) {
    const LayerVariables& L = layout.layers[l];
    const int64_t N = L.size;
    Tensor x_in = x;
    if (L.has_input_projection()) {
      x_in = Tensor({B, T, N}, DType::kFloat32, dev);
      LinearForward(ctx, x, v[L.input_projection_kernel], v[L.input_projection_bias], &x_in);
    }
    Tensor inner({B, T, N}, DType::kFloat32, dev);
    if (L.has_attention()) {
      const int Lw = layout.shape.attn_length;
      AttentionLayerWeights w = AttentionWeightsOf(L, v);
      AttentionLayerState initial{(*state)[s], (*state)[s + 1], (*state)[s + 2],
                                  (*state)[s + 3].Reshaped({B, Lw, N})};
      if (window_keys && (*window_keys)[l].defined())
        initial.window_keys = (*window_keys)[l].Reshaped({B, Lw, N});
      AttentionLayerState final_state;
      AttentionLayerForward(ctx, x_in, lengths, w, Lw, &initial, &inner, nullptr, &final_state);
      if (window_keys)
        (*window_keys)[l] = final_state.window_keys.defined()
                                ? final_state.window_keys.Reshaped({B, Lw * N})
                                : Tensor();
      (*state)[s] = final_state.c;
      (*state)[s + 1] = final_state.h;
      (*state)[s + 2] = final_state.attns;
      (*state)[s + 3] = final_state.window.Reshaped({B, Lw * N});
    } else {
      // Step loop over the LSTM cell; h_t is placed into inner[:, t, :] by a scatter
      // (zeros elsewhere) and an add, since tensors have no strided views.
      const int64_t in = x_in.dim(2);
      Tensor c({B, N}, DType::kFloat32, dev), h({B, N}, DType::kFloat32, dev);
      CopyOnStream(ctx, (*state)[s], &c);
      CopyOnStream(ctx, (*state)[s + 1], &h);
      Tensor c_next({B, N}, DType::kFloat32, dev), h_next({B, N}, DType::kFloat32, dev);
      Tensor gates({B, 4 * N}, DType::kFloat32, dev), x_t({B, in}, DType::kFloat32, dev);
      Tensor placed({B, T, N}, DType::kFloat32, dev);
      ZeroOnStream(ctx, &inner);
      for (int64_t t = 0; t < T; ++t) {
        GatherRows(ctx, x_in, step_rows[t], &x_t);
        LstmCellForward(ctx, x_t, c, h, v[L.lstm_kernel], v[L.lstm_bias], &gates, &c_next, &h_next);
        std::swap(c, c_next);
        std::swap(h, h_next);
        ScatterRows(ctx, h, step_rows[t], &placed);
        AddInPlace(ctx, placed, &inner);
      }
      (*state)[s] = c;
      (*state)[s + 1] = h;
    }
    if (L.residual) AddInPlace(ctx, x_in, &inner);
    x = inner;
    s += StateTensorsOf(L);
  }

  const int64_t C = layout.shape.num_classes;
  Tensor logits({B, T, C}, DType::kFloat32, dev);
  LinearForward(ctx, x, v[layout.fc_weights], v[layout.fc_biases], &logits);
  Tensor probs({B, T, C}, DType::kFloat32);
  CopyOnStream(ctx, logits, &probs);  // waits for the queued work
  float* p = probs.data<float>();
  for (int64_t r = 0; r < B * T; ++r) {
    float* row = p + r * C;
    float max = -INFINITY;
    for (int64_t c = 0; c < C; ++c) {
      row[c] = row[c] / temperature;
      max = std::max(max, row[c]);
    }
    float sum = 0;
    for (int64_t c = 0; c < C; ++c) {
      row[c] = std::exp(row[c] - max);
      sum += row[c];
    }
    for (int64_t c = 0; c < C; ++c) row[c] /= sum;
  }
  return probs;
}

}  // namespace melody
