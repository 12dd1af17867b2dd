// Fast CPU path of the per-tensor clip and the Adam update: single fused loops (the model
// has ~0.3M parameters, so one pass costs well under a millisecond).
#include <algorithm>
#include <cmath>

#include "kernels/adam.h"

namespace melody::cpu {

void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm) {
  if (clip_norm <= 0) return;
  float* g = grad->data<float>();
  const int64_t n = grad->numel();
  double sum = 0.0;  // fixed order, double accumulation (adam.h)
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
  const float norm = std::sqrt(static_cast<float>(sum));
  const float denominator = std::max(norm, clip_norm);
  for (int64_t i = 0; i < n; ++i) g[i] = (g[i] * clip_norm) / denominator;
}

void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s) {
  const float alpha = AdamStepSize(options.learning_rate, beta1_power, beta2_power);
  const float one_minus_beta1 = 1.0f - options.beta1;
  const float one_minus_beta2 = 1.0f - options.beta2;
  const float epsilon = options.epsilon;
  const float* g = grad.data<float>();
  float* v = var->data<float>();
  float* mm = m->data<float>();
  float* ss = s->data<float>();
  const int64_t n = grad.numel();
  for (int64_t i = 0; i < n; ++i) {
    mm[i] += (g[i] - mm[i]) * one_minus_beta1;
    ss[i] += (g[i] * g[i] - ss[i]) * one_minus_beta2;
    v[i] -= (mm[i] * alpha) / (std::sqrt(ss[i]) + epsilon);
  }
}

}  // namespace melody::cpu
