// The Melody RNN train/eval network over one padded batch (shared/spec/model.md §2, §5):
// forward, loss and metrics, and the gradient of the loss w.r.t. every variable.
//
// Per layer k (model.md §2.2, §2.6):
//   x_in  = input projection ? x · P + p : x        (residual_connections and a width change
//                                                     or k == 0)
//   inner = attention layer (k == 0 and attn_length > 0) or LSTM layer, over t < len[b]
//   pre   = residual_connections ? inner + x_in : inner
//   out   = dropout(pre, keep)                      (every layer, including the last)
// then the last layer's out at the valid positions (batch-major) -> fully connected ->
// fused softmax cross-entropy. The ops are those of kernels/ (lstm_layer, attention_layer,
// linear, dropout, gather_rows, softmax_cross_entropy); this file only composes them.
//
// Dropout masks are drawn from the counter-based generator keyed by (seed, step, layer), so
// a step is reproducible and identical on CPU and GPU (gpu-design.md §1).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/attention_layer.h"
#include "kernels/lstm_layer.h"
#include "kernels/softmax_cross_entropy.h"
#include "models/parameters.h"

namespace melody {

// One padded batch (model.md §4): inputs [B, T, I] float32 and labels [B, T] int32/int64
// on the model's device; lengths on the host.
struct ModelBatch {
  Tensor inputs;
  Tensor labels;
  std::vector<int32_t> lengths;
};

// keep_prob = 1 means no dropout op at all (generate graph, or dropout_keep_prob 1.0).
struct DropoutSetting {
  double keep_prob = 1.0;
  uint64_t seed = 0;
  uint64_t step = 0;  // training step: a fresh mask per step
  // Data-parallel slices of a global batch (kernels/dropout.h): the global row of this
  // batch's row 0 and the global batch's padded length (0 = this batch's own T), so a
  // slice draws the masks the whole batch would give those rows.
  uint64_t row_offset = 0;
  int64_t time_stride = 0;
};

struct ModelStepResult {
  CrossEntropyCounts counts;
  TrainMetrics metrics;  // metrics.loss is the optimised objective
};

class MelodyRnnModel {
 public:
  MelodyRnnModel(ModelLayout layout, int no_event_label);

  const ModelLayout& layout() const { return layout_; }

  // Forward over the batch and, when `grads` is non-null, backward: *grads (same layout,
  // on ctx.device()) is overwritten with d loss / d variable. logits (optional) receives
  // the [P, C] logits of the valid positions, allocated here. On CUDA the gradient work may
  // still be queued on ctx's stream when this returns; Tensor::CopyTo/ToVector wait for it
  // (ctx's stream is a blocking stream, ordered with their legacy-stream copies:
  // core/context.cc), and ctx.Synchronize() waits without copying.
  ModelStepResult Run(Context& ctx, const Parameters& params, const ModelBatch& batch,
                      const DropoutSetting& dropout, Parameters* grads,
                      Tensor* logits = nullptr);

  // Optional per-section wall time, accumulated over Run calls while set (for bench/;
  // adds a device synchronisation per section). nullptr switches it off.
  struct Profile {
    double input_projection = 0;    // residual input projections, forward and backward
    double recurrent_forward = 0;   // LSTM / attention layers
    double recurrent_backward = 0;
    double dropout_residual = 0;    // dropout and residual adds, forward and backward
    double output_and_loss = 0;     // gather, output layer, softmax cross-entropy, scatter
  };
  void set_profile(Profile* profile) { profile_ = profile; }

  // Floating-point operations of the matrix products of one forward (and backward) pass
  // over `batch` (2·M·N·K per GEMM, counted at the valid (b, t) positions).
  struct FlopCount {
    double forward = 0, backward = 0;
  };
  FlopCount CountGemmFlops(const std::vector<int32_t>& lengths) const;

 private:
  // Buffers of each layer and of the output layer and the loss, reused across calls (at
  // B·T = 65536 each is tens of MB; fresh allocations would page-fault every step).
  struct LayerState;
  struct OutputState;
  ModelLayout layout_;
  int no_event_label_;
  std::vector<std::shared_ptr<LayerState>> layers_;
  std::shared_ptr<OutputState> out_;
  Profile* profile_ = nullptr;
};

namespace reference {
// The same network built from the plain reference ops in scalar type T (float or double),
// on the CPU: params/grads are tensors of dtype T in layout order; inputs [B, T, I] of
// dtype T; labels int32/int64. Returns the loss (mean ce over valid positions); grads
// (optional) are overwritten; logits (optional) receives [P, C] of dtype T.
// Dropout masks are the same as the fast model's for the same DropoutSetting.
template <typename T>
double MelodyRnnForwardBackward(const ModelLayout& layout, const std::vector<Tensor>& params,
                                const Tensor& inputs, const Tensor& labels,
                                const std::vector<int32_t>& lengths,
                                const DropoutSetting& dropout, int no_event_label,
                                std::vector<Tensor>* grads, Tensor* logits = nullptr);

// params converted to dtype T on the CPU, in layout order.
template <typename T>
std::vector<Tensor> ParametersAs(const Parameters& params);
}  // namespace reference

}  // namespace melody
