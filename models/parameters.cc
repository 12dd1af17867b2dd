#include "models/parameters.h"

#include <cmath>

#include "core/error.h"
#include "core/philox.h"
#include "kernels/stream_ops.h"

namespace melody {

ModelShape ModelShape::From(const EncoderSizes& sizes, const ModelHParams& hparams) {
  ModelShape s;
  s.input_size = sizes.input_size;
  s.num_classes = sizes.num_classes;
  s.layer_sizes = hparams.rnn_layer_sizes;
  s.attn_length = hparams.attn_length;
  s.residual_connections = hparams.residual_connections;
  return s;
}

namespace {

void AddVariable(ModelLayout* layout, const std::string& name, Shape shape, InitKind init,
                 int* index) {
  *index = static_cast<int>(layout->variables.size());
  layout->variables.push_back({name, std::move(shape), init});
}

}  // namespace

ModelLayout ModelLayout::Build(const ModelShape& shape) {
  MELODY_REQUIRE(shape.input_size >= 1 && shape.num_classes >= 1)
      << "model: input_size and num_classes must be positive, got " << shape.input_size
      << " and " << shape.num_classes;
  MELODY_REQUIRE(!shape.layer_sizes.empty()) << "model: rnn_layer_sizes is empty";
  MELODY_REQUIRE(shape.attn_length >= 0)
      << "attn_length should be greater than zero, got " << shape.attn_length;
  ModelLayout layout;
  layout.shape = shape;
  const auto G = InitKind::kGlorotUniform;
  const auto Z = InitKind::kZeros;
  int width = shape.input_size;  // the current layer's input width
  for (size_t k = 0; k < shape.layer_sizes.size(); ++k) {
    const int N = shape.layer_sizes[k];
    MELODY_REQUIRE(N >= 1) << "model: layer size " << N << " must be positive";
    LayerVariables layer;
    layer.size = N;
    layer.input_width = width;
    layer.residual = shape.residual_connections;
    std::string scope = "rnn/multi_rnn_cell/cell_" + std::to_string(k) + "/";
    const bool projection =
        shape.residual_connections && (k == 0 || N != shape.layer_sizes[k - 1]);
    if (projection) {
      scope += "input_projection_wrapper/";
      AddVariable(&layout, scope + "kernel", {width, N}, G, &layer.input_projection_kernel);
      AddVariable(&layout, scope + "bias", {N}, Z, &layer.input_projection_bias);
    }
    const int in = projection ? N : width;
    layer.lstm_input_width = in;
    if (k == 0 && shape.attn_length > 0) {
      const int A = N, V = N;
      scope += "attention_cell_wrapper/";
      AddVariable(&layout, scope + "kernel", {in + A, in}, G, &layer.attn_input_kernel);
      AddVariable(&layout, scope + "bias", {in}, Z, &layer.attn_input_bias);
      AddVariable(&layout, scope + "basic_lstm_cell/kernel", {in + N, 4 * N}, G, &layer.lstm_kernel);
      AddVariable(&layout, scope + "basic_lstm_cell/bias", {4 * N}, Z, &layer.lstm_bias);
      AddVariable(&layout, scope + "attention/attn_w", {1, 1, A, V}, G, &layer.attn_w);
      AddVariable(&layout, scope + "attention/attn_v", {V}, G, &layer.attn_v);
      AddVariable(&layout, scope + "attention/kernel", {2 * N, V}, G, &layer.attn_query_kernel);
      AddVariable(&layout, scope + "attention/bias", {V}, Z, &layer.attn_query_bias);
      AddVariable(&layout, scope + "attn_output_projection/kernel", {N + A, A}, G,
                  &layer.attn_output_kernel);
      AddVariable(&layout, scope + "attn_output_projection/bias", {A}, Z, &layer.attn_output_bias);
    } else {
      AddVariable(&layout, scope + "basic_lstm_cell/kernel", {in + N, 4 * N}, G, &layer.lstm_kernel);
      AddVariable(&layout, scope + "basic_lstm_cell/bias", {4 * N}, Z, &layer.lstm_bias);
    }
    if (shape.residual_connections) {
      // The residual addition needs the wrapped cell's output width (N) to equal its input.
      MELODY_REQUIRE(in == N) << "model: residual connection on layer " << k
                              << " adds width " << N << " to input width " << in;
    }
    layout.layers.push_back(layer);
    width = N;
  }
  AddVariable(&layout, "fully_connected/weights", {width, shape.num_classes}, G, &layout.fc_weights);
  AddVariable(&layout, "fully_connected/biases", {shape.num_classes}, Z, &layout.fc_biases);
  return layout;
}

int64_t ModelLayout::NumParameters() const {
  int64_t n = 0;
  for (const auto& v : variables) n += ShapeNumel(v.shape);
  return n;
}

int ModelLayout::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < variables.size(); ++i)
    if (variables[i].name == name) return static_cast<int>(i);
  return -1;
}

double GlorotLimit(const Shape& shape) {
  double fan_in = 1, fan_out = 1;
  if (shape.size() == 1) {
    fan_in = fan_out = static_cast<double>(shape[0]);
  } else if (shape.size() >= 2) {
    // Convolution-style [..., in, out]: the receptive field (leading dims) multiplies both.
    double receptive = 1;
    for (size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
    fan_in = receptive * static_cast<double>(shape[shape.size() - 2]);
    fan_out = receptive * static_cast<double>(shape[shape.size() - 1]);
  }
  return std::sqrt(6.0 / (fan_in + fan_out));
}

Parameters::Parameters(const ModelLayout& layout, Device device)
    : layout_(layout), device_(device) {
  for (const auto& v : layout_.variables)
    tensors_.push_back(Tensor::Zeros(v.shape, DType::kFloat32, device));
}

Tensor& Parameters::Get(const std::string& name) {
  const int i = layout_.IndexOf(name);
  MELODY_REQUIRE(i >= 0) << "model has no variable named " << name;
  return tensors_[i];
}

const Tensor& Parameters::Get(const std::string& name) const {
  const int i = layout_.IndexOf(name);
  MELODY_REQUIRE(i >= 0) << "model has no variable named " << name;
  return tensors_[i];
}

void Parameters::Set(const std::string& name, const Tensor& value) {
  Tensor& target = Get(name);
  MELODY_REQUIRE(value.dtype() == DType::kFloat32)
      << "variable " << name << ": expected float32, got " << DTypeName(value.dtype());
  MELODY_REQUIRE(value.shape() == target.shape())
      << "variable " << name << ": expected shape " << ShapeToString(target.shape())
      << ", got " << ShapeToString(value.shape());
  target.CopyFrom(value);
}

void Parameters::SetZero() {
  for (auto& t : tensors_) t.SetZero();
}

void Parameters::InitializeRandom(uint64_t seed) {
  for (size_t v = 0; v < tensors_.size(); ++v) {
    const VariableSpec& spec = layout_.variables[v];
    Tensor host = Tensor::Zeros(spec.shape, DType::kFloat32);
    if (spec.init == InitKind::kGlorotUniform) {
      const double limit = GlorotLimit(spec.shape);
      float* data = host.data<float>();
      for (int64_t e = 0; e < host.numel(); ++e) {
        const double u = PhiloxUniform(seed, static_cast<uint32_t>(v), 0, static_cast<uint64_t>(e));
        data[e] = static_cast<float>((2.0 * u - 1.0) * limit);
      }
    }
    tensors_[v].CopyFrom(host);
  }
}

Parameters Parameters::CopyTo(Context& ctx) const {
  Parameters out(layout_, ctx.device());
  for (size_t i = 0; i < tensors_.size(); ++i) CopyOnStream(ctx, tensors_[i], &out.tensors_[i]);
  return out;
}

AttentionLayerWeights AttentionWeightsOf(const LayerVariables& L, const std::vector<Tensor>& v) {
  AttentionLayerWeights w;
  w.input_kernel = v[L.attn_input_kernel];
  w.input_bias = v[L.attn_input_bias];
  w.lstm_kernel = v[L.lstm_kernel];
  w.lstm_bias = v[L.lstm_bias];
  w.attn_w = v[L.attn_w];
  w.attn_v = v[L.attn_v];
  w.query_kernel = v[L.attn_query_kernel];
  w.query_bias = v[L.attn_query_bias];
  w.output_kernel = v[L.attn_output_kernel];
  w.output_bias = v[L.attn_output_bias];
  return w;
}

}  // namespace melody
