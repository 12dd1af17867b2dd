// Fused softmax cross-entropy over the valid positions of a batch, with the metrics of
// shared/spec/model.md §5 (loss, perplexity, accuracy, event / no-event accuracy) and the
// per-class counts the eval job's streaming metrics need (§5.2).
//
// The caller passes the logits of the VALID positions only, already flattened batch-major
// ([P, C] with P = Σ lengths, model.md §2.1): the length mask is applied by that gather,
// so every row here counts. For each row p with label y_p:
//   ce_p      = logsumexp(z_p) − z_p[y_p]
//   ŷ_p       = argmax_c z_p[c]   (lowest index on ties)
//   loss      = (1/P) Σ_p ce_p    (the optimised objective)
//   dlogits_p = (softmax(z_p) − onehot(y_p)) / P   (gradient of loss)
// Reductions are deterministic: Σ ce is accumulated in double in a fixed order; the counts
// are integers.
#pragma once

#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// Sums over the positions of one call (host memory). Also the unit the eval job
// accumulates over batches (models/metrics.h).
struct CrossEntropyCounts {
  int64_t num_positions = 0;
  double loss_sum = 0.0;  // Σ ce_p
  int64_t num_correct = 0;
  int64_t num_event = 0;  // label != no-event label
  int64_t num_event_correct = 0;
  int64_t num_no_event = 0;  // label == no-event label
  int64_t num_no_event_correct = 0;
  std::vector<int64_t> label_count;    // [C]: positions whose label is c
  std::vector<int64_t> correct_count;  // [C]: of those, how many were predicted right

  // Counts one position with label `label` (label_count / correct_count sized already),
  // predicted right or not; `no_event` says whether the label is the no-event label. The
  // CPU path and the reference both count through it.
  void CountPosition(int64_t label, bool correct, bool no_event) {
    num_correct += correct;
    label_count[label] += 1;
    correct_count[label] += correct;
    if (no_event) {
      num_no_event += 1;
      num_no_event_correct += correct;
    } else {
      num_event += 1;
      num_event_correct += correct;
    }
  }
};

// The train graph's per-batch metrics (model.md §5.1). event/no-event accuracy are NaN
// when the batch has no position of that kind (as TF's plain division gives).
struct TrainMetrics {
  float loss = 0;
  float perplexity = 0;
  float accuracy = 0;
  float event_accuracy = 0;
  float no_event_accuracy = 0;
  float loss_per_step = 0;  // Σ ce / num_steps; num_steps = P for every melody encoder
  float perplexity_per_step = 0;
};
TrainMetrics TrainMetricsFromCounts(const CrossEntropyCounts& counts);

// logits [P, C] float32, labels [P] int32 or int64 (class indices in [0, C)), both on
// ctx.device(); P >= 1. no_event_label: the config's "no event" class (0, or 36 for
// attention_rnn). dlogits: nullptr, or a caller-allocated float32 [P, C] tensor on the
// device, overwritten with d loss / d logits. Throws melody::Error on a label outside
// [0, C) or a shape/dtype/device mismatch.
CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits);

// The twins the dispatcher (kernels/softmax_cross_entropy.cc) calls with checked arguments.
namespace cpu {  // kernels/cpu/softmax_cross_entropy.cc: one pass per row, single-threaded
CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/softmax_cross_entropy.cu: a row kernel and a fixed-order reduction
CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits);
}  // namespace cuda
#endif

namespace reference {
// kernels/cpu/softmax_cross_entropy_reference.cc: plain loops on the CPU; logits and
// dlogits of dtype T (float or double).
template <typename T>
CrossEntropyCounts SoftmaxCrossEntropy(const Tensor& logits, const Tensor& labels,
                                       int no_event_label, Tensor* dlogits);
}  // namespace reference

namespace internal {
// The argument checks of the dispatcher and the reference (kernels/softmax_cross_entropy.cc):
// shapes, dtypes and (when ctx is given) devices. Returns C. The labels' values are
// checked by every implementation as it reads them.
int64_t CheckSoftmaxCrossEntropyArgs(const Context* ctx, const Tensor& logits,
                                     const Tensor& labels, DType logits_dtype,
                                     const Tensor* dlogits);
}  // namespace internal

}  // namespace melody
