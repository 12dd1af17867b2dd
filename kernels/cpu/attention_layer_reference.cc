// Literal reference of the attention-wrapped LSTM layer (model.md §2.3, §2.5, §2.7): one
// sequence at a time, the window kept as [Lw, N] rows that are shifted every step, the key
// projection window·attn_w recomputed for all Lw rows at every step, and a hand-written
// BPTT through the whole state (c, h, attns, window). Templated for double-precision
// gradient checks.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "kernels/attention_layer.h"
#include "kernels/op_checks.h"

namespace melody::reference {
namespace {

using LayerSizes = internal::AttentionLayerSizes;

template <typename S>
S Sigmoid(S x) {
  return S(1) / (S(1) + std::exp(-x));
}

// out[j] = bias[j] + Σ_i x[i] · M[i, j] for M [rows, cols] (bias may be null).
template <typename S>
void RowTimesMatrix(const S* x, const S* m, const S* bias, int64_t rows, int64_t cols, S* out) {
  for (int64_t j = 0; j < cols; ++j) {
    S acc = bias ? bias[j] : S(0);
    for (int64_t i = 0; i < rows; ++i) acc += x[i] * m[i * cols + j];
    out[j] = acc;
  }
}

// Backward of RowTimesMatrix: dx[i] += Σ_j dout[j] M[i, j]; dM[i, j] += x[i] dout[j];
// dbias[j] += dout[j] (dbias may be null).
template <typename S>
void RowTimesMatrixBackward(const S* x, const S* m, const S* dout, int64_t rows, int64_t cols,
                            S* dx, S* dm, S* dbias) {
  for (int64_t i = 0; i < rows; ++i) {
    S acc = 0;
    for (int64_t j = 0; j < cols; ++j) {
      acc += dout[j] * m[i * cols + j];
      dm[i * cols + j] += x[i] * dout[j];
    }
    dx[i] += acc;
  }
  if (dbias)
    for (int64_t j = 0; j < cols; ++j) dbias[j] += dout[j];
}

template <typename S>
std::vector<S> Concat(const S* a, int64_t na, const S* b, int64_t nb) {
  std::vector<S> out(a, a + na);
  out.insert(out.end(), b, b + nb);
  return out;
}

// Everything one step of one sequence computes, kept for the backward pass.
template <typename S>
struct Step {
  std::vector<S> xa;      // [x_t ; a_prev]           I + N
  std::vector<S> xh;      // [x' ; h_prev]            I + N
  std::vector<S> gates;   // σ(i), tanh(j), σ(f+1), σ(o)  4N
  std::vector<S> c_prev, c, q;  // q = [c ; h]        N, N, 2N
  std::vector<S> window;  // W_prev                   Lw·N
  std::vector<S> u;       // tanh(F + y)              Lw·N
  std::vector<S> alpha;   // Lw
  std::vector<S> ha;      // [h ; a_t]                2N
};

// The recurrent state of one sequence.
template <typename S>
struct RowState {
  std::vector<S> c, h, a, window;  // N, N, N, Lw·N
};

template <typename S>
struct Weights {
  const S *k_in, *b_in, *k_lstm, *b_lstm, *attn_w, *attn_v, *k_q, *b_q, *k_out, *b_out;
  explicit Weights(const AttentionLayerWeights& w)
      : k_in(w.input_kernel.data<S>()), b_in(w.input_bias.data<S>()),
        k_lstm(w.lstm_kernel.data<S>()), b_lstm(w.lstm_bias.data<S>()),
        attn_w(w.attn_w.data<S>()), attn_v(w.attn_v.data<S>()),
        k_q(w.query_kernel.data<S>()), b_q(w.query_bias.data<S>()),
        k_out(w.output_kernel.data<S>()), b_out(w.output_bias.data<S>()) {}
};

template <typename S>
RowState<S> InitialRowState(const LayerSizes& z, const AttentionLayerState* initial, int64_t b) {
  RowState<S> st;
  st.c.assign(z.N, S(0));
  st.h.assign(z.N, S(0));
  st.a.assign(z.N, S(0));
  st.window.assign(z.Lw * z.N, S(0));
  if (initial) {
    std::copy_n(initial->c.data<S>() + b * z.N, z.N, st.c.begin());
    std::copy_n(initial->h.data<S>() + b * z.N, z.N, st.h.begin());
    std::copy_n(initial->attns.data<S>() + b * z.N, z.N, st.a.begin());
    std::copy_n(initial->window.data<S>() + b * z.Lw * z.N, z.Lw * z.N, st.window.begin());
  }
  return st;
}

// One step of model.md §2.5 for one sequence; updates `st`, returns out_t in `out`.
template <typename S>
Step<S> ForwardStep(const LayerSizes& z, const Weights<S>& w, const S* x, RowState<S>& st,
                    std::vector<S>& out) {
  const int64_t I = z.I, N = z.N, Lw = z.Lw;
  Step<S> s;
  s.xa = Concat(x, I, st.a.data(), N);
  std::vector<S> xp(I);
  RowTimesMatrix(s.xa.data(), w.k_in, w.b_in, I + N, I, xp.data());
  s.xh = Concat(xp.data(), I, st.h.data(), N);
  std::vector<S> zg(4 * N);
  RowTimesMatrix(s.xh.data(), w.k_lstm, w.b_lstm, I + N, 4 * N, zg.data());
  s.gates.resize(4 * N);
  s.c_prev = st.c;
  s.c.resize(N);
  std::vector<S> h(N);
  for (int64_t k = 0; k < N; ++k) {
    const S gi = Sigmoid(zg[k]), gj = std::tanh(zg[N + k]);
    const S gf = Sigmoid(zg[2 * N + k] + S(1)), go = Sigmoid(zg[3 * N + k]);
    s.gates[k] = gi;
    s.gates[N + k] = gj;
    s.gates[2 * N + k] = gf;
    s.gates[3 * N + k] = go;
    s.c[k] = st.c[k] * gf + gi * gj;
    h[k] = std::tanh(s.c[k]) * go;
  }
  s.q = Concat(s.c.data(), N, h.data(), N);
  // Attention read over the window before this step's output is appended; every row's key
  // projection is recomputed here, as the reference graph does.
  std::vector<S> y(N);
  RowTimesMatrix(s.q.data(), w.k_q, w.b_q, 2 * N, N, y.data());
  s.window = st.window;
  s.u.resize(Lw * N);
  std::vector<S> scores(Lw), f(N);
  for (int64_t l = 0; l < Lw; ++l) {
    RowTimesMatrix(&s.window[l * N], w.attn_w, static_cast<const S*>(nullptr), N, N, f.data());
    S score = 0;
    for (int64_t j = 0; j < N; ++j) {
      s.u[l * N + j] = std::tanh(f[j] + y[j]);
      score += w.attn_v[j] * s.u[l * N + j];
    }
    scores[l] = score;
  }
  const S max_score = *std::max_element(scores.begin(), scores.end());
  S total = 0;
  s.alpha.resize(Lw);
  for (int64_t l = 0; l < Lw; ++l) total += (s.alpha[l] = std::exp(scores[l] - max_score));
  for (int64_t l = 0; l < Lw; ++l) s.alpha[l] /= total;
  std::vector<S> a(N, S(0));
  for (int64_t l = 0; l < Lw; ++l)
    for (int64_t k = 0; k < N; ++k) a[k] += s.alpha[l] * s.window[l * N + k];
  s.ha = Concat(h.data(), N, a.data(), N);
  out.assign(N, S(0));
  RowTimesMatrix(s.ha.data(), w.k_out, w.b_out, 2 * N, N, out.data());
  // New state: the window drops its oldest row and appends out_t.
  st.c = s.c;
  st.h = h;
  st.a = a;
  std::rotate(st.window.begin(), st.window.begin() + N, st.window.end());
  std::copy(out.begin(), out.end(), st.window.end() - N);
  return s;
}

// The final state of one sequence, with the key cache recomputed from the window.
template <typename S>
void WriteState(const LayerSizes& z, const Weights<S>& w, const RowState<S>& st, int64_t b,
                AttentionLayerState* out) {
  std::copy(st.c.begin(), st.c.end(), out->c.data<S>() + b * z.N);
  std::copy(st.h.begin(), st.h.end(), out->h.data<S>() + b * z.N);
  std::copy(st.a.begin(), st.a.end(), out->attns.data<S>() + b * z.N);
  std::copy(st.window.begin(), st.window.end(), out->window.data<S>() + b * z.Lw * z.N);
  for (int64_t l = 0; l < z.Lw; ++l)
    RowTimesMatrix(&st.window[l * z.N], w.attn_w, static_cast<const S*>(nullptr), z.N, z.N,
                   out->window_keys.data<S>() + (b * z.Lw + l) * z.N);
}

}  // namespace

template <typename T>
void AttentionLayerForward(const Tensor& inputs, const Tensor& lengths,
                           const AttentionLayerWeights& weights, int attn_length,
                           const AttentionLayerState* initial, Tensor* outputs,
                           AttentionLayerState* final_state) {
  const char* op = "reference::AttentionLayerForward";
  const Device cpu = Device::CPU();
  const DType dt = DTypeOf<T>::value;
  const LayerSizes z = internal::CheckAttentionLayerArgs(
      op, inputs, weights, attn_length, initial, dt, cpu);
  const std::vector<int32_t> len =
      op_checks::CheckedHostLengths(lengths, op, z.B, z.T, cpu);
  op_checks::CheckOutput(outputs, op, "outputs", {z.B, z.T, z.N}, dt, cpu);
  if (final_state) {
    final_state->c = Tensor({z.B, z.N}, dt);
    final_state->h = Tensor({z.B, z.N}, dt);
    final_state->attns = Tensor({z.B, z.N}, dt);
    final_state->window = Tensor({z.B, z.Lw, z.N}, dt);
    final_state->window_keys = Tensor({z.B, z.Lw, z.N}, dt);
  }
  const Weights<T> w(weights);
  T* out = outputs->data<T>();
  std::fill(out, out + outputs->numel(), T(0));
  std::vector<T> step_out;
  for (int64_t b = 0; b < z.B; ++b) {
    RowState<T> st = InitialRowState<T>(z, initial, b);
    for (int64_t t = 0; t < len[b]; ++t) {
      ForwardStep(z, w, inputs.data<T>() + (b * z.T + t) * z.I, st, step_out);
      std::copy(step_out.begin(), step_out.end(), out + (b * z.T + t) * z.N);
    }
    if (final_state) WriteState(z, w, st, b, final_state);
  }
}

template <typename T>
void AttentionLayerBackward(const Tensor& inputs, const Tensor& lengths,
                            const AttentionLayerWeights& weights, int attn_length,
                            const AttentionLayerState* initial, const Tensor& d_outputs,
                            AttentionLayerWeights* grads, Tensor* d_inputs) {
  const char* op = "reference::AttentionLayerBackward";
  const Device cpu = Device::CPU();
  const DType dt = DTypeOf<T>::value;
  const LayerSizes z = internal::CheckAttentionLayerArgs(
      op, inputs, weights, attn_length, initial, dt, cpu);
  const std::vector<int32_t> len =
      op_checks::CheckedHostLengths(lengths, op, z.B, z.T, cpu);
  op_checks::CheckTensor(d_outputs, op, "d_outputs", {z.B, z.T, z.N}, dt, cpu);
  MELODY_REQUIRE(grads != nullptr) << op << ": grads is null";
  internal::CheckAttentionLayerArgs(op, inputs, *grads, attn_length, nullptr, dt, cpu);
  if (d_inputs) op_checks::CheckOutput(d_inputs, op, "d_inputs", {z.B, z.T, z.I}, dt, cpu);

  const int64_t I = z.I, N = z.N, Lw = z.Lw;
  const Weights<T> w(weights);
  T* g_k_in = grads->input_kernel.data<T>();
  T* g_b_in = grads->input_bias.data<T>();
  T* g_k_lstm = grads->lstm_kernel.data<T>();
  T* g_b_lstm = grads->lstm_bias.data<T>();
  T* g_attn_w = grads->attn_w.data<T>();
  T* g_attn_v = grads->attn_v.data<T>();
  T* g_k_q = grads->query_kernel.data<T>();
  T* g_b_q = grads->query_bias.data<T>();
  T* g_k_out = grads->output_kernel.data<T>();
  T* g_b_out = grads->output_bias.data<T>();
  if (d_inputs) std::fill(d_inputs->data<T>(), d_inputs->data<T>() + d_inputs->numel(), T(0));

  std::vector<T> step_out;
  for (int64_t b = 0; b < z.B; ++b) {
    RowState<T> st = InitialRowState<T>(z, initial, b);
    std::vector<Step<T>> steps;
    for (int64_t t = 0; t < len[b]; ++t)
      steps.push_back(ForwardStep(z, w, inputs.data<T>() + (b * z.T + t) * I, st, step_out));
    // Gradients w.r.t. the state after step t (zero after the last step: the final state
    // is not used by the loss).
    std::vector<T> dc(N, T(0)), dh(N, T(0)), da(N, T(0)), dwin(Lw * N, T(0));
    for (int64_t t = len[b] - 1; t >= 0; --t) {
      const Step<T>& s = steps[t];
      // The window after the step is [W_prev rows 1..Lw-1 ; out_t].
      std::vector<T> d_out(d_outputs.data<T>() + (b * z.T + t) * N,
                           d_outputs.data<T>() + (b * z.T + t + 1) * N);
      for (int64_t k = 0; k < N; ++k) d_out[k] += dwin[(Lw - 1) * N + k];
      std::vector<T> dwin_prev(Lw * N, T(0));
      for (int64_t l = 1; l < Lw; ++l)
        for (int64_t k = 0; k < N; ++k) dwin_prev[l * N + k] = dwin[(l - 1) * N + k];
      // out_t = [h ; a_t] · K_out + b_out.
      std::vector<T> dha(2 * N, T(0));
      RowTimesMatrixBackward(s.ha.data(), w.k_out, d_out.data(), 2 * N, N, dha.data(), g_k_out,
                             g_b_out);
      std::vector<T> dh_t(dha.begin(), dha.begin() + N);
      std::vector<T> da_t(dha.begin() + N, dha.end());
      for (int64_t k = 0; k < N; ++k) {
        dh_t[k] += dh[k];
        da_t[k] += da[k];
      }
      // a_t = Σ_l α_l W_prev[l], α = softmax(s), s_l = Σ_j v_j u_lj, u = tanh(F + y).
      std::vector<T> dalpha(Lw, T(0));
      for (int64_t l = 0; l < Lw; ++l)
        for (int64_t k = 0; k < N; ++k) {
          dalpha[l] += da_t[k] * s.window[l * N + k];
          dwin_prev[l * N + k] += s.alpha[l] * da_t[k];
        }
      T weighted = 0;
      for (int64_t l = 0; l < Lw; ++l) weighted += s.alpha[l] * dalpha[l];
      std::vector<T> dy(N, T(0)), dpre(N);
      for (int64_t l = 0; l < Lw; ++l) {
        const T ds = s.alpha[l] * (dalpha[l] - weighted);
        for (int64_t j = 0; j < N; ++j) {
          const T u = s.u[l * N + j];
          g_attn_v[j] += ds * u;
          dpre[j] = ds * w.attn_v[j] * (T(1) - u * u);
          dy[j] += dpre[j];
        }
        // F_l = W_prev[l] · attn_w.
        RowTimesMatrixBackward(&s.window[l * N], w.attn_w, dpre.data(), N, N,
                               &dwin_prev[l * N], g_attn_w, static_cast<T*>(nullptr));
      }
      // y = [c ; h] · K_q + b_q.
      std::vector<T> dq(2 * N, T(0));
      RowTimesMatrixBackward(s.q.data(), w.k_q, dy.data(), 2 * N, N, dq.data(), g_k_q, g_b_q);
      std::vector<T> dc_t(N);
      for (int64_t k = 0; k < N; ++k) {
        dc_t[k] = dc[k] + dq[k];
        dh_t[k] += dq[N + k];
      }
      // LSTM cell: c = c_prev σf + σi tanh j, h = tanh(c) σo.
      std::vector<T> dz(4 * N), dc_prev(N);
      for (int64_t k = 0; k < N; ++k) {
        const T gi = s.gates[k], gj = s.gates[N + k], gf = s.gates[2 * N + k],
                go = s.gates[3 * N + k];
        const T tc = std::tanh(s.c[k]);
        const T dct = dc_t[k] + dh_t[k] * go * (T(1) - tc * tc);
        dz[k] = dct * gj * gi * (T(1) - gi);
        dz[N + k] = dct * gi * (T(1) - gj * gj);
        dz[2 * N + k] = dct * s.c_prev[k] * gf * (T(1) - gf);
        dz[3 * N + k] = dh_t[k] * tc * go * (T(1) - go);
        dc_prev[k] = dct * gf;
      }
      std::vector<T> dxh(I + N, T(0));
      RowTimesMatrixBackward(s.xh.data(), w.k_lstm, dz.data(), I + N, 4 * N, dxh.data(),
                             g_k_lstm, g_b_lstm);
      // x' = [x ; a_prev] · K_in + b_in.
      std::vector<T> dxa(I + N, T(0));
      RowTimesMatrixBackward(s.xa.data(), w.k_in, dxh.data(), I + N, I, dxa.data(), g_k_in,
                             g_b_in);
      if (d_inputs)
        std::copy_n(dxa.begin(), I, d_inputs->data<T>() + (b * z.T + t) * I);
      dc = dc_prev;
      dh.assign(dxh.begin() + I, dxh.end());
      da.assign(dxa.begin() + I, dxa.end());
      dwin = dwin_prev;
    }
  }
}

#define MELODY_INSTANTIATE_ATTENTION_LAYER(T)                                            \
  template void AttentionLayerForward<T>(const Tensor&, const Tensor&,                   \
                                         const AttentionLayerWeights&, int,              \
                                         const AttentionLayerState*, Tensor*,            \
                                         AttentionLayerState*);                          \
  template void AttentionLayerBackward<T>(const Tensor&, const Tensor&,                  \
                                          const AttentionLayerWeights&, int,             \
                                          const AttentionLayerState*, const Tensor&,     \
                                          AttentionLayerWeights*, Tensor*);
MELODY_INSTANTIATE_ATTENTION_LAYER(float)
MELODY_INSTANTIATE_ATTENTION_LAYER(double)
#undef MELODY_INSTANTIATE_ATTENTION_LAYER

}  // namespace melody::reference
