// CUDA twin of kernels/dropout.h: the same PhiloxUniformPacked (core/philox.h is host/device),
// the same float32 comparison and the same multiplication order as the CPU, so masks and
// outputs are bit-identical across devices.
#include "core/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/dropout.h"

namespace melody::cuda {
namespace {

__device__ __forceinline__ uint64_t PhiloxIndex(const internal::DropoutView& v, int64_t i) {
  const int64_t u = i % v.units, r = i / v.units;
  const int64_t b = r / v.steps, s = r % v.steps;
  const uint64_t row = v.row0 + static_cast<uint64_t>(b);
  return (row * static_cast<uint64_t>(v.time) + static_cast<uint64_t>(v.t0 + s)) *
             static_cast<uint64_t>(v.units) +
         static_cast<uint64_t>(u);
}

__global__ void DropoutApplyKernel(const float* src, uint64_t seed, uint32_t c1, uint32_t c2,
                                   float scale, float threshold, internal::DropoutView v,
                                   float* dst) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= v.batch * v.steps * v.units) return;
  const float draw = PhiloxUniformPacked(seed, c1, c2, PhiloxIndex(v, i));
  const float keep = draw >= threshold ? 1.0f : 0.0f;
  // __fmul_rn: no contraction or reordering, same rounding as the CPU's two multiplies.
  dst[i] = __fmul_rn(__fmul_rn(src[i], scale), keep);
}

__global__ void DropoutMaskKernel(uint64_t seed, uint32_t c1, uint32_t c2, float threshold,
                                  internal::DropoutView v, float* mask) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= v.batch * v.steps * v.units) return;
  mask[i] = PhiloxUniformPacked(seed, c1, c2, PhiloxIndex(v, i)) >= threshold ? 1.0f : 0.0f;
}

}  // namespace

void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst) {
  const int64_t n = view.batch * view.steps * view.units;
  if (n == 0) return;
  DropoutApplyKernel<<<GridFor(n), kBlockThreads, 0, ctx.stream()>>>(
      src, config.seed, config.step, config.layer, k.scale, k.threshold, view, dst);
  MELODY_CUDA_LAUNCH_CHECK();
}

void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask) {
  const int64_t n = view.batch * view.steps * view.units;
  if (n == 0) return;
  DropoutMaskKernel<<<GridFor(n), kBlockThreads, 0, ctx.stream()>>>(
      config.seed, config.step, config.layer, k.threshold, view, mask);
  MELODY_CUDA_LAUNCH_CHECK();
}

}  // namespace melody::cuda
