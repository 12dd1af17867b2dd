// Dispatch, argument checks and the plain reference of the per-tensor clip and the Adam
// update (see adam.h).
#include "kernels/adam.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace melody {

float AdamStepSize(float learning_rate, float beta1_power, float beta2_power) {
  // TF's ApplyAdam CPU functor: lr() * sqrt(T(1) - beta2_power()) / (T(1) - beta1_power()).
  return learning_rate * std::sqrt(1.0f - beta2_power) / (1.0f - beta1_power);
}

void CheckAdamArgs(const Context* ctx, DType dtype, const Tensor& grad, const Tensor* var,
                   const Tensor* m, const Tensor* s) {
  MELODY_REQUIRE(grad.defined() && grad.dtype() == dtype)
      << "optimizer: gradient must be " << DTypeName(dtype);
  for (const Tensor* t : {var, m, s}) {
    if (t == nullptr) continue;
    MELODY_REQUIRE(t->defined() && t->dtype() == dtype && t->shape() == grad.shape())
        << "optimizer: variable/slot must be " << DTypeName(dtype)
        << ShapeToString(grad.shape()) << ", got "
        << (t->defined() ? ShapeToString(t->shape()) : std::string("undefined"));
    MELODY_REQUIRE(t->device() == grad.device()) << "optimizer: tensors on different devices";
  }
  if (ctx != nullptr) {
    MELODY_REQUIRE(grad.device() == ctx->device())
        << "optimizer: tensors must be on " << ctx->device().ToString();
  }
}

void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm) {
  MELODY_REQUIRE(grad != nullptr) << "ClipByNorm: null gradient";
  if (ctx.is_cpu()) return cpu::ClipByNorm(ctx, grad, clip_norm);
#if MELODY_HAVE_CUDA
  return cuda::ClipByNorm(ctx, grad, clip_norm);
#else
  MELODY_FAIL() << "ClipByNorm on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s) {
  MELODY_REQUIRE(var != nullptr && m != nullptr && s != nullptr) << "AdamUpdate: null tensor";
  if (ctx.is_cpu()) return cpu::AdamUpdate(ctx, options, beta1_power, beta2_power, grad, var, m, s);
#if MELODY_HAVE_CUDA
  return cuda::AdamUpdate(ctx, options, beta1_power, beta2_power, grad, var, m, s);
#else
  MELODY_FAIL() << "AdamUpdate on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

namespace reference {

template <typename T>
void ClipByNorm(Tensor* grad, T clip_norm) {
  CheckAdamArgs(nullptr, DTypeOf<T>::value, *grad, nullptr, nullptr, nullptr);
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
  CheckAdamArgs(nullptr, DTypeOf<T>::value, grad, var, m, s);
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
