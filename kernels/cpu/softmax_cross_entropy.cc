// Fast CPU path of the fused softmax cross-entropy: one pass per row in float (max,
// exp-sum, loss, argmax, gradient), loss summed in double in row order (deterministic).
// Single-threaded: at the model's sizes ([B·T, ≤130]) it costs a few percent of the output
// GEMM, so threads would not pay for their start-up.
#include <cmath>
#include <cstdint>

#include "kernels/softmax_cross_entropy.h"

namespace melody::cpu {
namespace {

template <typename Label>
CrossEntropyCounts Run(const float* z, const Label* labels, int64_t P, int64_t C,
                       int no_event_label, float* dz) {
  CrossEntropyCounts out;
  out.num_positions = P;
  out.label_count.assign(C, 0);
  out.correct_count.assign(C, 0);
  const float inv_p = 1.0f / static_cast<float>(P);
  for (int64_t p = 0; p < P; ++p) {
    const float* row = z + p * C;
    const int64_t y = static_cast<int64_t>(labels[p]);
    MELODY_REQUIRE(y >= 0 && y < C) << "SoftmaxCrossEntropy: label " << y << " at position "
                                    << p << " outside [0, " << C << ")";
    int64_t argmax = 0;
    float max = row[0];
    for (int64_t c = 1; c < C; ++c) {
      if (row[c] > max) {
        max = row[c];
        argmax = c;
      }
    }
    float sum = 0.0f;
    if (dz != nullptr) {
      float* drow = dz + p * C;
      for (int64_t c = 0; c < C; ++c) {
        drow[c] = std::exp(row[c] - max);
        sum += drow[c];
      }
      const float scale = inv_p / sum;
      for (int64_t c = 0; c < C; ++c) drow[c] *= scale;
      drow[y] -= inv_p;
    } else {
      for (int64_t c = 0; c < C; ++c) sum += std::exp(row[c] - max);
    }
    out.loss_sum += static_cast<double>(std::log(sum) - (row[y] - max));
    out.CountPosition(y, argmax == y, y == no_event_label);
  }
  return out;
}

}  // namespace

CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits) {
  const int64_t C = logits.dim(1);
  const int64_t P = logits.dim(0);
  float* dz = dlogits ? dlogits->data<float>() : nullptr;
  if (labels.dtype() == DType::kInt32)
    return Run(logits.data<float>(), labels.data<int32_t>(), P, C, no_event_label, dz);
  return Run(logits.data<float>(), labels.data<int64_t>(), P, C, no_event_label, dz);
}

}  // namespace melody::cpu
