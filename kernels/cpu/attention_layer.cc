// Fast CPU path of the attention layer: per-step OpenBLAS GEMMs on strided views of the
// saved activations (no concatenation copies), the LSTM gate loops of cpu/lstm_gates.h,
// and the attention read rows of cpu/attention_rows.h over the key history (each output's key
// projected once, when it enters the window). The x part of the input projection is one
// GEMM over all steps before the loop; in backward the matching x-side products
// (d inputs, d K_in[x rows], d b_in) and d attn_w are single GEMMs after the loop.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/attention_layer.h"
#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/lstm_gates.h"

namespace melody::cpu {
namespace {

constexpr int64_t kRowsPerChunk = 8;  // LSTM gate rows per thread chunk

// out rows (m rows, `ld` floats apart) = bias [n].
void BroadcastRows(int64_t m, int64_t n, const float* bias, float* out, int64_t ld) {
  for (int64_t r = 0; r < m; ++r) std::memcpy(out + r * ld, bias, n * sizeof(float));
}

// out[j] += Σ_r rows[r * ld + j], rows in order (deterministic).
void SumRowsAccumulate(int64_t m, int64_t n, const float* rows, int64_t ld, float* out) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) out[j] += rows[r * ld + j];
}

struct Dims {
  int64_t B, T, I, N, Lw, H;  // H = Lw + T history entries per sequence
};

// The history as the attention read's ring: Lw + T slots of N values and N keys per
// sequence; the caller sets head = t for step t's window.
RingGeometry HistoryRing(const Dims& d) {
  RingGeometry g;
  g.C = d.H;
  g.A = d.N;
  g.V = d.N;
  g.Lw = d.Lw;
  return g;
}

Dims DimsOf(const AttentionLayerActivations& act) {
  return {act.batch, act.time, act.input_size, act.num_units, act.attn_length,
          act.attn_length + act.time};
}

}  // namespace

void AttentionLayerForward(Context& ctx, const Tensor& inputs,
                           const AttentionLayerWeights& w,
                           const AttentionLayerState* initial, AttentionLayerActivations& act,
                           Tensor* outputs, AttentionLayerState* final_state) {
  const Dims d = DimsOf(act);
  const int64_t B = d.B, T = d.T, I = d.I, N = d.N, Lw = d.Lw, H = d.H;
  const int32_t* len = act.lengths_host.data<int32_t>();
  const float* k_in = w.input_kernel.data<float>();
  const float* k_lstm = w.lstm_kernel.data<float>();
  const float* k_out = w.output_kernel.data<float>();
  const float* attn_w = w.attn_w.data<float>();
  float* x_proj = act.x_proj.data<float>();
  float* state = act.state.data<float>();
  float* attns = act.attns.data<float>();
  float* hv = act.history_values.data<float>();
  float* hk = act.history_keys.data<float>();
  float* out = outputs->data<float>();

  // Initial state: [c ; h] rows, attns, and the initial window with its keys.
  act.history_values.SetZero();
  act.history_keys.SetZero();
  act.state.SetZero();
  act.attns.SetZero();
  if (initial) {
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(hv + b * H * N, initial->window.data<float>() + b * Lw * N, Lw * N * 4);
      if (initial->window_keys.defined()) {
        std::memcpy(hk + b * H * N, initial->window_keys.data<float>() + b * Lw * N,
                    Lw * N * 4);
      } else {
        Sgemm(ctx.num_threads(), false, false, Lw, N, N, 1.0f, hv + b * H * N, N, attn_w, N, 0.0f,
              hk + b * H * N, N);
      }
    }
    std::memcpy(state, initial->c.data<float>(), B * N * 4);
    std::memcpy(state + B * N, initial->h.data<float>(), B * N * 4);
    std::memcpy(attns, initial->attns.data<float>(), B * N * 4);
  }
  // x part of the input projection for every step at once: x' = x · K_in[0:I] + b_in.
  BroadcastRows(B * T, I, w.input_bias.data<float>(), x_proj, I);
  Sgemm(ctx.num_threads(), false, false, B * T, I, I, 1.0f, inputs.data<float>(), I, k_in, I, 1.0f, x_proj, I);
  outputs->SetZero();

  RingGeometry g = HistoryRing(d);
  for (int64_t t = 0; t < act.steps; ++t) {
    const auto s = internal::AttentionLayerStepAt(act, t);
    // x' += a_prev · K_in[I:], then z = x' · W[0:I] + h_prev · W[I:] (+ bias in the gates).
    Sgemm(ctx.num_threads(), false, false, B, I, N, 1.0f, s.a_prev, N, k_in + I * I, I, 1.0f, s.x_proj, T * I);
    Sgemm(ctx.num_threads(), false, false, B, 4 * N, I, 1.0f, s.x_proj, T * I, k_lstm, 4 * N, 0.0f, s.gates, 4 * N);
    Sgemm(ctx.num_threads(), false, false, B, 4 * N, N, 1.0f, s.h_prev, N, k_lstm + I * 4 * N, 4 * N, 1.0f, s.gates,
          4 * N);
    ParallelFor(ctx.num_threads(), B, kRowsPerChunk, [&](int64_t r0, int64_t r1) {
      LstmGatesForwardRows(r0, r1, N, s.gates, 4 * N, w.lstm_bias.data<float>(), s.c_prev, N, s.c_t, N,
                           s.h_t, N);
    });
    // Query projection of [c ; h] and the read over entries t .. t+Lw-1 of the history.
    BroadcastRows(B, N, w.query_bias.data<float>(), s.y, N);
    Sgemm(ctx.num_threads(), false, false, B, N, N, 1.0f, s.c_t, N, w.query_kernel.data<float>(), N, 1.0f, s.y, N);
    Sgemm(ctx.num_threads(), false, false, B, N, N, 1.0f, s.h_t, N, w.query_kernel.data<float>() + N * N, N, 1.0f,
          s.y, N);
    g.head = t;
    ParallelFor(ctx.num_threads(), B, 1, [&](int64_t b0, int64_t b1) {
      AttentionReadRows(g, s.y, w.attn_v.data<float>(), hv, hk, s.alpha, s.a_t, b0, b1);
    });
    // out_t = [h ; a_t] · K_out + b_out, written as history entry Lw + t, and its key.
    BroadcastRows(B, N, w.output_bias.data<float>(), s.out, H * N);
    Sgemm(ctx.num_threads(), false, false, B, N, N, 1.0f, s.h_t, N, k_out, N, 1.0f, s.out, H * N);
    Sgemm(ctx.num_threads(), false, false, B, N, N, 1.0f, s.a_t, N, k_out + N * N, N, 1.0f, s.out, H * N);
    Sgemm(ctx.num_threads(), false, false, B, N, N, 1.0f, s.out, H * N, attn_w, N, 0.0f, s.key, H * N);
    // Finished sequences carry their state and output zero (dynamic_rnn).
    for (int64_t b = 0; b < B; ++b) {
      if (t < len[b]) {
        std::memcpy(out + (b * T + t) * N, s.out + b * H * N, N * 4);
      } else {
        std::memcpy(s.c_t + b * N, s.c_prev + b * N, N * 4);
        std::memcpy(s.h_t + b * N, s.h_prev + b * N, N * 4);
        std::memcpy(s.a_t + b * N, s.a_prev + b * N, N * 4);
        std::memset(s.out + b * H * N, 0, N * 4);
        std::memset(s.key + b * H * N, 0, N * 4);
      }
    }
  }
  if (final_state) {
    const float* c_last = state + 2 * act.steps * B * N;
    std::memcpy(final_state->c.data<float>(), c_last, B * N * 4);
    std::memcpy(final_state->h.data<float>(), c_last + B * N, B * N * 4);
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(final_state->window.data<float>() + b * Lw * N, hv + (b * H + len[b]) * N,
                  Lw * N * 4);
      std::memcpy(final_state->window_keys.data<float>() + b * Lw * N,
                  hk + (b * H + len[b]) * N, Lw * N * 4);
    }
    std::memcpy(final_state->attns.data<float>(), attns + act.steps * B * N, B * N * 4);
  }
}

void AttentionLayerSingleStep(Context& ctx, const Tensor& inputs,
                              const AttentionLayerWeights& w,
                              const AttentionLayerState& initial, Tensor* outputs,
                              AttentionLayerState* final_state) {
  const int64_t B = inputs.dim(0), I = inputs.dim(2), N = initial.c.dim(1);
  const int64_t Lw = initial.window.dim(1);
  const int threads = ctx.num_threads();
  const float* k_in = w.input_kernel.data<float>();
  const float* k_lstm = w.lstm_kernel.data<float>();
  const float* k_q = w.query_kernel.data<float>();
  const float* k_out = w.output_kernel.data<float>();
  const float* a_prev = initial.attns.data<float>();
  const float* c_prev = initial.c.data<float>();
  const float* h_prev = initial.h.data<float>();
  float* c_t = final_state->c.data<float>();
  float* h_t = final_state->h.data<float>();
  float* a_t = final_state->attns.data<float>();
  std::vector<float> x_proj(B * I), gates(B * 4 * N), y(B * N), alpha(B * Lw);
  // The same products as one step of AttentionLayerForward (T = 1, so x' rows are I apart).
  BroadcastRows(B, I, w.input_bias.data<float>(), x_proj.data(), I);
  Sgemm(threads, false, false, B, I, I, 1.0f, inputs.data<float>(), I, k_in, I, 1.0f, x_proj.data(), I);
  Sgemm(threads, false, false, B, I, N, 1.0f, a_prev, N, k_in + I * I, I, 1.0f, x_proj.data(), I);
  Sgemm(threads, false, false, B, 4 * N, I, 1.0f, x_proj.data(), I, k_lstm, 4 * N, 0.0f, gates.data(), 4 * N);
  Sgemm(threads, false, false, B, 4 * N, N, 1.0f, h_prev, N, k_lstm + I * 4 * N, 4 * N, 1.0f,
        gates.data(), 4 * N);
  ParallelFor(threads, B, kRowsPerChunk, [&](int64_t r0, int64_t r1) {
    LstmGatesForwardRows(r0, r1, N, gates.data(), 4 * N, w.lstm_bias.data<float>(), c_prev, N, c_t, N,
                         h_t, N);
  });
  BroadcastRows(B, N, w.query_bias.data<float>(), y.data(), N);
  Sgemm(threads, false, false, B, N, N, 1.0f, c_t, N, k_q, N, 1.0f, y.data(), N);
  Sgemm(threads, false, false, B, N, N, 1.0f, h_t, N, k_q + N * N, N, 1.0f, y.data(), N);
  // The window is the initial one, read where it lies: a ring of Lw slots with head 0.
  RingGeometry g;
  g.C = Lw;
  g.A = N;
  g.V = N;
  g.Lw = Lw;
  ParallelFor(threads, B, 1, [&](int64_t b0, int64_t b1) {
    AttentionReadRows(g, y.data(), w.attn_v.data<float>(), initial.window.data<float>(),
                      initial.window_keys.data<float>(), alpha.data(), a_t, b0, b1);
  });
  // The final window drops the oldest entry and appends out = [h ; a] · K_out + b_out
  // (rows Lw·N apart in the window) with its key.
  float* window = final_state->window.data<float>();
  float* keys = final_state->window_keys.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(window + b * Lw * N, initial.window.data<float>() + b * Lw * N + N,
                (Lw - 1) * N * 4);
    std::memcpy(keys + b * Lw * N, initial.window_keys.data<float>() + b * Lw * N + N,
                (Lw - 1) * N * 4);
  }
  float* out = window + (Lw - 1) * N;
  float* key = keys + (Lw - 1) * N;
  BroadcastRows(B, N, w.output_bias.data<float>(), out, Lw * N);
  Sgemm(threads, false, false, B, N, N, 1.0f, h_t, N, k_out, N, 1.0f, out, Lw * N);
  Sgemm(threads, false, false, B, N, N, 1.0f, a_t, N, k_out + N * N, N, 1.0f, out, Lw * N);
  Sgemm(threads, false, false, B, N, N, 1.0f, out, Lw * N, w.attn_w.data<float>(), N, 0.0f, key, Lw * N);
  float* outputs_data = outputs->data<float>();
  for (int64_t b = 0; b < B; ++b) std::memcpy(outputs_data + b * N, out + b * Lw * N, N * 4);
}

void AttentionLayerBackward(Context& ctx, const Tensor& inputs,
                            const AttentionLayerWeights& w,
                            const AttentionLayerActivations& act, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs) {
  const Dims d = DimsOf(act);
  const int64_t B = d.B, T = d.T, I = d.I, N = d.N, Lw = d.Lw, H = d.H;
  const int32_t* len = act.lengths_host.data<int32_t>();
  const float* k_in = w.input_kernel.data<float>();
  const float* k_lstm = w.lstm_kernel.data<float>();
  const float* k_out = w.output_kernel.data<float>();
  const float* k_q = w.query_kernel.data<float>();
  const float* attn_w = w.attn_w.data<float>();
  const float* hv = act.history_values.data<float>();
  const float* hk = act.history_keys.data<float>();
  const float* d_out_all = d_outputs.data<float>();
  float* g_k_in = grads->input_kernel.data<float>();
  float* g_k_lstm = grads->lstm_kernel.data<float>();
  float* g_k_q = grads->query_kernel.data<float>();
  float* g_k_out = grads->output_kernel.data<float>();

  // Gradients w.r.t. history entries (values and keys), filled by the reads of later steps.
  std::vector<float> d_hv(B * H * N, 0.0f), d_hk(B * H * N, 0.0f);
  std::vector<float> d_xp(B * T * I, 0.0f);     // d x' of every step, [B, T, I]
  std::vector<float> d_c(B * N, 0.0f), d_h(B * N, 0.0f);  // carried: state after step t
  std::vector<float> d_a(B * N, 0.0f);          // carried d a_t from step t+1's input
  std::vector<float> dv_rows(B * N, 0.0f);      // per-sequence d attn_v
  std::vector<float> d_out(B * N), d_ctx(B * N), dy(B * N), dz(B * 4 * N);

  RingGeometry g = HistoryRing(d);
  for (int64_t t = act.steps - 1; t >= 0; --t) {
    const auto s = internal::AttentionLayerStepAt(act, t);
    // Total gradient of out_t: from the caller (valid positions only) and from its uses
    // as a window value and, through its key, as a window key by later steps.
    for (int64_t b = 0; b < B; ++b) {
      const float* src = d_out_all + (b * T + t) * N;
      const float* from_window = d_hv.data() + (b * H + Lw + t) * N;
      for (int64_t k = 0; k < N; ++k) d_out[b * N + k] = t < len[b] ? src[k] + from_window[k] : 0.0f;
    }
    Sgemm(ctx.num_threads(), false, true, B, N, N, 1.0f, d_hk.data() + (Lw + t) * N, H * N, attn_w, N, 1.0f,
          d_out.data(), N);
    // out_t = h · K_out[0:N] + a_t · K_out[N:] + b_out.
    Sgemm(ctx.num_threads(), true, false, N, N, B, 1.0f, s.h_t, N, d_out.data(), N, 1.0f, g_k_out, N);
    Sgemm(ctx.num_threads(), true, false, N, N, B, 1.0f, s.a_t, N, d_out.data(), N, 1.0f, g_k_out + N * N, N);
    SumRowsAccumulate(B, N, d_out.data(), N, grads->output_bias.data<float>());
    Sgemm(ctx.num_threads(), false, true, B, N, N, 1.0f, d_out.data(), N, k_out, N, 1.0f, d_h.data(), N);
    std::memcpy(d_ctx.data(), d_a.data(), B * N * 4);
    Sgemm(ctx.num_threads(), false, true, B, N, N, 1.0f, d_out.data(), N, k_out + N * N, N, 1.0f, d_ctx.data(), N);
    // The attention read of step t (window = history entries t .. t+Lw-1).
    g.head = t;
    ParallelFor(ctx.num_threads(), B, 1, [&](int64_t b0, int64_t b1) {
      AttentionReadBackwardRows(g, s.y, w.attn_v.data<float>(), hv,
                                hk, s.alpha, d_ctx.data(),
                                dy.data(), dv_rows.data(), d_hv.data(), d_hk.data(), b0, b1);
    });
    // y = c · K_q[0:N] + h · K_q[N:] + b_q: dc, dh add onto the carried state gradient.
    SumRowsAccumulate(B, N, dy.data(), N, grads->query_bias.data<float>());
    Sgemm(ctx.num_threads(), true, false, N, N, B, 1.0f, s.c_t, N, dy.data(), N, 1.0f, g_k_q, N);
    Sgemm(ctx.num_threads(), true, false, N, N, B, 1.0f, s.h_t, N, dy.data(), N, 1.0f, g_k_q + N * N, N);
    Sgemm(ctx.num_threads(), false, true, B, N, N, 1.0f, dy.data(), N, k_q, N, 1.0f, d_c.data(), N);
    Sgemm(ctx.num_threads(), false, true, B, N, N, 1.0f, dy.data(), N, k_q + N * N, N, 1.0f, d_h.data(), N);
    // LSTM gates; dc_prev is written over dc in place.
    ParallelFor(ctx.num_threads(), B, kRowsPerChunk, [&](int64_t r0, int64_t r1) {
      LstmGatesBackwardRows(r0, r1, N, s.gates, 4 * N, s.c_prev, N, s.c_t, N, d_h.data(), N,
                            d_c.data(), N, dz.data(), 4 * N, d_c.data(), N);
    });
    SumRowsAccumulate(B, 4 * N, dz.data(), 4 * N, grads->lstm_bias.data<float>());
    Sgemm(ctx.num_threads(), true, false, I, 4 * N, B, 1.0f, s.x_proj, T * I, dz.data(), 4 * N, 1.0f, g_k_lstm, 4 * N);
    Sgemm(ctx.num_threads(), true, false, N, 4 * N, B, 1.0f, s.h_prev, N, dz.data(), 4 * N, 1.0f,
          g_k_lstm + I * 4 * N, 4 * N);
    Sgemm(ctx.num_threads(), false, true, B, N, 4 * N, 1.0f, dz.data(), 4 * N, k_lstm + I * 4 * N, 4 * N, 0.0f,
          d_h.data(), N);
    float* dxp_t = d_xp.data() + t * I;
    Sgemm(ctx.num_threads(), false, true, B, I, 4 * N, 1.0f, dz.data(), 4 * N, k_lstm, 4 * N, 0.0f, dxp_t, T * I);
    // x' = x · K_in[0:I] + a_prev · K_in[I:] + b_in: the a side now, the x side after the loop.
    Sgemm(ctx.num_threads(), true, false, N, I, B, 1.0f, s.a_prev, N, dxp_t, T * I, 1.0f, g_k_in + I * I, I);
    Sgemm(ctx.num_threads(), false, true, B, N, I, 1.0f, dxp_t, T * I, k_in + I * I, I, 0.0f, d_a.data(), N);
  }
  // x side of the input projection over all steps at once.
  SumRowsAccumulate(B * T, I, d_xp.data(), I, grads->input_bias.data<float>());
  Sgemm(ctx.num_threads(), true, false, I, I, B * T, 1.0f, inputs.data<float>(), I, d_xp.data(), I, 1.0f, g_k_in, I);
  if (d_inputs) {
    Sgemm(ctx.num_threads(), false, true, B * T, I, I, 1.0f, d_xp.data(), I, k_in, I, 0.0f,
          d_inputs->data<float>(), I);
  }
  // Every history entry's key was projected once: d attn_w = Σ entries valueᵀ · d key.
  Sgemm(ctx.num_threads(), true, false, N, N, B * H, 1.0f, hv, N, d_hk.data(), N, 1.0f,
        grads->attn_w.data<float>(), N);
  SumRowsAccumulate(B, N, dv_rows.data(), N, grads->attn_v.data<float>());
}

}  // namespace melody::cpu
