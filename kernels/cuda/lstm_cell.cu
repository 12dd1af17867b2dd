// CUDA twin of kernels/lstm_cell.h. Forward: gates ← x·W_x, gates += h_prev·W_h (cuBLAS),
// then one fused kernel (bias, activations, c, h) with one thread per (row, unit).
// Backward: one fused kernel to dz / dc_prev, then cuBLAS for d[x ; h] and dW (beta 1 =
// accumulate) and a column-sum kernel for db.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dense_cuda_util.h"
#include "kernels/cuda/lstm_gates.cuh"
#include "kernels/lstm_cell.h"

namespace melody::cuda {
namespace {

__device__ __forceinline__ float Sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void GatesForwardKernel(int64_t rows, int64_t n, const float* z, const float* bias,
                                   const float* c_prev, float* gates, float* c, float* h) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (idx >= rows * n) return;
  const int64_t r = idx / n, k = idx % n;
  const float* zr = z + r * 4 * n;
  float zi = zr[k], zj = zr[n + k], zf = zr[2 * n + k], zo = zr[3 * n + k];
  if (bias) {
    zi += bias[k];
    zj += bias[n + k];
    zf += bias[2 * n + k];
    zo += bias[3 * n + k];
  }
  const float gi = Sigmoid(zi), gj = tanhf(zj), gf = Sigmoid(zf + kLstmForgetBias),
              go = Sigmoid(zo);
  const float cn = (c_prev ? c_prev[idx] : 0.0f) * gf + gi * gj;
  float* gr = gates + r * 4 * n;  // may be z: every element read above before these writes
  gr[k] = gi;
  gr[n + k] = gj;
  gr[2 * n + k] = gf;
  gr[3 * n + k] = go;
  c[idx] = cn;
  h[idx] = tanhf(cn) * go;
}

__global__ void GatesBackwardKernel(int64_t rows, int64_t n, const float* gates,
                                    const float* c_prev, const float* c, const float* dh,
                                    const float* dc, float* dz, float* dc_prev) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (idx >= rows * n) return;
  const int64_t r = idx / n, k = idx % n;
  const float* gr = gates + r * 4 * n;
  const float gi = gr[k], gj = gr[n + k], gf = gr[2 * n + k], go = gr[3 * n + k];
  const float tc = tanhf(c[idx]);
  const float g_h = dh ? dh[idx] : 0.0f;
  const float g_c = (dc ? dc[idx] : 0.0f) + g_h * go * (1.0f - tc * tc);
  const float cp = c_prev ? c_prev[idx] : 0.0f;
  float* dzr = dz + r * 4 * n;  // may be gates: all four gate values are in registers now
  dzr[k] = g_c * gj * gi * (1.0f - gi);
  dzr[n + k] = g_c * gi * (1.0f - gj * gj);
  dzr[2 * n + k] = g_c * cp * gf * (1.0f - gf);
  dzr[3 * n + k] = g_h * tc * go * (1.0f - go);
  if (dc_prev) dc_prev[idx] = g_c * gf;
}

}  // namespace

void LaunchLstmGatesForward(cudaStream_t stream, int64_t rows, int64_t n, const float* z,
                            const float* bias, const float* c_prev, float* gates, float* c,
                            float* h) {
  if (rows * n == 0) return;
  GatesForwardKernel<<<GridFor(rows * n), kBlockThreads, 0, stream>>>(rows, n, z, bias, c_prev,
                                                                      gates, c, h);
  MELODY_CUDA_LAUNCH_CHECK();
}

void LaunchLstmGatesBackward(cudaStream_t stream, int64_t rows, int64_t n, const float* gates,
                             const float* c_prev, const float* c, const float* dh,
                             const float* dc, float* dz, float* dc_prev) {
  if (rows * n == 0) return;
  GatesBackwardKernel<<<GridFor(rows * n), kBlockThreads, 0, stream>>>(rows, n, gates, c_prev, c,
                                                                       dh, dc, dz, dc_prev);
  MELODY_CUDA_LAUNCH_CHECK();
}

void LstmGatesForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& z,
                      const Tensor& c_prev, Tensor* gates, Tensor* c, Tensor* h) {
  LaunchLstmGatesForward(ctx.stream(), d.batch, d.units, z.data<float>(), nullptr,
                         c_prev.data<float>(), gates->data<float>(), c->data<float>(),
                         h->data<float>());
}

void LstmGatesBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& gates,
                       const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                       const Tensor& dc, Tensor* dz, Tensor* dc_prev) {
  LaunchLstmGatesBackward(ctx.stream(), d.batch, d.units, gates.data<float>(),
                          c_prev.data<float>(), c.data<float>(),
                          dh.defined() ? dh.data<float>() : nullptr,
                          dc.defined() ? dc.data<float>() : nullptr, dz->data<float>(),
                          dc_prev->data<float>());
}

void LstmCellForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                     const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                     const Tensor& bias, Tensor* gates, Tensor* c, Tensor* h) {
  const int64_t n = d.units, n4 = 4 * d.units;
  const float* w = kernel.data<float>();
  float* g = gates->data<float>();
  SgemmRowMajor(CublasHandle(ctx), false, false, d.batch, n4, d.input, 1.0f, x.data<float>(),
                d.input, w, n4, 0.0f, g, n4);
  SgemmRowMajor(CublasHandle(ctx), false, false, d.batch, n4, n, 1.0f, h_prev.data<float>(), n,
                w + d.input * n4, n4, d.input > 0 ? 1.0f : 0.0f, g, n4);
  LaunchLstmGatesForward(ctx.stream(), d.batch, n, g, bias.data<float>(), c_prev.data<float>(),
                         g, c->data<float>(), h->data<float>());
}

void LstmCellBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                      const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                      const Tensor& gates, const Tensor& c, const Tensor& dh,
                      const Tensor& dc, Tensor* dx, Tensor* dh_prev, Tensor* dc_prev,
                      Tensor* dkernel, Tensor* dbias) {
  const int64_t n = d.units, n4 = 4 * d.units;
  // dz in the context workspace: only this function's kernels use it, in stream order.
  float* dz = static_cast<float*>(ctx.Workspace(sizeof(float) * d.batch * n4));
  LaunchLstmGatesBackward(ctx.stream(), d.batch, n, gates.data<float>(), c_prev.data<float>(),
                          c.data<float>(), dh.defined() ? dh.data<float>() : nullptr,
                          dc.defined() ? dc.data<float>() : nullptr, dz,
                          dc_prev->data<float>());
  const float* w = kernel.data<float>();
  float* dw = dkernel->data<float>();
  if (dx && d.input > 0)
    SgemmRowMajor(CublasHandle(ctx), false, true, d.batch, d.input, n4, 1.0f, dz, n4, w, n4, 0.0f,
                  dx->data<float>(), d.input);
  SgemmRowMajor(CublasHandle(ctx), false, true, d.batch, n, n4, 1.0f, dz, n4, w + d.input * n4, n4,
                0.0f, dh_prev->data<float>(), n);
  if (d.batch > 0) {
    if (d.input > 0)
      SgemmRowMajor(CublasHandle(ctx), true, false, d.input, n4, d.batch, 1.0f, x.data<float>(),
                    d.input, dz, n4, 1.0f, dw, n4);
    SgemmRowMajor(CublasHandle(ctx), true, false, n, n4, d.batch, 1.0f, h_prev.data<float>(), n, dz,
                  n4, 1.0f, dw + d.input * n4, n4);
  }
  ColumnSums(ctx.stream(), dz, d.batch, n4, dbias->data<float>(), /*accumulate=*/true);
}

}  // namespace melody::cuda
