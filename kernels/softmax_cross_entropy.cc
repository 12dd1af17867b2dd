// Argument checks, dispatch and the metrics from counts of the fused softmax cross-entropy
// (see softmax_cross_entropy.h).
#include "kernels/softmax_cross_entropy.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {

namespace internal {

int64_t CheckSoftmaxCrossEntropyArgs(const Context* ctx, const Tensor& logits,
                                     const Tensor& labels, DType logits_dtype,
                                     const Tensor* dlogits) {
  MELODY_REQUIRE(logits.defined() && logits.rank() == 2)
      << "SoftmaxCrossEntropy: logits must be [P, C], got " << ShapeToString(logits.shape());
  MELODY_REQUIRE(logits.dtype() == logits_dtype)
      << "SoftmaxCrossEntropy: logits dtype " << DTypeName(logits.dtype()) << ", expected "
      << DTypeName(logits_dtype);
  const int64_t P = logits.dim(0), C = logits.dim(1);
  MELODY_REQUIRE(P >= 1 && C >= 1) << "SoftmaxCrossEntropy: empty logits "
                                   << ShapeToString(logits.shape());
  MELODY_REQUIRE(labels.defined() && labels.rank() == 1 && labels.dim(0) == P)
      << "SoftmaxCrossEntropy: labels must be [" << P << "], got "
      << ShapeToString(labels.shape());
  MELODY_REQUIRE(labels.dtype() == DType::kInt32 || labels.dtype() == DType::kInt64)
      << "SoftmaxCrossEntropy: labels must be int32 or int64, got "
      << DTypeName(labels.dtype());
  if (dlogits != nullptr) {
    MELODY_REQUIRE(dlogits->defined() && dlogits->shape() == logits.shape() &&
                   dlogits->dtype() == logits_dtype)
        << "SoftmaxCrossEntropy: dlogits must be " << DTypeName(logits_dtype)
        << ShapeToString(logits.shape());
  }
  if (ctx != nullptr) {
    MELODY_REQUIRE(logits.device() == ctx->device() && labels.device() == ctx->device() &&
                   (dlogits == nullptr || dlogits->device() == ctx->device()))
        << "SoftmaxCrossEntropy: tensors must be on " << ctx->device().ToString();
  }
  return C;
}

}  // namespace internal

TrainMetrics TrainMetricsFromCounts(const CrossEntropyCounts& k) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto ratio = [nan](double num, double den) {
    return den == 0 ? nan : static_cast<float>(num / den);
  };
  TrainMetrics m;
  m.loss = ratio(k.loss_sum, static_cast<double>(k.num_positions));
  m.perplexity = std::exp(m.loss);
  m.accuracy = ratio(static_cast<double>(k.num_correct), static_cast<double>(k.num_positions));
  m.event_accuracy =
      ratio(static_cast<double>(k.num_event_correct), static_cast<double>(k.num_event));
  m.no_event_accuracy =
      ratio(static_cast<double>(k.num_no_event_correct), static_cast<double>(k.num_no_event));
  m.loss_per_step = m.loss;  // num_steps == P for the melody encoders (model.md §5)
  m.perplexity_per_step = std::exp(m.loss_per_step);
  return m;
}

CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits) {
  internal::CheckSoftmaxCrossEntropyArgs(&ctx, logits, labels, DType::kFloat32, dlogits);
  if (ctx.is_cpu()) return cpu::SoftmaxCrossEntropy(ctx, logits, labels, no_event_label, dlogits);
#if MELODY_HAVE_CUDA
  return cuda::SoftmaxCrossEntropy(ctx, logits, labels, no_event_label, dlogits);
#else
  op_checks::FailNoCuda("SoftmaxCrossEntropy", ctx);
#endif
}


}  // namespace melody
