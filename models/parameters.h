// The trainable variables of a Melody RNN: TF names, shapes and creation order
// (shared/spec/model.md §3.1-3.2), which role each plays in the network (ModelLayout), the
// initialisers (§3.3: Glorot uniform for kernels, attn_w, attn_v and the output weights,
// zeros for biases) and a name-addressed set of tensors (Parameters) used for weights,
// gradients, Adam slots, checkpoints and the reference fixtures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/attention_layer.h"
#include "models/melody_rnn_config.h"

namespace melody {

// Everything that decides the variable set.
struct ModelShape {
  int input_size = 0;
  int num_classes = 0;
  std::vector<int> layer_sizes;
  int attn_length = 0;  // > 0: attention wrapper on layer 0
  bool residual_connections = false;

  static ModelShape From(const EncoderSizes& sizes, const ModelHParams& hparams);
};

enum class InitKind { kGlorotUniform, kZeros };

struct VariableSpec {
  std::string name;  // checkpoint name (no ":0")
  Shape shape;
  InitKind init = InitKind::kZeros;
};

// Indices into ModelLayout::variables of one layer's variables (-1 when absent) and its
// widths. A layer computes (model.md §2.2, §2.6):
//   x_in   = input_projection ? x · P + p : x            (width lstm_input_width)
//   out    = attention ? AttentionCell(x_in) : LSTM(x_in)
//   out    = residual ? out + x_in : out
//   output = dropout(out)
struct LayerVariables {
  int size = 0;              // N_k
  int input_width = 0;       // width of the layer's input x
  int lstm_input_width = 0;  // in_k: width after the optional input projection
  bool residual = false;
  int input_projection_kernel = -1, input_projection_bias = -1;
  int lstm_kernel = -1, lstm_bias = -1;
  // Attention wrapper (layer 0 only, when attn_length > 0).
  int attn_input_kernel = -1, attn_input_bias = -1;    // [in + A, in], [in]
  int attn_w = -1, attn_v = -1;                        // [1, 1, A, V], [V]
  int attn_query_kernel = -1, attn_query_bias = -1;    // [2N, V], [V]
  int attn_output_kernel = -1, attn_output_bias = -1;  // [N + A, A], [A]
  bool has_attention() const { return attn_w >= 0; }
  bool has_input_projection() const { return input_projection_kernel >= 0; }
};

struct ModelLayout {
  ModelShape shape;
  std::vector<VariableSpec> variables;  // creation order
  std::vector<LayerVariables> layers;
  int fc_weights = -1, fc_biases = -1;

  // Throws melody::Error for shapes no graph can be built from.
  static ModelLayout Build(const ModelShape& shape);
  int64_t NumParameters() const;
  int IndexOf(const std::string& name) const;  // -1 when absent
};

// A set of tensors, one per variable of a layout, addressed by index or TF name.
class Parameters {
 public:
  Parameters() = default;
  // Zero-filled tensors on `device`.
  explicit Parameters(const ModelLayout& layout, Device device = Device::CPU());

  const ModelLayout& layout() const { return layout_; }
  size_t size() const { return tensors_.size(); }
  const std::string& name(size_t i) const { return layout_.variables.at(i).name; }
  Tensor& at(size_t i) { return tensors_.at(i); }
  const Tensor& at(size_t i) const { return tensors_.at(i); }
  Device device() const { return device_; }

  bool Has(const std::string& name) const { return layout_.IndexOf(name) >= 0; }
  // Throws melody::Error naming the variable when it does not exist.
  Tensor& Get(const std::string& name);
  const Tensor& Get(const std::string& name) const;
  // Copies `value` (float32, any device) into the variable; the shape must match exactly.
  void Set(const std::string& name, const Tensor& value);

  int64_t NumElements() const { return layout_.NumParameters(); }
  void SetZero();
  // Glorot-uniform / zero initialisation (model.md §3.3) from Philox keyed by `seed`:
  // element e of variable v gets U(−r, r) from PhiloxUniform(seed, v, 0, e).
  void InitializeRandom(uint64_t seed);
  // Deep copy onto ctx's device, ordered on ctx's stream (kernels/stream_ops.h).
  Parameters CopyTo(Context& ctx) const;

 private:
  ModelLayout layout_;
  Device device_;
  std::vector<Tensor> tensors_;
};

// The attention layer's weights of layer L as aliases of the tensors `v` (parameters or
// their gradients, indexed like LayerVariables).
AttentionLayerWeights AttentionWeightsOf(const LayerVariables& L, const std::vector<Tensor>& v);

// The Glorot-uniform limit sqrt(6 / (fan_in + fan_out)) of a variable shape (2-D [a, b]:
// a, b; [1, 1, A, V]: A, V; 1-D [V]: V, V).
double GlorotLimit(const Shape& shape);

}  // namespace melody
