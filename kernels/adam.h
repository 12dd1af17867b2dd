// The optimizer step of shared/spec/training.md §3: per-tensor gradient clipping by L2 norm
// (tf_slim clip_gradient_norms, NOT a global-norm clip) and TF1's AdamOptimizer update, in
// the exact float32 evaluation order of TF's CPU kernel so that a port can be bit-exact.
//
// Clip, for one gradient tensor g and clip_norm c > 0 (skipped entirely when c <= 0):
//   norm = sqrt(Σ g²)                 (a float32 value; see below for the sum)
//   g    = (g · c) / max(norm, c)     for EVERY element, also when norm < c, so an
//                                     "unclipped" gradient is (g·c)/c (may differ by 1 ulp)
// An all-zero gradient stays zero. The sum of squares is accumulated in double in a fixed
// order and rounded once to float32: deterministic on every device and at least as
// accurate as TF's float32 Eigen reduction, whose internal order we cannot reproduce.
//
// Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8 unless given), update number t with the power
// accumulators β1^t, β2^t read from `beta1_power` / `beta2_power`:
//   α  = lr · sqrt(1 − β2^t) / (1 − β1^t)         (float32, this order)
//   m += (g − m) · (1 − β1)
//   s += (g·g − s) · (1 − β2)
//   v −= (m · α) / (sqrt(s) + ε)
// The caller multiplies the power accumulators by β1 / β2 after each update.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

struct AdamOptions {
  float learning_rate = 0.001f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
};

// α = lr · sqrt(1 − β2^t) / (1 − β1^t) in float32.
float AdamStepSize(float learning_rate, float beta1_power, float beta2_power);

// Clips `grad` (float32, on ctx.device()) in place by its own L2 norm; no-op when
// clip_norm <= 0.
void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm);

// One Adam update of `var` with its slots `m` (<var>/Adam) and `s` (<var>/Adam_1), all
// float32 tensors of the same shape on ctx.device(), in place.
void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s);

// The twins the dispatcher (kernels/adam.cc) calls with checked arguments (float32).
namespace cpu {  // kernels/cpu/adam.cc: single fused loops
void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm);
void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/adam.cu: a fixed-order norm reduction, one thread per element
void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm);
void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s);
}  // namespace cuda
#endif

namespace reference {
// kernels/cpu/adam_reference.cc: plain loops on the CPU in scalar type T (tensors of that
// dtype): Σ g² accumulated in T.
template <typename T>
void ClipByNorm(Tensor* grad, T clip_norm);
template <typename T>
void AdamUpdate(T learning_rate, T beta1, T beta2, T epsilon, T beta1_power, T beta2_power,
                const Tensor& grad, Tensor* var, Tensor* m, Tensor* s);
}  // namespace reference

namespace internal {
// The argument checks of the dispatcher and the reference (kernels/adam.cc): dtype float32
// or the reference's T, same shapes, same device (ctx's when ctx is given).
void CheckAdamArgs(const Context* ctx, DType dtype, const Tensor& grad, const Tensor* var,
                   const Tensor* m, const Tensor* s);
}  // namespace internal

}  // namespace melody
