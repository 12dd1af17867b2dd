// Output dropout of TF's DropoutWrapper (model.md §2.4), with masks from our counter-based
// generator so CPU and CUDA drop exactly the same elements:
//   rate      = 1 - keep_prob                (double)
//   scale     = float32(1 / (1 - rate))
//   threshold = float32(rate)
//   u         = PhiloxUniformPacked(seed, c1 = step, c2 = layer, index)   (core/philox.h:
//               four consecutive indices share one Philox call)
//   keep      = u >= threshold
//   y         = x · scale · (keep ? 1 : 0)    (TF's order: scale first, then the 0/1 mask)
// For a layer output o [B, T, N] the element (b, t, u) uses index = ((r0 + b)·S + t)·N + u
// with r0 = row_offset and S = time_stride (default 0: S = T, r0 = 0, i.e. (b·T + t)·N + u):
// a fresh mask per element, time step and batch row (not variational). Data-parallel
// training (apps/lib/distributed.h) gives each rank's rows their global row index r0 + b
// and the global batch's padded length S, so a rank's slice of a global batch draws exactly
// the masks one process would give those rows. The backward applies the
// same mask to dy. keep_prob == 1.0 is the identity (TF builds no dropout op then); a
// keep_prob outside (0, 1] is an error (TF rejects rate 1.0 and values outside [0, 1]).
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

struct DropoutConfig {
  double keep_prob = 1.0;  // p_keep in (0, 1]
  uint64_t seed = 0;       // run seed (Philox key)
  uint32_t step = 0;       // training step (Philox counter word c1)
  uint32_t layer = 0;      // layer index (Philox counter word c2)
  uint64_t row_offset = 0; // global index of local batch row 0 (r0 above)
  int64_t time_stride = 0; // S above; 0 = the tensor's own T; else must be >= T
};

// TF's float32 constants for a keep probability; throws melody::Error outside (0, 1].
struct DropoutConstants {
  float scale = 1.0f;
  float threshold = 0.0f;
};
DropoutConstants DropoutConstantsFor(double keep_prob);

// x, y [B, T, N] on ctx.device(); y may be x (in place). Overwrites y.
void DropoutForward(Context& ctx, const Tensor& x, const DropoutConfig& config, Tensor* y);
// dx = dy · scale · mask with the forward's mask; dx may be dy.
void DropoutBackward(Context& ctx, const Tensor& dy, const DropoutConfig& config, Tensor* dx);

// One time step of a [B, T, N] sequence, for step-by-step loops: x, y [B, N] are the
// elements (b, t, :) and get exactly the mask DropoutForward would give them.
void DropoutStepForward(Context& ctx, const Tensor& x, const DropoutConfig& config, int64_t t,
                        int64_t time, Tensor* y);
void DropoutStepBackward(Context& ctx, const Tensor& dy, const DropoutConfig& config,
                         int64_t t, int64_t time, Tensor* dx);

// The 0/1 keep mask itself as float32 [B, T, N] (tests compare it across devices).
void DropoutKeepMask(Context& ctx, const DropoutConfig& config, Tensor* mask);

namespace reference {
// kernels/cpu/dropout_reference.cc: plain loop, CPU, T = float or double; x, y [B, T, N].
// Same contract as DropoutForward (the mask decision is always made in float32 as above).
template <typename T>
void DropoutForward(const Tensor& x, const DropoutConfig& config, Tensor* y);
}  // namespace reference

namespace internal {
// Elements are addressed as [B, S, N] occupying time steps [t0, t0 + S) of a sequence of
// `time` steps; the whole-sequence ops use S = time, t0 = 0, the step ops S = 1.
// `time` is the Philox index stride S of a row, `row0` the global row of local row 0.
struct DropoutView {
  int64_t batch = 0, steps = 0, units = 0, t0 = 0, time = 0;
  uint64_t row0 = 0;
};
}  // namespace internal

// The twins the dispatcher (kernels/dropout.cc) calls with checked arguments, on raw
// float32 pointers of ctx's device.
namespace cpu {  // kernels/cpu/dropout.cc: Philox per element, threads over batch rows
// dst = src · scale · mask over `view` (dst may be src).
void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst);
// mask = 1 where kept, 0 where dropped.
void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/dropout.cu: one thread per element, the same Philox
// dst = src · scale · mask over `view` (dst may be src).
void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst);
// mask = 1 where kept, 0 where dropped.
void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask);
}  // namespace cuda
#endif

}  // namespace melody
