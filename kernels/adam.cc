// Argument checks and dispatch of the per-tensor clip and the Adam update (see adam.h).
#include "kernels/adam.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {

float AdamStepSize(float learning_rate, float beta1_power, float beta2_power) {
  // TF's ApplyAdam CPU functor: lr() * sqrt(T(1) - beta2_power()) / (T(1) - beta1_power()).
  return learning_rate * std::sqrt(1.0f - beta2_power) / (1.0f - beta1_power);
}

namespace internal {

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

}  // namespace internal

void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm) {
  MELODY_REQUIRE(grad != nullptr) << "ClipByNorm: null gradient";
  internal::CheckAdamArgs(&ctx, DType::kFloat32, *grad, nullptr, nullptr, nullptr);
  if (ctx.is_cpu()) return cpu::ClipByNorm(ctx, grad, clip_norm);
#if MELODY_HAVE_CUDA
  return cuda::ClipByNorm(ctx, grad, clip_norm);
#else
  op_checks::FailNoCuda("ClipByNorm", ctx);
#endif
}

void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s) {
  MELODY_REQUIRE(var != nullptr && m != nullptr && s != nullptr) << "AdamUpdate: null tensor";
  internal::CheckAdamArgs(&ctx, DType::kFloat32, grad, var, m, s);
  if (ctx.is_cpu()) return cpu::AdamUpdate(ctx, options, beta1_power, beta2_power, grad, var, m, s);
#if MELODY_HAVE_CUDA
  return cuda::AdamUpdate(ctx, options, beta1_power, beta2_power, grad, var, m, s);
#else
  op_checks::FailNoCuda("AdamUpdate", ctx);
#endif
}

}  // namespace melody
