// Dispatcher, argument checks, metrics from counts, and the plain reference of the fused
// softmax cross-entropy (see softmax_cross_entropy.h).
#include "kernels/softmax_cross_entropy.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace melody {

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
  if (ctx.is_cpu()) return cpu::SoftmaxCrossEntropy(ctx, logits, labels, no_event_label, dlogits);
#if MELODY_HAVE_CUDA
  return cuda::SoftmaxCrossEntropy(ctx, logits, labels, no_event_label, dlogits);
#else
  MELODY_FAIL() << "SoftmaxCrossEntropy on " << ctx.device().ToString() << ": "
                << CudaUnavailableReason();
#endif
}

namespace reference {
namespace {
int64_t LabelAt(const Tensor& labels, int64_t p) {
  return labels.dtype() == DType::kInt32 ? labels.data<int32_t>()[p] : labels.data<int64_t>()[p];
}
}  // namespace

template <typename T>
CrossEntropyCounts SoftmaxCrossEntropy(const Tensor& logits, const Tensor& labels,
                                       int no_event_label, Tensor* dlogits) {
  const int64_t C = CheckSoftmaxCrossEntropyArgs(nullptr, logits, labels, DTypeOf<T>::value,
                                                 dlogits);
  MELODY_REQUIRE(logits.device().is_cpu()) << "reference::SoftmaxCrossEntropy runs on the CPU";
  const int64_t P = logits.dim(0);
  const T* z = logits.data<T>();
  T* dz = dlogits ? dlogits->data<T>() : nullptr;
  CrossEntropyCounts out;
  out.num_positions = P;
  out.label_count.assign(C, 0);
  out.correct_count.assign(C, 0);
  for (int64_t p = 0; p < P; ++p) {
    const T* row = z + p * C;
    const int64_t y = LabelAt(labels, p);
    MELODY_REQUIRE(y >= 0 && y < C) << "SoftmaxCrossEntropy: label " << y << " at position "
                                    << p << " outside [0, " << C << ")";
    int64_t argmax = 0;
    for (int64_t c = 1; c < C; ++c)
      if (row[c] > row[argmax]) argmax = c;
    const T max = row[argmax];
    T sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(row[c] - max);
    const T log_sum = std::log(sum);
    out.loss_sum += static_cast<double>(log_sum - (row[y] - max));
    const bool correct = argmax == y;
    out.num_correct += correct;
    out.label_count[y] += 1;
    out.correct_count[y] += correct;
    if (y == no_event_label) {
      out.num_no_event += 1;
      out.num_no_event_correct += correct;
    } else {
      out.num_event += 1;
      out.num_event_correct += correct;
    }
    if (dz != nullptr) {
      const T inv_p = T(1) / static_cast<T>(P);
      for (int64_t c = 0; c < C; ++c) {
        const T softmax = std::exp(row[c] - max - log_sum);
        dz[p * C + c] = (softmax - (c == y ? T(1) : T(0))) * inv_p;
      }
    }
  }
  return out;
}

template CrossEntropyCounts SoftmaxCrossEntropy<float>(const Tensor&, const Tensor&, int,
                                                       Tensor*);
template CrossEntropyCounts SoftmaxCrossEntropy<double>(const Tensor&, const Tensor&, int,
                                                        Tensor*);
}  // namespace reference

}  // namespace melody
