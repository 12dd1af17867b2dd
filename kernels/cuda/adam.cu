// CUDA twin of the per-tensor clip and the Adam update. The arithmetic uses the _rn
// intrinsics so nvcc cannot contract a multiply and an add into an FMA: with IEEE sqrt
// and division (nvcc's defaults) every element then rounds exactly as on the CPU.
// The clip's Σ g² is one block's fixed-order reduction in double (deterministic).
#include <cmath>

#include "kernels/adam.h"
#include "kernels/cuda/common.cuh"

namespace melody::cuda {
namespace {

constexpr int kReduceThreads = 512;

__global__ void SumOfSquaresKernel(const float* __restrict__ g, int64_t n,
                                   double* __restrict__ out) {
  __shared__ double partial[kReduceThreads];
  double local = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double v = g[i];
    local = __dadd_rn(local, __dmul_rn(v, v));
  }
  partial[threadIdx.x] = local;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = partial[0];
}

__global__ void ClipKernel(float* __restrict__ g, int64_t n, const double* __restrict__ sum,
                           float clip_norm) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float norm = sqrtf(static_cast<float>(*sum));
  const float denominator = fmaxf(norm, clip_norm);
  g[i] = __fdiv_rn(__fmul_rn(g[i], clip_norm), denominator);
}

__global__ void AdamKernel(const float* __restrict__ g, float* __restrict__ v,
                           float* __restrict__ m, float* __restrict__ s, int64_t n,
                           float alpha, float one_minus_beta1, float one_minus_beta2,
                           float epsilon) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float gi = g[i];
  const float mi = __fadd_rn(m[i], __fmul_rn(__fsub_rn(gi, m[i]), one_minus_beta1));
  const float si = __fadd_rn(s[i], __fmul_rn(__fsub_rn(__fmul_rn(gi, gi), s[i]), one_minus_beta2));
  m[i] = mi;
  s[i] = si;
  v[i] = __fsub_rn(v[i], __fdiv_rn(__fmul_rn(mi, alpha), __fadd_rn(__fsqrt_rn(si), epsilon)));
}

}  // namespace

void ClipByNorm(Context& ctx, Tensor* grad, float clip_norm) {
  if (clip_norm <= 0 || grad->numel() == 0) return;
  double* sum = static_cast<double*>(ctx.Workspace(sizeof(double)));
  SumOfSquaresKernel<<<1, kReduceThreads, 0, ctx.stream()>>>(grad->data<float>(),
                                                             grad->numel(), sum);
  MELODY_CUDA_LAUNCH_CHECK();
  ClipKernel<<<GridFor(grad->numel()), kBlockThreads, 0, ctx.stream()>>>(
      grad->data<float>(), grad->numel(), sum, clip_norm);
  MELODY_CUDA_LAUNCH_CHECK();
}

void AdamUpdate(Context& ctx, const AdamOptions& options, float beta1_power,
                float beta2_power, const Tensor& grad, Tensor* var, Tensor* m, Tensor* s) {
  if (grad.numel() == 0) return;
  const float alpha = AdamStepSize(options.learning_rate, beta1_power, beta2_power);
  AdamKernel<<<GridFor(grad.numel()), kBlockThreads, 0, ctx.stream()>>>(
      grad.data<float>(), var->data<float>(), m->data<float>(), s->data<float>(), grad.numel(),
      alpha, 1.0f - options.beta1, 1.0f - options.beta2, options.epsilon);
  MELODY_CUDA_LAUNCH_CHECK();
}

}  // namespace melody::cuda
