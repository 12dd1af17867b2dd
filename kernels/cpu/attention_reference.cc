// Literal reference of the attention read (model.md §2.5 steps 4-8): plain loops, the key
// projection F = window · attn_w recomputed for every window row, as the reference graph
// does. Templated on the scalar type so gradient checks can run in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention.h"
#include "kernels/op_checks.h"

namespace melody::reference {
namespace {

struct ReadSizes {
  int64_t B, Q, V, Lw, A;
};

template <typename T>
ReadSizes CheckReadArgs(const char* op, const Tensor& query, const Tensor& query_kernel,
                        const Tensor& query_bias, const Tensor& attn_w, const Tensor& attn_v,
                        const Tensor& window) {
  MELODY_REQUIRE(query.rank() == 2 && query_kernel.rank() == 2 && window.rank() == 3)
      << op << ": query must be [B, Q], query_kernel [Q, V], window [B, Lw, A]";
  ReadSizes s{query.dim(0), query.dim(1), query_kernel.dim(1), window.dim(1), window.dim(2)};
  const DType dt = DTypeOf<T>::value;
  const Device cpu = Device::CPU();
  op_checks::CheckTensor(query, op, "query", {s.B, s.Q}, dt, cpu);
  op_checks::CheckTensor(query_kernel, op, "query_kernel", {s.Q, s.V}, dt, cpu);
  op_checks::CheckTensor(query_bias, op, "query_bias", {s.V}, dt, cpu);
  op_checks::CheckAttnW(attn_w, op, "attn_w", s.A, s.V, dt, cpu);
  op_checks::CheckTensor(attn_v, op, "attn_v", {s.V}, dt, cpu);
  op_checks::CheckTensor(window, op, "window", {s.B, s.Lw, s.A}, dt, cpu);
  MELODY_REQUIRE(s.Lw >= 1) << op << ": the window needs at least one row";
  return s;
}

// Forward for one batch row, keeping the intermediates backward needs.
template <typename T>
struct RowForward {
  std::vector<T> y, F, u, alpha;  // y [V], F [Lw, V], u = tanh(F + y) [Lw, V], alpha [Lw]
};

template <typename T>
RowForward<T> ForwardRow(const ReadSizes& s, int64_t b, const T* q, const T* kq, const T* bq,
                         const T* w, const T* v, const T* win) {
  RowForward<T> r;
  r.y.assign(s.V, T(0));
  for (int64_t j = 0; j < s.V; ++j) {
    T acc = bq[j];
    for (int64_t i = 0; i < s.Q; ++i) acc += q[b * s.Q + i] * kq[i * s.V + j];
    r.y[j] = acc;
  }
  r.F.assign(s.Lw * s.V, T(0));
  r.u.assign(s.Lw * s.V, T(0));
  std::vector<T> scores(s.Lw);
  for (int64_t l = 0; l < s.Lw; ++l) {
    const T* row = win + (b * s.Lw + l) * s.A;
    T score = 0;
    for (int64_t j = 0; j < s.V; ++j) {
      T f = 0;
      for (int64_t k = 0; k < s.A; ++k) f += row[k] * w[k * s.V + j];
      r.F[l * s.V + j] = f;
      r.u[l * s.V + j] = std::tanh(f + r.y[j]);
      score += v[j] * r.u[l * s.V + j];
    }
    scores[l] = score;
  }
  T max_score = scores[0];
  for (int64_t l = 1; l < s.Lw; ++l) max_score = std::max(max_score, scores[l]);
  T total = 0;
  r.alpha.assign(s.Lw, T(0));
  for (int64_t l = 0; l < s.Lw; ++l) total += (r.alpha[l] = std::exp(scores[l] - max_score));
  for (int64_t l = 0; l < s.Lw; ++l) r.alpha[l] /= total;
  return r;
}

}  // namespace

template <typename T>
void AttentionReadLiteralForward(const Tensor& query, const Tensor& query_kernel,
                                 const Tensor& query_bias, const Tensor& attn_w,
                                 const Tensor& attn_v, const Tensor& window, Tensor* y,
                                 Tensor* alpha, Tensor* context) {
  const char* op = "reference::AttentionReadLiteralForward";
  const ReadSizes s =
      CheckReadArgs<T>(op, query, query_kernel, query_bias, attn_w, attn_v, window);
  const DType dt = DTypeOf<T>::value;
  op_checks::CheckOutput(y, op, "y", {s.B, s.V}, dt, Device::CPU());
  op_checks::CheckOutput(alpha, op, "alpha", {s.B, s.Lw}, dt, Device::CPU());
  op_checks::CheckOutput(context, op, "context", {s.B, s.A}, dt, Device::CPU());
  const T* win = window.data<T>();
  for (int64_t b = 0; b < s.B; ++b) {
    RowForward<T> r = ForwardRow<T>(s, b, query.data<T>(), query_kernel.data<T>(),
                                    query_bias.data<T>(), attn_w.data<T>(),
                                    attn_v.data<T>(), win);
    for (int64_t j = 0; j < s.V; ++j) y->data<T>()[b * s.V + j] = r.y[j];
    for (int64_t l = 0; l < s.Lw; ++l) alpha->data<T>()[b * s.Lw + l] = r.alpha[l];
    for (int64_t k = 0; k < s.A; ++k) {
      T acc = 0;
      for (int64_t l = 0; l < s.Lw; ++l) acc += r.alpha[l] * win[(b * s.Lw + l) * s.A + k];
      context->data<T>()[b * s.A + k] = acc;
    }
  }
}

template <typename T>
void AttentionReadLiteralBackward(const Tensor& query, const Tensor& query_kernel,
                                  const Tensor& query_bias, const Tensor& attn_w,
                                  const Tensor& attn_v, const Tensor& window,
                                  const Tensor& d_context, Tensor* d_query,
                                  Tensor* d_query_kernel, Tensor* d_query_bias,
                                  Tensor* d_attn_w, Tensor* d_attn_v, Tensor* d_window) {
  const char* op = "reference::AttentionReadLiteralBackward";
  const ReadSizes s =
      CheckReadArgs<T>(op, query, query_kernel, query_bias, attn_w, attn_v, window);
  const DType dt = DTypeOf<T>::value;
  const Device cpu = Device::CPU();
  op_checks::CheckTensor(d_context, op, "d_context", {s.B, s.A}, dt, cpu);
  op_checks::CheckOutput(d_query, op, "d_query", {s.B, s.Q}, dt, cpu);
  op_checks::CheckOutput(d_query_kernel, op, "d_query_kernel", {s.Q, s.V}, dt, cpu);
  op_checks::CheckOutput(d_query_bias, op, "d_query_bias", {s.V}, dt, cpu);
  MELODY_REQUIRE(d_attn_w != nullptr) << op << ": output d_attn_w is null";
  op_checks::CheckAttnW(*d_attn_w, op, "d_attn_w", s.A, s.V, dt, cpu);
  op_checks::CheckOutput(d_attn_v, op, "d_attn_v", {s.V}, dt, cpu);
  op_checks::CheckOutput(d_window, op, "d_window", {s.B, s.Lw, s.A}, dt, cpu);

  const T* q = query.data<T>();
  const T* kq = query_kernel.data<T>();
  const T* w = attn_w.data<T>();
  const T* v = attn_v.data<T>();
  const T* win = window.data<T>();
  const T* dctx = d_context.data<T>();
  T* dq = d_query->data<T>();
  T* dkq = d_query_kernel->data<T>();
  T* dbq = d_query_bias->data<T>();
  T* dw = d_attn_w->data<T>();
  T* dv = d_attn_v->data<T>();
  T* dwin = d_window->data<T>();
  for (int64_t b = 0; b < s.B; ++b) {
    RowForward<T> r = ForwardRow<T>(s, b, q, kq, query_bias.data<T>(), w, v, win);
    // context = Σ_l α_l W_l  ->  dα_l = d_context · W_l, dW_l = α_l d_context.
    std::vector<T> dalpha(s.Lw, T(0));
    for (int64_t l = 0; l < s.Lw; ++l) {
      for (int64_t k = 0; k < s.A; ++k) {
        dalpha[l] += dctx[b * s.A + k] * win[(b * s.Lw + l) * s.A + k];
        dwin[(b * s.Lw + l) * s.A + k] = r.alpha[l] * dctx[b * s.A + k];
      }
    }
    // Softmax: ds_l = α_l (dα_l − Σ_k α_k dα_k).
    T weighted = 0;
    for (int64_t l = 0; l < s.Lw; ++l) weighted += r.alpha[l] * dalpha[l];
    std::vector<T> dy(s.V, T(0));
    for (int64_t l = 0; l < s.Lw; ++l) {
      const T ds = r.alpha[l] * (dalpha[l] - weighted);
      for (int64_t j = 0; j < s.V; ++j) {
        const T u = r.u[l * s.V + j];
        dv[j] += ds * u;
        const T dpre = ds * v[j] * (T(1) - u * u);  // d(F + y)
        dy[j] += dpre;
        // F_l = W_l · attn_w.
        for (int64_t k = 0; k < s.A; ++k) {
          dwin[(b * s.Lw + l) * s.A + k] += dpre * w[k * s.V + j];
          dw[k * s.V + j] += win[(b * s.Lw + l) * s.A + k] * dpre;
        }
      }
    }
    // y = q · K_q + b_q.
    for (int64_t j = 0; j < s.V; ++j) dbq[j] += dy[j];
    for (int64_t i = 0; i < s.Q; ++i) {
      T acc = 0;
      for (int64_t j = 0; j < s.V; ++j) {
        acc += dy[j] * kq[i * s.V + j];
        dkq[i * s.V + j] += q[b * s.Q + i] * dy[j];
      }
      dq[b * s.Q + i] = acc;
    }
  }
}

#define MELODY_INSTANTIATE_ATTENTION_READ(T)                                              \
  template void AttentionReadLiteralForward<T>(const Tensor&, const Tensor&, const Tensor&, \
                                               const Tensor&, const Tensor&, const Tensor&, \
                                               Tensor*, Tensor*, Tensor*);                  \
  template void AttentionReadLiteralBackward<T>(                                          \
      const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,          \
      const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*, Tensor*, Tensor*, Tensor*);
MELODY_INSTANTIATE_ATTENTION_READ(float)
MELODY_INSTANTIATE_ATTENTION_READ(double)
#undef MELODY_INSTANTIATE_ATTENTION_READ

}  // namespace melody::reference
