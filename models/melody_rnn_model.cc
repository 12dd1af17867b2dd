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

// ---------------------------------------------------------------------------------------
// The network's steps, written once over a set of ops: FastOps (the kernels through a
// Context, into buffers reused across calls, with optional profiling) for MelodyRnnModel,
// ReferenceOps<T> (the plain reference kernels in scalar type T, fresh tensors) for
// reference::MelodyRnnForwardBackward.

namespace {

// One layer's tensors, from its forward step to its backward step.
struct LayerTensors {
  Tensor x_proj;  // [B, T, N] input projection output (if any)
  Tensor inner;   // [B, T, N] LSTM / attention layer output
  Tensor pre;     // [B, T, N] inner + x_in (residual only)
  Tensor out;     // [B, T, N] after dropout (keep < 1 only)
  LstmLayerCache lstm_cache;            // FastOps only (the reference recomputes)
  AttentionLayerActivations attention;  // FastOps only
  Tensor d_pre, d_xin, d_x;
};

// The output layer's and the loss's tensors.
struct OutputTensors {
  Tensor rows, o_flat, logits, labels_flat, dlogits, d_oflat, d_out;
};

using Profile = MelodyRnnModel::Profile;

class FastOps {
 public:
  FastOps(Context& ctx, Profile* profile)
      : ctx_(ctx), clock_(ctx, profile != nullptr), profile_(profile ? profile : &unused_) {}

  DType float_type() const { return DType::kFloat32; }
  // *slot, reallocated only when its shape or dtype changed.
  Tensor Buffer(Tensor* slot, const Shape& shape, DType dtype) {
    Ensure(slot, shape, dtype, ctx_.device());
    return *slot;
  }
  Tensor Fresh(const Shape& shape) { return Tensor(shape, DType::kFloat32, ctx_.device()); }
  // Adds the time since the previous mark to a profile section (when profiling).
  void Mark(double Profile::*section) { clock_.Mark(&(profile_->*section)); }

  void Linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor* y) {
    LinearForward(ctx_, x, w, b, y);
  }
  void LinearGrad(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw,
                  Tensor* db) {
    LinearBackward(ctx_, x, w, dy, dx, dw, db, GradMode::kOverwrite);
  }
  void Recurrent(const LayerVariables& L, const std::vector<Tensor>& v, int attn_length,
                 const Tensor& x_in, const Tensor& lengths, bool keep_for_backward,
                 LayerTensors* s) {
    if (L.has_attention()) {
      AttentionLayerForward(ctx_, x_in, lengths, AttentionWeightsOf(L, v), attn_length, nullptr,
                            &s->inner, keep_for_backward ? &s->attention : nullptr, nullptr);
    } else {
      LstmLayerForward(ctx_, x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], &s->inner,
                       keep_for_backward ? &s->lstm_cache : nullptr);
    }
  }
  void RecurrentGrad(const LayerVariables& L, const std::vector<Tensor>& v, int /*attn_length*/,
                     const Tensor& x_in, const Tensor& lengths, const LayerTensors& s,
                     const Tensor& d_pre, std::vector<Tensor>* g, Tensor* d_xin) {
    if (L.has_attention()) {
      AttentionLayerWeights gw = AttentionWeightsOf(L, *g);
      AttentionLayerBackward(ctx_, x_in, AttentionWeightsOf(L, v), s.attention, d_pre, &gw, d_xin);
    } else {
      LstmLayerBackward(ctx_, x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], s.inner, d_pre,
                        s.lstm_cache, d_xin, &(*g)[L.lstm_kernel], &(*g)[L.lstm_bias]);
    }
  }
  void Copy(const Tensor& src, Tensor* dst) { CopyOnStream(ctx_, src, dst); }
  void Add(const Tensor& x, Tensor* y) { AddInPlace(ctx_, x, y); }
  void Dropout(const Tensor& x, const DropoutConfig& c, Tensor* y) { DropoutForward(ctx_, x, c, y); }
  void DropoutGrad(const Tensor& dy, const DropoutConfig& c, Tensor* dx) {
    DropoutBackward(ctx_, dy, c, dx);
  }
  // The valid positions' row indices, on the device.
  Tensor Rows(const Tensor& host_rows, Tensor* slot) {
    Buffer(slot, {host_rows.dim(0)}, DType::kInt32);
    CopyOnStream(ctx_, host_rows, slot);
    return *slot;
  }
  void Gather(const Tensor& x, const Tensor& rows, Tensor* out) { GatherRows(ctx_, x, rows, out); }
  void Scatter(const Tensor& src, const Tensor& rows, Tensor* out) {
    ScatterRows(ctx_, src, rows, out);
  }
  // labels [B, T] -> [P, 1] at the valid rows, in the labels' own integer type.
  Tensor GatherLabels(const Tensor& labels, const Tensor& rows, Tensor* slot) {
    Buffer(slot, {rows.dim(0), 1}, labels.dtype());
    GatherRows(ctx_, labels, rows, slot);
    return *slot;
  }
  CrossEntropyCounts CrossEntropy(const Tensor& logits, const Tensor& labels, int no_event_label,
                                  Tensor* dlogits) {
    return SoftmaxCrossEntropy(ctx_, logits, labels, no_event_label, dlogits);
  }

 private:
  Context& ctx_;
  SectionClock clock_;
  Profile unused_;
  Profile* profile_;
};

// The steps of one forward (and backward) pass: Run and the reference model are this
// sequence, over their ops: ForwardLayer for each layer, OutputAndLoss, then OutputBackward
// and BackwardLayer for each layer from the last.
template <typename Ops>
class NetworkSteps {
 public:
  NetworkSteps(Ops& ops, const ModelLayout& layout, const std::vector<Tensor>& v,
               const Tensor& lengths, const DropoutSetting& dropout,
               std::vector<LayerTensors*> layers, OutputTensors* out)
      : ops_(ops), layout_(layout), v_(v), lengths_(lengths), dropout_(dropout),
        use_dropout_(dropout.keep_prob < 1.0f), layers_(std::move(layers)), out_(out) {}

  // Layer k over x (the batch or layer k-1's output): optional input projection, the
  // LSTM or attention layer, residual add, dropout. Returns the layer's output.
  Tensor ForwardLayer(size_t k, const Tensor& x, bool keep_for_backward) {
    const LayerVariables& L = layout_.layers[k];
    LayerTensors& s = *layers_[k];
    const Shape shape = {x.dim(0), x.dim(1), L.size};
    layer_inputs_.push_back(x);
    Tensor x_in = x;
    if (L.has_input_projection()) {
      x_in = ops_.Buffer(&s.x_proj, shape, ops_.float_type());
      ops_.Linear(x, v_[L.input_projection_kernel], v_[L.input_projection_bias], &x_in);
      ops_.Mark(&Profile::input_projection);
    }
    inner_inputs_.push_back(x_in);
    ops_.Buffer(&s.inner, shape, ops_.float_type());
    ops_.Recurrent(L, v_, layout_.shape.attn_length, x_in, lengths_, keep_for_backward, &s);
    ops_.Mark(&Profile::recurrent_forward);
    Tensor pre = s.inner;
    if (L.residual) {
      pre = ops_.Buffer(&s.pre, shape, ops_.float_type());
      ops_.Copy(s.inner, &pre);
      ops_.Add(x_in, &pre);
    }
    Tensor y = pre;
    if (use_dropout_) {
      y = ops_.Buffer(&s.out, shape, ops_.float_type());
      ops_.Dropout(pre, DropoutOf(dropout_, static_cast<int>(k)), &y);
    }
    ops_.Mark(&Profile::dropout_residual);
    return y;
  }

  // The last layer's output x at the valid positions (batch-major) -> fully connected ->
  // softmax cross-entropy against the labels there. With `backward`, keeps d loss / d
  // logits for OutputBackward. *logits_out (optional) receives freshly allocated logits.
  CrossEntropyCounts OutputAndLoss(const Tensor& x, const Tensor& labels,
                                   const std::vector<int32_t>& lengths, int no_event_label,
                                   bool backward, Tensor* logits_out) {
    batch_ = x.dim(0);
    time_ = x.dim(1);
    const Tensor host_rows = ValidPositionRows(lengths, time_);
    const int64_t P = host_rows.dim(0);
    const int64_t N_last = layout_.layers.back().size;
    const int64_t C = layout_.shape.num_classes;
    rows_ = ops_.Rows(host_rows, &out_->rows);
    o_flat_ = ops_.Buffer(&out_->o_flat, {P, N_last}, ops_.float_type());
    ops_.Gather(x, rows_, &o_flat_);
    // The logits handed to the caller must not be overwritten by the next call.
    Tensor logits = logits_out ? ops_.Fresh({P, C})
                               : ops_.Buffer(&out_->logits, {P, C}, ops_.float_type());
    ops_.Linear(o_flat_, v_[layout_.fc_weights], v_[layout_.fc_biases], &logits);
    const Tensor labels_flat = ops_.GatherLabels(labels, rows_, &out_->labels_flat);
    if (backward) dlogits_ = ops_.Buffer(&out_->dlogits, {P, C}, ops_.float_type());
    const CrossEntropyCounts counts = ops_.CrossEntropy(logits, labels_flat.Reshaped({P}),
                                                        no_event_label,
                                                        backward ? &dlogits_ : nullptr);
    if (logits_out) *logits_out = logits;
    ops_.Mark(&Profile::output_and_loss);
    return counts;
  }

  // Backward of OutputAndLoss: the output layer's gradients into *g; returns d loss / d
  // (the last layer's output), zero at the padded positions.
  Tensor OutputBackward(std::vector<Tensor>* g) {
    const int64_t P = rows_.dim(0), N_last = layout_.layers.back().size;
    Tensor d_oflat = ops_.Buffer(&out_->d_oflat, {P, N_last}, ops_.float_type());
    ops_.LinearGrad(o_flat_, v_[layout_.fc_weights], dlogits_, &d_oflat, &(*g)[layout_.fc_weights],
                    &(*g)[layout_.fc_biases]);
    Tensor d_out = ops_.Buffer(&out_->d_out, {batch_, time_, N_last}, ops_.float_type());
    ops_.Scatter(d_oflat, rows_, &d_out);
    ops_.Mark(&Profile::output_and_loss);
    return d_out;
  }

  // Backward of layer k from d_out (d loss / d its output): its gradients into *g.
  // Returns d loss / d (its input), or an undefined tensor when no layer below needs it.
  Tensor BackwardLayer(int k, const Tensor& d_out, std::vector<Tensor>* g) {
    const LayerVariables& L = layout_.layers[k];
    LayerTensors& s = *layers_[k];
    Tensor d_pre = d_out;
    if (use_dropout_) {
      d_pre = ops_.Buffer(&s.d_pre, d_out.shape(), ops_.float_type());
      ops_.DropoutGrad(d_out, DropoutOf(dropout_, k), &d_pre);
    }
    ops_.Mark(&Profile::dropout_residual);
    const Tensor& x_in = inner_inputs_[k];
    const bool need_dx_in = k > 0 || L.has_input_projection();
    Tensor* d_xin = nullptr;
    if (need_dx_in) {
      ops_.Buffer(&s.d_xin, {x_in.dim(0), x_in.dim(1), x_in.dim(2)}, ops_.float_type());
      d_xin = &s.d_xin;
    }
    ops_.RecurrentGrad(L, v_, layout_.shape.attn_length, x_in, lengths_, s, d_pre, g, d_xin);
    ops_.Mark(&Profile::recurrent_backward);
    if (!need_dx_in) return Tensor();
    if (L.residual) ops_.Add(d_pre, d_xin);
    ops_.Mark(&Profile::dropout_residual);
    if (!L.has_input_projection()) return *d_xin;
    Tensor* d_x = nullptr;
    if (k > 0) {
      ops_.Buffer(&s.d_x, layer_inputs_[k].shape(), ops_.float_type());
      d_x = &s.d_x;
    }
    ops_.LinearGrad(layer_inputs_[k], v_[L.input_projection_kernel], *d_xin, d_x,
                    &(*g)[L.input_projection_kernel], &(*g)[L.input_projection_bias]);
    ops_.Mark(&Profile::input_projection);
    return k > 0 ? s.d_x : Tensor();
  }

 private:
  Ops& ops_;
  const ModelLayout& layout_;
  const std::vector<Tensor>& v_;
  const Tensor& lengths_;
  const DropoutSetting& dropout_;
  const bool use_dropout_;
  std::vector<LayerTensors*> layers_;
  OutputTensors* out_;
  std::vector<Tensor> layer_inputs_, inner_inputs_;  // x and x_in of every layer
  int64_t batch_ = 0, time_ = 0;
  Tensor rows_, o_flat_, dlogits_;
};

// A whole pass: forward through every layer, output and loss, and with `backward` the
// backward into the gradients. Returns the loss step's counts.
// zeroed_grads() returns the gradient tensors, zeroed, in layout order.
template <typename Ops, typename ZeroedGrads>
CrossEntropyCounts ForwardBackward(NetworkSteps<Ops>& net, size_t num_layers,
                                   const Tensor& inputs, const Tensor& labels,
                                   const std::vector<int32_t>& lengths, int no_event_label,
                                   bool backward, Tensor* logits_out, ZeroedGrads zeroed_grads) {
  Tensor x = inputs;
  for (size_t k = 0; k < num_layers; ++k) x = net.ForwardLayer(k, x, backward);
  const CrossEntropyCounts counts =
      net.OutputAndLoss(x, labels, lengths, no_event_label, backward, logits_out);
  if (!backward) return counts;
  std::vector<Tensor>* g = zeroed_grads();
  Tensor d = net.OutputBackward(g);
  for (int k = static_cast<int>(num_layers) - 1; k >= 0 && d.defined(); --k)
    d = net.BackwardLayer(k, d, g);
  return counts;
}

}  // namespace

struct MelodyRnnModel::LayerState : LayerTensors {};
struct MelodyRnnModel::OutputState : OutputTensors {};

MelodyRnnModel::MelodyRnnModel(ModelLayout layout, int no_event_label)
    : layout_(std::move(layout)),
      no_event_label_(no_event_label),
      out_(std::make_shared<OutputState>()) {
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
  const std::vector<Tensor> v = TensorsOf(params);
  const Tensor lengths = HostLengths(batch.lengths);

  FastOps ops(ctx, profile_);
  std::vector<LayerTensors*> layers;
  for (const auto& layer : layers_) layers.push_back(layer.get());
  NetworkSteps<FastOps> net(ops, layout_, v, lengths, dropout, std::move(layers), out_.get());
  std::vector<Tensor> g;
  auto zeroed_grads = [&]() {
    MELODY_REQUIRE(grads->size() == layout_.variables.size() && grads->device() == dev)
        << "model: gradient set must match the layout and be on " << dev.ToString();
    for (size_t i = 0; i < grads->size(); ++i) ZeroOnStream(ctx, &grads->at(i));
    g = TensorsOf(*grads);
    return &g;
  };
  ModelStepResult result;
  result.counts = ForwardBackward(net, layout_.layers.size(), batch.inputs, batch.labels,
                                  batch.lengths, no_event_label_, grads != nullptr, logits_out,
                                  zeroed_grads);
  result.metrics = TrainMetricsFromCounts(result.counts);
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

// The plain reference kernels in scalar type T on the CPU, into fresh tensors.
template <typename T>
class ReferenceOps {
 public:
  DType float_type() const { return DTypeOf<T>::value; }
  Tensor Buffer(Tensor* slot, const Shape& shape, DType dtype) {
    *slot = Tensor(shape, dtype);
    return *slot;
  }
  Tensor Fresh(const Shape& shape) { return Tensor(shape, float_type()); }
  void Mark(double Profile::*) {}

  void Linear(const Tensor& x, const Tensor& w, const Tensor& b, Tensor* y) {
    LinearForward<T>(x, w, b, y);
  }
  void LinearGrad(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor* dw,
                  Tensor* db) {
    LinearBackward<T>(x, w, dy, dx, dw, db, GradMode::kOverwrite);
  }
  void Recurrent(const LayerVariables& L, const std::vector<Tensor>& v, int attn_length,
                 const Tensor& x_in, const Tensor& lengths, bool /*keep_for_backward*/,
                 LayerTensors* s) {
    if (L.has_attention()) {
      AttentionLayerForward<T>(x_in, lengths, AttentionWeightsOf(L, v), attn_length, nullptr,
                               &s->inner, nullptr);
    } else {
      LstmLayerForward<T>(x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], &s->inner);
    }
  }
  // The reference layers recompute their forward pass.
  void RecurrentGrad(const LayerVariables& L, const std::vector<Tensor>& v, int attn_length,
                     const Tensor& x_in, const Tensor& lengths, const LayerTensors& /*s*/,
                     const Tensor& d_pre, std::vector<Tensor>* g, Tensor* d_xin) {
    if (L.has_attention()) {
      AttentionLayerWeights gw = AttentionWeightsOf(L, *g);
      AttentionLayerBackward<T>(x_in, lengths, AttentionWeightsOf(L, v), attn_length, nullptr,
                                d_pre, &gw, d_xin);
    } else {
      LstmLayerBackward<T>(x_in, lengths, v[L.lstm_kernel], v[L.lstm_bias], d_pre, d_xin,
                           &(*g)[L.lstm_kernel], &(*g)[L.lstm_bias]);
    }
  }
  void Copy(const Tensor& src, Tensor* dst) {
    std::copy_n(src.data<T>(), src.numel(), dst->data<T>());
  }
  void Add(const Tensor& x, Tensor* y) { AddInPlace<T>(x, y); }
  void Dropout(const Tensor& x, const DropoutConfig& c, Tensor* y) { DropoutForward<T>(x, c, y); }
  // The backward of y = x·scale·mask is the same map applied to dy.
  void DropoutGrad(const Tensor& dy, const DropoutConfig& c, Tensor* dx) {
    DropoutForward<T>(dy, c, dx);
  }
  Tensor Rows(const Tensor& host_rows, Tensor* /*slot*/) { return host_rows; }
  void Gather(const Tensor& x, const Tensor& rows, Tensor* out) { GatherRows<T>(x, rows, out); }
  void Scatter(const Tensor& src, const Tensor& rows, Tensor* out) {
    ScatterRows<T>(src, rows, out);
  }
  // labels [B, T] (int32 or int64) -> int64 [P, 1] at the valid rows.
  Tensor GatherLabels(const Tensor& labels, const Tensor& rows, Tensor* slot) {
    Tensor labels64(labels.shape(), DType::kInt64);
    for (int64_t i = 0; i < labels.numel(); ++i)
      labels64.data<int64_t>()[i] = labels.dtype() == DType::kInt32 ? labels.data<int32_t>()[i]
                                                                    : labels.data<int64_t>()[i];
    Buffer(slot, {rows.dim(0), 1}, DType::kInt64);
    GatherRows<int64_t>(labels64, rows, slot);
    return *slot;
  }
  CrossEntropyCounts CrossEntropy(const Tensor& logits, const Tensor& labels, int no_event_label,
                                  Tensor* dlogits) {
    return SoftmaxCrossEntropy<T>(logits, labels, no_event_label, dlogits);
  }
};

template <typename T>
double MelodyRnnForwardBackward(const ModelLayout& layout, const std::vector<Tensor>& v,
                                const Tensor& inputs, const Tensor& labels,
                                const std::vector<int32_t>& lengths,
                                const DropoutSetting& dropout, int no_event_label,
                                std::vector<Tensor>* grads, Tensor* logits_out) {
  CheckBatch(layout, inputs, labels, lengths);
  MELODY_REQUIRE(v.size() == layout.variables.size()) << "reference model: wrong parameter count";
  const Tensor len = HostLengths(lengths);

  ReferenceOps<T> ops;
  std::vector<LayerTensors> layer_tensors(layout.layers.size());
  std::vector<LayerTensors*> layers;
  for (LayerTensors& t : layer_tensors) layers.push_back(&t);
  OutputTensors out;
  NetworkSteps<ReferenceOps<T>> net(ops, layout, v, len, dropout, std::move(layers), &out);
  auto zeroed_grads = [&]() {
    grads->clear();
    for (const auto& spec : layout.variables)
      grads->push_back(Tensor::Zeros(spec.shape, DTypeOf<T>::value));
    return grads;
  };
  const CrossEntropyCounts counts =
      ForwardBackward(net, layout.layers.size(), inputs, labels, lengths, no_event_label,
                      grads != nullptr, logits_out, zeroed_grads);
  int64_t P = 0;
  for (int32_t n : lengths) P += n;
  return counts.loss_sum / static_cast<double>(P);
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
