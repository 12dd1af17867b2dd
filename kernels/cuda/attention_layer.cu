// CUDA twin of the attention layer (gpu-design.md §3), the same step sequence as the CPU
// path (kernels/cpu/attention_layer.cc) on the context's stream:
//   before the loop: x' = x · K_in[0:I] + b_in for all steps (one GEMM);
//   per step: 3 cuBLAS GEMMs to x' and z, the fused LSTM gate kernel (lstm_gates.cuh),
//   2 GEMMs for the query, the fused attention read (one block per sequence, keys read
//   from the history where each was projected once), 2 GEMMs for the output and 1 for its
//   key, one kernel for dynamic_rnn masking.
// Backward mirrors it in reverse; the x side of the input projection and d attn_w are
// single GEMMs after the loop. Every reduction is a fixed-order loop or a GEMM: no atomics.
// The step is launched kernel by kernel (not captured as a CUDA Graph).
#include <cstdint>

#include "kernels/attention_layer.h"
#include "kernels/cuda/attention_rows.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dense_cuda_util.h"
#include "kernels/cuda/lstm_gates.cuh"

namespace melody::cuda {
namespace {

// out rows (m rows, `ld` floats apart) = bias [n].
__global__ void BroadcastStridedKernel(int64_t m, int64_t n, const float* __restrict__ bias,
                                       float* __restrict__ out, int64_t ld) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < m * n) out[(i / n) * ld + i % n] = bias[i % n];
}

// dynamic_rnn after step t: valid sequences copy out_t to the outputs; finished ones carry
// c, h, a and get a zero history entry (value and key).
__global__ void MaskStepKernel(int64_t B, int64_t N, int64_t T, int64_t H, int64_t Lw,
                               int64_t t, const int32_t* __restrict__ len,
                               const float* __restrict__ c_prev,
                               const float* __restrict__ h_prev,
                               const float* __restrict__ a_prev, float* __restrict__ c_t,
                               float* __restrict__ h_t, float* __restrict__ a_t,
                               float* __restrict__ hv, float* __restrict__ hk,
                               float* __restrict__ outputs) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= B * N) return;
  const int64_t b = i / N, k = i % N;
  const int64_t entry = (b * H + Lw + t) * N + k;
  if (t < len[b]) {
    outputs[(b * T + t) * N + k] = hv[entry];
  } else {
    c_t[i] = c_prev[i];
    h_t[i] = h_prev[i];
    a_t[i] = a_prev[i];
    hv[entry] = 0.0f;
    hk[entry] = 0.0f;
  }
}

// d out_t = d_outputs (valid positions only) + its gradient as a window value.
__global__ void OutputGradKernel(int64_t B, int64_t N, int64_t T, int64_t H, int64_t Lw,
                                 int64_t t, const int32_t* __restrict__ len,
                                 const float* __restrict__ d_outputs,
                                 const float* __restrict__ d_hv, float* __restrict__ d_out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= B * N) return;
  const int64_t b = i / N, k = i % N;
  d_out[i] = t < len[b] ? d_outputs[(b * T + t) * N + k] + d_hv[(b * H + Lw + t) * N + k]
                        : 0.0f;
}

// Final window of sequence b: history entries len[b] .. len[b] + Lw - 1.
__global__ void FinalWindowKernel(int64_t B, int64_t Lw, int64_t N, int64_t H,
                                  const int32_t* __restrict__ len,
                                  const float* __restrict__ hv, float* __restrict__ window) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= B * Lw * N) return;
  const int64_t b = i / (Lw * N), rest = i % (Lw * N);
  window[i] = hv[(b * H + len[b]) * N + rest];
}

void Zero(Context& ctx, Tensor& t) { ZeroFill(ctx.stream(), t.raw_data(), t.nbytes()); }

void CopyAsync(Context& ctx, float* dst, const float* src, int64_t count) {
  MELODY_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice,
                                    ctx.stream()));
}

}  // namespace

void AttentionLayerForward(Context& ctx, const Tensor& inputs,
                           const AttentionLayerWeights& w,
                           const AttentionLayerState* initial, AttentionLayerActivations& act,
                           Tensor* outputs, AttentionLayerState* final_state) {
  const int64_t B = act.batch, T = act.time, I = act.input_size, N = act.num_units;
  const int64_t Lw = act.attn_length, H = Lw + T;
  cudaStream_t stream = ctx.stream();
  cublasHandle_t blas = CublasHandle(ctx);
  const int32_t* len = act.lengths.data<int32_t>();
  const float* k_in = w.input_kernel.data<float>();
  const float* k_lstm = w.lstm_kernel.data<float>();
  const float* k_out = w.output_kernel.data<float>();
  const float* k_q = w.query_kernel.data<float>();
  const float* attn_w = w.attn_w.data<float>();
  float* x_proj = act.x_proj.data<float>();
  float* state = act.state.data<float>();
  float* attns = act.attns.data<float>();
  float* hv = act.history_values.data<float>();
  float* hk = act.history_keys.data<float>();
  float* out = outputs->data<float>();

  Zero(ctx, act.history_values);
  Zero(ctx, act.history_keys);
  Zero(ctx, act.state);
  Zero(ctx, act.attns);
  Zero(ctx, *outputs);
  if (initial) {
    CopyAsync(ctx, state, initial->c.data<float>(), B * N);
    CopyAsync(ctx, state + B * N, initial->h.data<float>(), B * N);
    CopyAsync(ctx, attns, initial->attns.data<float>(), B * N);
    MELODY_CUDA_CHECK(cudaMemcpy2DAsync(hv, H * N * sizeof(float), initial->window.data<float>(),
                                        Lw * N * sizeof(float), Lw * N * sizeof(float), B,
                                        cudaMemcpyDeviceToDevice, stream));
    if (initial->window_keys.defined()) {
      MELODY_CUDA_CHECK(cudaMemcpy2DAsync(
          hk, H * N * sizeof(float), initial->window_keys.data<float>(), Lw * N * sizeof(float),
          Lw * N * sizeof(float), B, cudaMemcpyDeviceToDevice, stream));
    } else {
      for (int64_t b = 0; b < B; ++b)
        SgemmRowMajor(blas, false, false, Lw, N, N, 1.0f, hv + b * H * N, N, attn_w, N, 0.0f,
                      hk + b * H * N, N);
    }
  }
  BroadcastRows(stream, w.input_bias.data<float>(), B * T, I, x_proj);
  SgemmRowMajor(blas, false, false, B * T, I, I, 1.0f, inputs.data<float>(), I, k_in, I, 1.0f,
                x_proj, I);

  for (int64_t t = 0; t < act.steps; ++t) {
    const auto s = internal::AttentionLayerStepAt(act, t);
    SgemmRowMajor(blas, false, false, B, I, N, 1.0f, s.a_prev, N, k_in + I * I, I, 1.0f, s.x_proj,
                  T * I);
    SgemmRowMajor(blas, false, false, B, 4 * N, I, 1.0f, s.x_proj, T * I, k_lstm, 4 * N, 0.0f, s.gates,
                  4 * N);
    SgemmRowMajor(blas, false, false, B, 4 * N, N, 1.0f, s.h_prev, N, k_lstm + I * 4 * N, 4 * N,
                  1.0f, s.gates, 4 * N);
    LaunchLstmGatesForward(stream, B, N, s.gates, w.lstm_bias.data<float>(), s.c_prev, s.gates, s.c_t, s.h_t);
    BroadcastRows(stream, w.query_bias.data<float>(), B, N, s.y);
    SgemmRowMajor(blas, false, false, B, N, N, 1.0f, s.c_t, N, k_q, N, 1.0f, s.y, N);
    SgemmRowMajor(blas, false, false, B, N, N, 1.0f, s.h_t, N, k_q + N * N, N, 1.0f, s.y, N);
    LaunchAttentionReadForward(stream, B, H, N, N, Lw, t, s.y, w.attn_v.data<float>(), hv, hk,
                               s.alpha, s.a_t);
    BroadcastStridedKernel<<<GridFor(B * N), kBlockThreads, 0, stream>>>(
        B, N, w.output_bias.data<float>(), s.out, H * N);
    MELODY_CUDA_LAUNCH_CHECK();
    SgemmRowMajor(blas, false, false, B, N, N, 1.0f, s.h_t, N, k_out, N, 1.0f, s.out, H * N);
    SgemmRowMajor(blas, false, false, B, N, N, 1.0f, s.a_t, N, k_out + N * N, N, 1.0f, s.out,
                  H * N);
    SgemmRowMajor(blas, false, false, B, N, N, 1.0f, s.out, H * N, attn_w, N, 0.0f, s.key,
                  H * N);
    MaskStepKernel<<<GridFor(B * N), kBlockThreads, 0, stream>>>(
        B, N, T, H, Lw, t, len, s.c_prev, s.h_prev, s.a_prev, s.c_t, s.h_t, s.a_t, hv, hk, out);
    MELODY_CUDA_LAUNCH_CHECK();
  }
  if (final_state) {
    const float* c_last = state + 2 * act.steps * B * N;
    CopyAsync(ctx, final_state->c.data<float>(), c_last, B * N);
    CopyAsync(ctx, final_state->h.data<float>(), c_last + B * N, B * N);
    CopyAsync(ctx, final_state->attns.data<float>(), attns + act.steps * B * N, B * N);
    if (B * Lw * N > 0) {
      FinalWindowKernel<<<GridFor(B * Lw * N), kBlockThreads, 0, stream>>>(
          B, Lw, N, H, len, hv, final_state->window.data<float>());
      MELODY_CUDA_LAUNCH_CHECK();
      FinalWindowKernel<<<GridFor(B * Lw * N), kBlockThreads, 0, stream>>>(
          B, Lw, N, H, len, hk, final_state->window_keys.data<float>());
      MELODY_CUDA_LAUNCH_CHECK();
    }
  }
}

void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& w,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs) {
  const int64_t B = act.batch, T = act.time, I = act.input_size, N = act.num_units;
  const int64_t Lw = act.attn_length, H = Lw + T;
  cudaStream_t stream = ctx.stream();
  cublasHandle_t blas = CublasHandle(ctx);
  const Device dev = ctx.device();
  const int32_t* len = act.lengths.data<int32_t>();
  const float* k_in = w.input_kernel.data<float>();
  const float* k_lstm = w.lstm_kernel.data<float>();
  const float* k_out = w.output_kernel.data<float>();
  const float* k_q = w.query_kernel.data<float>();
  const float* attn_w = w.attn_w.data<float>();
  const float* hv = act.history_values.data<float>();
  const float* hk = act.history_keys.data<float>();
  float* g_k_in = grads->input_kernel.data<float>();
  float* g_k_lstm = grads->lstm_kernel.data<float>();
  float* g_k_q = grads->query_kernel.data<float>();
  float* g_k_out = grads->output_kernel.data<float>();

  const DType f32 = DType::kFloat32;
  Tensor d_hv_t({B, H, N}, f32, dev), d_hk_t({B, H, N}, f32, dev), d_xp_t({B, T, I}, f32, dev);
  Tensor d_c_t({B, N}, f32, dev), d_h_t({B, N}, f32, dev), d_a_t({B, N}, f32, dev);
  Tensor dv_rows_t({B, N}, f32, dev), d_out_t({B, N}, f32, dev), d_ctx_t({B, N}, f32, dev);
  Tensor dy_t({B, N}, f32, dev), dz_t({B, 4 * N}, f32, dev);
  for (Tensor* z : {&d_hv_t, &d_hk_t, &d_xp_t, &d_c_t, &d_h_t, &d_a_t, &dv_rows_t})
    Zero(ctx, *z);
  float* d_hv = d_hv_t.data<float>();
  float* d_hk = d_hk_t.data<float>();
  float* d_xp = d_xp_t.data<float>();
  float* d_c = d_c_t.data<float>();
  float* d_h = d_h_t.data<float>();
  float* d_a = d_a_t.data<float>();
  float* dv_rows = dv_rows_t.data<float>();
  float* d_out = d_out_t.data<float>();
  float* d_ctx = d_ctx_t.data<float>();
  float* dy = dy_t.data<float>();
  float* dz = dz_t.data<float>();

  for (int64_t t = act.steps - 1; t >= 0; --t) {
    const auto s = internal::AttentionLayerStepAt(act, t);
    OutputGradKernel<<<GridFor(B * N), kBlockThreads, 0, stream>>>(
        B, N, T, H, Lw, t, len, d_outputs.data<float>(), d_hv, d_out);
    MELODY_CUDA_LAUNCH_CHECK();
    SgemmRowMajor(blas, false, true, B, N, N, 1.0f, d_hk + (Lw + t) * N, H * N, attn_w, N, 1.0f,
                  d_out, N);
    SgemmRowMajor(blas, true, false, N, N, B, 1.0f, s.h_t, N, d_out, N, 1.0f, g_k_out, N);
    SgemmRowMajor(blas, true, false, N, N, B, 1.0f, s.a_t, N, d_out, N, 1.0f, g_k_out + N * N, N);
    ColumnSums(stream, d_out, B, N, grads->output_bias.data<float>(), true);
    SgemmRowMajor(blas, false, true, B, N, N, 1.0f, d_out, N, k_out, N, 1.0f, d_h, N);
    CopyAsync(ctx, d_ctx, d_a, B * N);
    SgemmRowMajor(blas, false, true, B, N, N, 1.0f, d_out, N, k_out + N * N, N, 1.0f, d_ctx, N);
    LaunchAttentionReadBackward(stream, B, H, N, N, Lw, t, s.y,
                                w.attn_v.data<float>(), hv, hk,
                                s.alpha, d_ctx, dy, dv_rows, d_hv,
                                d_hk);
    ColumnSums(stream, dy, B, N, grads->query_bias.data<float>(), true);
    SgemmRowMajor(blas, true, false, N, N, B, 1.0f, s.c_t, N, dy, N, 1.0f, g_k_q, N);
    SgemmRowMajor(blas, true, false, N, N, B, 1.0f, s.h_t, N, dy, N, 1.0f, g_k_q + N * N, N);
    SgemmRowMajor(blas, false, true, B, N, N, 1.0f, dy, N, k_q, N, 1.0f, d_c, N);
    SgemmRowMajor(blas, false, true, B, N, N, 1.0f, dy, N, k_q + N * N, N, 1.0f, d_h, N);
    LaunchLstmGatesBackward(stream, B, N, s.gates, s.c_prev, s.c_t, d_h, d_c, dz, d_c);
    ColumnSums(stream, dz, B, 4 * N, grads->lstm_bias.data<float>(), true);
    SgemmRowMajor(blas, true, false, I, 4 * N, B, 1.0f, s.x_proj, T * I, dz, 4 * N, 1.0f, g_k_lstm,
                  4 * N);
    SgemmRowMajor(blas, true, false, N, 4 * N, B, 1.0f, s.h_prev, N, dz, 4 * N, 1.0f,
                  g_k_lstm + I * 4 * N, 4 * N);
    SgemmRowMajor(blas, false, true, B, N, 4 * N, 1.0f, dz, 4 * N, k_lstm + I * 4 * N, 4 * N,
                  0.0f, d_h, N);
    float* dxp_t = d_xp + t * I;
    SgemmRowMajor(blas, false, true, B, I, 4 * N, 1.0f, dz, 4 * N, k_lstm, 4 * N, 0.0f, dxp_t,
                  T * I);
    SgemmRowMajor(blas, true, false, N, I, B, 1.0f, s.a_prev, N, dxp_t, T * I, 1.0f,
                  g_k_in + I * I, I);
    SgemmRowMajor(blas, false, true, B, N, I, 1.0f, dxp_t, T * I, k_in + I * I, I, 0.0f, d_a, N);
  }
  ColumnSums(stream, d_xp, B * T, I, grads->input_bias.data<float>(), true);
  SgemmRowMajor(blas, true, false, I, I, B * T, 1.0f, inputs.data<float>(), I, d_xp, I, 1.0f,
                g_k_in, I);
  if (d_inputs) {
    SgemmRowMajor(blas, false, true, B * T, I, I, 1.0f, d_xp, I, k_in, I, 0.0f,
                  d_inputs->data<float>(), I);
  }
  SgemmRowMajor(blas, true, false, N, N, B * H, 1.0f, hv, N, d_hk, N, 1.0f,
                grads->attn_w.data<float>(), N);
  ColumnSums(stream, dv_rows, B, N, grads->attn_v.data<float>(), true);
  // The scratch tensors are freed on return: finish the queued work that reads them.
  ctx.Synchronize();
}

}  // namespace melody::cuda
