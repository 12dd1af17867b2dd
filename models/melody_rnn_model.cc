// Composition of the kernels into the Melody RNN train/eval network (see the header).
#include "models/melody_rnn_model.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "kernels/dropout.h"
#include "kernels/gather_rows.h"
#include "kernels/linear.h"
#include "kernels/stream_ops.h"

namespace melody {

namespace {

// Reallocates *t only when its shape, dtype or device differs (buffers of ~30 MB are
// reused across training steps instead of re-faulting fresh pages).
void Ensure(Tensor* t, const Shape& shape, DType dtype, Device device) {
  if (t->defined() && t->shape() == shape && t->dtype() == dtype && t->device() == device) return;
  *t = Tensor(shape, dtype, device);
}

std::vector<Tensor> TensorsOf(const Parameters& p) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < p.size(); ++i) out.push_back(p.at(i));
  return out;
}

Tensor HostLengths(const std::vector<int32_t>& lengths) {
  Tensor t({static_cast<int64_t>(lengths.size())}, DType::kInt32);
  std::copy(lengths.begin(), lengths.end(), t.data<int32_t>());
  return t;
}

// Dropout of layer k at a step: Philox counter words c1 = step, c2 = layer.
DropoutConfig DropoutOf(const DropoutSetting& d, int layer) {
  DropoutConfig c;
  c.keep_prob = d.keep_prob;
  c.seed = d.seed;
  c.step = static_cast<uint32_t>(d.step);
  c.layer = static_cast<uint32_t>(layer);
  c.row_offset = d.row_offset;
  c.time_stride = d.time_stride;
  return c;
}

void CheckBatch(const ModelLayout& layout, const Tensor& inputs, const Tensor& labels,
                const std::vector<int32_t>& lengths) {
  MELODY_REQUIRE(inputs.defined() && inputs.rank() == 3 &&
                 inputs.dim(2) == layout.shape.input_size)
      << "model: inputs must be [B, T, " << layout.shape.input_size << "], got "
      << (inputs.defined() ? ShapeToString(inputs.shape()) : std::string("undefined"));
  const int64_t B = inputs.dim(0), T = inputs.dim(1);
  MELODY_REQUIRE(labels.defined() && labels.rank() == 2 && labels.dim(0) == B &&
                 labels.dim(1) == T)
      << "model: labels must be [" << B << ", " << T << "], got "
      << (labels.defined() ? ShapeToString(labels.shape()) : std::string("undefined"));
  MELODY_REQUIRE(static_cast<int64_t>(lengths.size()) == B)
      << "model: " << lengths.size() << " lengths for a batch of " << B;
  int64_t total = 0;
  for (int32_t len : lengths) {
    MELODY_REQUIRE(len >= 0 && len <= T) << "model: length " << len << " outside [0, " << T << "]";
    total += len;
  }
  MELODY_REQUIRE(total > 0) << "model: the batch has no valid position (all lengths are 0)";
}

// Adds the wall time since the last Mark() to a profile field (when profiling).
class SectionClock {
 public:
  SectionClock(Context& ctx, bool enabled) : ctx_(ctx), enabled_(enabled) { Mark(nullptr); }
  void Mark(double* field) {
    if (!enabled_) return;
    ctx_.Synchronize();
    const auto now = std::chrono::steady_clock::now();
    if (field != nullptr) *field += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  Context& ctx_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

struct MelodyRnnModel::LayerState {
  Tensor x_proj;  // [B, T, N] input projection output (if any)
  Tensor inner;   // [B, T, N] LSTM / attention layer output
  Tensor pre;     // [B, T, N] inner + x_in (residual only)
  Tensor out;     // [B, T, N] after dropout (keep < 1 only)
  LstmLayerCache lstm_cache;
  AttentionLayerActivations attention;
  Tensor d_pre, d_xin, d_x;
};

MelodyRnnModel::MelodyRnnModel(ModelLayout layout, int no_event_label)
    : layout_(std::move(layout)), no_event_label_(no_event_label) {
  for (size_t k = 0; k < layout_.layers.size(); ++k)
    layers_.push_back(std::make_shared<LayerState>());
}

ModelStepResult MelodyRnnModel::Run(Context& ctx, const Parameters& params,
                                    const ModelBatch& batch, const DropoutSetting& dropout,
                                    Parameters* grads, Tensor* logits_out) {
  CheckBatch(layout_, batch.inputs, batch.labels, batch.lengths);
  MELODY_REQUIRE(params.size() == layout_.variables.size())
      << "model: parameter set has " << params.size() << " variables, layout "
      << layout_.variables.size();
  MELODY_REQUIRE(dropout.keep_prob > 0.0f && dropout.keep_prob <= 1.0f)
      << "model: dropout keep probability " << dropout.keep_prob << " outside (0, 1]";
  const Device dev = ctx.device();
  MELODY_REQUIRE(batch.inputs.device() == dev && batch.labels.device() == dev)
      << "model: batch must be on " << dev.ToString();
  const int64_t B = batch.inputs.dim(0), T = batch.inputs.dim(1);
  const std::vector<Tensor> v = TensorsOf(params);
  const Tensor lengths = HostLengths(batch.lengths);
  const bool use_dropout = dropout.keep_prob < 1.0f;

  Profile unused;
  Profile& prof = profile_ ? *profile_ : unused;
  SectionClock clock(ctx, profile_ != nullptr);

  // ---- forward ----
  Tensor x = batch.inputs;
  std::vector<Tensor> layer_inputs, inner_inputs;  // x and x_in of every layer
  for (size_t k = 0; k < layout_.layers.size(); ++k) {
    const LayerVariables& L = layout_.layers[k];
    LayerState& s = *layers_[k];
    const int64_t N = L.size;
    layer_inputs.push_back(x);
    Tensor x_in = x;
    if (L.has_input_projection()) {
      Ensure(&s.x_proj, {B, T, N}, DType::kFloat32, dev);
      LinearForward(ctx, x, v[L.input_projection_kernel], v[L.input_projection_bias], &s.x_proj);
      x_in = s.x_proj;
      clock.Mark(&prof.input_projection);
    }
    inner_inputs.push_back(x_in);
    Ensure(&s.inner, {B, T, N}, DType::kFloat32, dev);
    if (L.has_attention()) {
      AttentionLayerForward(ctx, x_in, lengths, AttentionWeightsOf(L, v),
                            layout_.shape.attn_length, nullptr, &s.inner,
                            grads ? &s.attention : nullptr, nullptr);
    } else {
      LstmLayerForward(ctx, x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], &s.inner,
                       grads ? &s.lstm_cache : nullptr);
    }
    clock.Mark(&prof.recurrent_forward);
    Tensor pre = s.inner;
    if (L.residual) {
      Ensure(&s.pre, {B, T, N}, DType::kFloat32, dev);
      CopyOnStream(ctx, s.inner, &s.pre);
      AddInPlace(ctx, x_in, &s.pre);
      pre = s.pre;
    }
    if (use_dropout) {
      Ensure(&s.out, {B, T, N}, DType::kFloat32, dev);
      DropoutForward(ctx, pre, DropoutOf(dropout, static_cast<int>(k)), &s.out);
      x = s.out;
    } else {
      x = pre;
    }
    clock.Mark(&prof.dropout_residual);
  }

  // ---- output layer and loss over the valid positions ----
  const Tensor host_rows = ValidPositionRows(batch.lengths, T);
  const int64_t P = host_rows.dim(0);
  Ensure(&out_.rows, {P}, DType::kInt32, dev);
  CopyOnStream(ctx, host_rows, &out_.rows);
  const Tensor& rows = out_.rows;
  const int64_t N_last = layout_.layers.back().size;
  const int64_t C = layout_.shape.num_classes;
  Ensure(&out_.o_flat, {P, N_last}, DType::kFloat32, dev);
  Tensor& o_flat = out_.o_flat;
  GatherRows(ctx, x, rows, &o_flat);
  // The logits handed to the caller must not be overwritten by the next call: allocate
  // them fresh when requested.
  Tensor logits = logits_out ? Tensor({P, C}, DType::kFloat32, dev) : Tensor();
  if (!logits_out) {
    Ensure(&out_.logits, {P, C}, DType::kFloat32, dev);
    logits = out_.logits;
  }
  LinearForward(ctx, o_flat, v[layout_.fc_weights], v[layout_.fc_biases], &logits);
  Ensure(&out_.labels_flat, {P, 1}, batch.labels.dtype(), dev);
  GatherRows(ctx, batch.labels, rows, &out_.labels_flat);
  Tensor dlogits;
  if (grads) {
    Ensure(&out_.dlogits, {P, C}, DType::kFloat32, dev);
    dlogits = out_.dlogits;
  }
  ModelStepResult result;
  result.counts = SoftmaxCrossEntropy(ctx, logits, out_.labels_flat.Reshaped({P}), no_event_label_,
                                      grads ? &dlogits : nullptr);
  result.metrics = TrainMetricsFromCounts(result.counts);
  if (logits_out) *logits_out = logits;
  clock.Mark(&prof.output_and_loss);
  if (!grads) return result;

  // ---- backward ----
  MELODY_REQUIRE(grads->size() == layout_.variables.size() && grads->device() == dev)
      << "model: gradient set must match the layout and be on " << dev.ToString();
  for (size_t i = 0; i < grads->size(); ++i) ZeroOnStream(ctx, &grads->at(i));
  std::vector<Tensor> g = TensorsOf(*grads);
  Ensure(&out_.d_oflat, {P, N_last}, DType::kFloat32, dev);
  LinearBackward(ctx, o_flat, v[layout_.fc_weights], dlogits, &out_.d_oflat,
                 &g[layout_.fc_weights], &g[layout_.fc_biases], GradMode::kOverwrite);
  Ensure(&out_.d_out, {B, T, N_last}, DType::kFloat32, dev);
  ScatterRows(ctx, out_.d_oflat, rows, &out_.d_out);
  Tensor d_out = out_.d_out;
  clock.Mark(&prof.output_and_loss);

  for (int k = static_cast<int>(layout_.layers.size()) - 1; k >= 0; --k) {
    const LayerVariables& L = layout_.layers[k];
    LayerState& s = *layers_[k];
    const int64_t N = L.size;
    // d pre = dropout backward of d out.
    Tensor d_pre = d_out;
    if (use_dropout) {
      Ensure(&s.d_pre, {B, T, N}, DType::kFloat32, dev);
      DropoutBackward(ctx, d_out, DropoutOf(dropout, k), &s.d_pre);
      d_pre = s.d_pre;
    }
    clock.Mark(&prof.dropout_residual);
    const Tensor& x_in = inner_inputs[k];
    const bool need_dx_in = k > 0 || L.has_input_projection();
    Tensor* d_xin = nullptr;
    if (need_dx_in) {
      Ensure(&s.d_xin, {B, T, x_in.dim(2)}, DType::kFloat32, dev);
      d_xin = &s.d_xin;
    }
    if (L.has_attention()) {
      AttentionLayerWeights gw = AttentionWeightsOf(L, g);
      AttentionLayerBackward(ctx, x_in, AttentionWeightsOf(L, v), s.attention, d_pre, &gw, d_xin);
    } else {
      LstmLayerBackward(ctx, x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], s.inner, d_pre,
                        s.lstm_cache, d_xin, &g[L.lstm_kernel], &g[L.lstm_bias]);
    }
    clock.Mark(&prof.recurrent_backward);
    if (!need_dx_in) break;
    if (L.residual) AddInPlace(ctx, d_pre, d_xin);
    clock.Mark(&prof.dropout_residual);
    if (L.has_input_projection()) {
      Tensor* d_x = nullptr;
      if (k > 0) {
        Ensure(&s.d_x, layer_inputs[k].shape(), DType::kFloat32, dev);
        d_x = &s.d_x;
      }
      LinearBackward(ctx, layer_inputs[k], v[L.input_projection_kernel], *d_xin, d_x,
                     &g[L.input_projection_kernel], &g[L.input_projection_bias],
                     GradMode::kOverwrite);
      clock.Mark(&prof.input_projection);
      if (k == 0) break;
      d_out = s.d_x;
    } else {
      d_out = *d_xin;
    }
  }
  return result;
}

MelodyRnnModel::FlopCount MelodyRnnModel::CountGemmFlops(const std::vector<int32_t>& lengths) const {
  double positions = 0;
  for (int32_t len : lengths) positions += len;
  FlopCount f;
  for (const LayerVariables& L : layout_.layers) {
    const double N = L.size, in = L.lstm_input_width;
    double fwd = 0;
    if (L.has_input_projection()) fwd += 2.0 * L.input_width * N;
    if (L.has_attention()) {
      fwd += 2.0 * (in + N) * in;   // input projection [x ; a] -> in
      fwd += 2.0 * (in + N) * 4 * N;  // LSTM
      fwd += 2.0 * 2 * N * N;       // query projection
      fwd += 2.0 * N * N;           // key projection of the new output
      fwd += 2.0 * 2 * N * N;       // output projection
    } else {
      fwd += 2.0 * (in + N) * 4 * N;
    }
    f.forward += fwd * positions;
    f.backward += 2 * fwd * positions;  // d input and d weight products
  }
  const double out = 2.0 * layout_.layers.back().size * layout_.shape.num_classes * positions;
  f.forward += out;
  f.backward += 2 * out;
  return f;
}

// ---------------------------------------------------------------------------------------
// Reference network in scalar type T.

namespace reference {

template <typename T>
std::vector<Tensor> ParametersAs(const Parameters& params) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor host = params.at(i).CopyTo(Device::CPU());
    Tensor t(host.shape(), DTypeOf<T>::value);
    for (int64_t e = 0; e < host.numel(); ++e) t.data<T>()[e] = static_cast<T>(host.data<float>()[e]);
    out.push_back(t);
  }
  return out;
}

template <typename T>
double MelodyRnnForwardBackward(const ModelLayout& layout, const std::vector<Tensor>& v,
                                const Tensor& inputs, const Tensor& labels,
                                const std::vector<int32_t>& lengths,
                                const DropoutSetting& dropout, int no_event_label,
                                std::vector<Tensor>* grads, Tensor* logits_out) {
  CheckBatch(layout, inputs, labels, lengths);
  MELODY_REQUIRE(v.size() == layout.variables.size()) << "reference model: wrong parameter count";
  const DType dt = DTypeOf<T>::value;
  const int64_t B = inputs.dim(0), Tm = inputs.dim(1);
  const Tensor len = HostLengths(lengths);
  const bool use_dropout = dropout.keep_prob < 1.0f;

  Tensor x = inputs;
  std::vector<Tensor> layer_inputs, inner_inputs, inners, pres;
  for (size_t k = 0; k < layout.layers.size(); ++k) {
    const LayerVariables& L = layout.layers[k];
    const int64_t N = L.size;
    layer_inputs.push_back(x);
    Tensor x_in = x;
    if (L.has_input_projection()) {
      x_in = Tensor({B, Tm, N}, dt);
      LinearForward<T>(x, v[L.input_projection_kernel], v[L.input_projection_bias], &x_in);
    }
    inner_inputs.push_back(x_in);
    Tensor inner({B, Tm, N}, dt);
    if (L.has_attention()) {
      AttentionLayerForward<T>(x_in, len, AttentionWeightsOf(L, v), layout.shape.attn_length,
                               nullptr, &inner, nullptr);
    } else {
      LstmLayerForward<T>(x_in, len, v[L.lstm_kernel], v[L.lstm_bias], &inner);
    }
    inners.push_back(inner);
    Tensor pre = inner;
    if (L.residual) {
      pre = inner.Clone();
      AddInPlace<T>(x_in, &pre);
    }
    pres.push_back(pre);
    if (use_dropout) {
      Tensor out({B, Tm, N}, dt);
      DropoutForward<T>(pre, DropoutOf(dropout, static_cast<int>(k)), &out);
      x = out;
    } else {
      x = pre;
    }
  }
  const Tensor rows = ValidPositionRows(lengths, Tm);
  const int64_t P = rows.dim(0);
  const int64_t N_last = layout.layers.back().size, C = layout.shape.num_classes;
  Tensor o_flat({P, N_last}, dt);
  GatherRows<T>(x, rows, &o_flat);
  Tensor logits({P, C}, dt);
  LinearForward<T>(o_flat, v[layout.fc_weights], v[layout.fc_biases], &logits);
  Tensor labels64({B, Tm}, DType::kInt64);
  for (int64_t i = 0; i < B * Tm; ++i)
    labels64.data<int64_t>()[i] = labels.dtype() == DType::kInt32 ? labels.data<int32_t>()[i]
                                                                  : labels.data<int64_t>()[i];
  Tensor labels_flat({P, 1}, DType::kInt64);
  GatherRows<int64_t>(labels64, rows, &labels_flat);
  Tensor dlogits;
  if (grads) dlogits = Tensor({P, C}, dt);
  const CrossEntropyCounts counts = SoftmaxCrossEntropy<T>(
      logits, labels_flat.Reshaped({P}), no_event_label, grads ? &dlogits : nullptr);
  if (logits_out) *logits_out = logits;
  const double loss = counts.loss_sum / static_cast<double>(P);
  if (!grads) return loss;

  grads->clear();
  for (const auto& spec : layout.variables) grads->push_back(Tensor::Zeros(spec.shape, dt));
  std::vector<Tensor>& g = *grads;
  Tensor d_oflat({P, N_last}, dt);
  LinearBackward<T>(o_flat, v[layout.fc_weights], dlogits, &d_oflat, &g[layout.fc_weights],
                    &g[layout.fc_biases], GradMode::kOverwrite);
  Tensor d_out({B, Tm, N_last}, dt);
  ScatterRows<T>(d_oflat, rows, &d_out);
  for (int k = static_cast<int>(layout.layers.size()) - 1; k >= 0; --k) {
    const LayerVariables& L = layout.layers[k];
    const int64_t N = L.size;
    Tensor d_pre = d_out;
    if (use_dropout) {
      d_pre = Tensor({B, Tm, N}, dt);
      // The backward of y = x·scale·mask is the same map applied to dy.
      DropoutForward<T>(d_out, DropoutOf(dropout, k), &d_pre);
    }
    const Tensor& x_in = inner_inputs[k];
    Tensor d_xin({B, Tm, x_in.dim(2)}, dt);
    if (L.has_attention()) {
      AttentionLayerWeights gw = AttentionWeightsOf(L, g);
      AttentionLayerBackward<T>(x_in, len, AttentionWeightsOf(L, v), layout.shape.attn_length,
                                nullptr, d_pre, &gw, &d_xin);
    } else {
      LstmLayerBackward<T>(x_in, len, v[L.lstm_kernel], v[L.lstm_bias], d_pre, &d_xin,
                           &g[L.lstm_kernel], &g[L.lstm_bias]);
    }
    if (L.residual) AddInPlace<T>(d_pre, &d_xin);
    if (L.has_input_projection()) {
      Tensor d_x(layer_inputs[k].shape(), dt);
      LinearBackward<T>(layer_inputs[k], v[L.input_projection_kernel], d_xin, &d_x,
                        &g[L.input_projection_kernel], &g[L.input_projection_bias],
                        GradMode::kOverwrite);
      d_out = d_x;
    } else {
      d_out = d_xin;
    }
  }
  return loss;
}

template std::vector<Tensor> ParametersAs<float>(const Parameters&);
template std::vector<Tensor> ParametersAs<double>(const Parameters&);
template double MelodyRnnForwardBackward<float>(const ModelLayout&, const std::vector<Tensor>&,
                                                const Tensor&, const Tensor&,
                                                const std::vector<int32_t>&,
                                                const DropoutSetting&, int,
                                                std::vector<Tensor>*, Tensor*);
template double MelodyRnnForwardBackward<double>(const ModelLayout&, const std::vector<Tensor>&,
                                                 const Tensor&, const Tensor&,
                                                 const std::vector<int32_t>&,
                                                 const DropoutSetting&, int,
                                                 std::vector<Tensor>*, Tensor*);

}  // namespace reference
}  // namespace melody
