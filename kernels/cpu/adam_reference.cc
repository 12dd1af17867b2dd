// Reference of kernels/adam.h: the per-tensor clip and the Adam update as plain loops in
// the scalar type T (float or double), Σ g² accumulated in T.
#include <algorithm>
#include <cmath>

#include "kernels/adam.h"

namespace melody {

namespace reference {

template <typename T>
void ClipByNorm(Tensor* grad, T clip_norm) {
  internal::CheckAdamArgs(nullptr, DTypeOf<T>::value, *grad, nullptr, nullptr, nullptr);
  if (clip_norm <= 0) return;
  T* g = grad->data<T>();
  const int64_t n = grad->numel();
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += g[i] * g[i];
  const T norm = std::sqrt(sum);
  const T denominator = std::max(norm, clip_norm);
  for (int64_t i = 0; i < n; ++i) g[i] = (g[i] * clip_norm) / denominator;
}

template <typename T>
void AdamUpdate(T learning_rate, T beta1, T beta2, T epsilon, T beta1_power, T beta2_power,
                const Tensor& grad, Tensor* var, Tensor* m, Tensor* s) {
  internal::CheckAdamArgs(nullptr, DTypeOf<T>::value, grad, var, m, s);
  const T alpha = learning_rate * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
  const T* g = grad.data<T>();
  T* v = var->data<T>();
  T* mm = m->data<T>();
  T* ss = s->data<T>();
  for (int64_t i = 0; i < grad.numel(); ++i) {
    mm[i] += (g[i] - mm[i]) * (T(1) - beta1);
    ss[i] += (g[i] * g[i] - ss[i]) * (T(1) - beta2);
    v[i] -= (mm[i] * alpha) / (std::sqrt(ss[i]) + epsilon);
  }
}

template void ClipByNorm<float>(Tensor*, float);
template void ClipByNorm<double>(Tensor*, double);
template void AdamUpdate<float>(float, float, float, float, float, float, const Tensor&,
                                Tensor*, Tensor*, Tensor*);
template void AdamUpdate<double>(double, double, double, double, double, double,
                                 const Tensor&, Tensor*, Tensor*, Tensor*);

}  // namespace reference

}  // namespace melody
