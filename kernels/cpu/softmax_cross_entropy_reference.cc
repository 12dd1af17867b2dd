// Reference of kernels/softmax_cross_entropy.h: plain loops in T (float or double), the
// loss summed in double in row order.
#include <cmath>

#include "core/error.h"
#include "kernels/softmax_cross_entropy.h"

namespace melody {

namespace reference {
namespace {
int64_t LabelAt(const Tensor& labels, int64_t p) {
  return labels.dtype() == DType::kInt32 ? labels.data<int32_t>()[p] : labels.data<int64_t>()[p];
}
}  // namespace

template <typename T>
CrossEntropyCounts SoftmaxCrossEntropy(const Tensor& logits, const Tensor& labels,
                                       int no_event_label, Tensor* dlogits) {
  const int64_t C = internal::CheckSoftmaxCrossEntropyArgs(nullptr, logits, labels,
                                                           DTypeOf<T>::value, dlogits);
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
    out.CountPosition(y, argmax == y, y == no_event_label);
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
