// Reference of kernels/lstm_cell.h: model.md §2.3 written out literally, in float or
// double (std::exp / std::tanh), used as the definition the fast paths are tested
// against and for the finite-difference gradient checks.
#include <cmath>
#include <vector>

#include "kernels/lstm_cell.h"

namespace melody::reference {
namespace {

template <typename T>
T Sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

}  // namespace

template <typename T>
void LstmGatesForward(const Tensor& z, const Tensor& c_prev, Tensor* gates, Tensor* c,
                      Tensor* h) {
  const auto d =
      internal::CheckLstmGatesForward("reference::LstmGatesForward", z, c_prev, gates, c, h);
  const int64_t n = d.units;
  const T* zs = z.data<T>();
  const T* cp = c_prev.data<T>();
  T* g = gates->data<T>();
  T* cs = c->data<T>();
  T* hs = h->data<T>();
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t k = 0; k < n; ++k) {
      const T* zr = zs + b * 4 * n;
      const T gi = Sigmoid(zr[k]);
      const T gj = std::tanh(zr[n + k]);
      const T gf = Sigmoid(zr[2 * n + k] + T(kLstmForgetBias));
      const T go = Sigmoid(zr[3 * n + k]);
      const T cn = cp[b * n + k] * gf + gi * gj;
      T* gr = g + b * 4 * n;
      gr[k] = gi;
      gr[n + k] = gj;
      gr[2 * n + k] = gf;
      gr[3 * n + k] = go;
      cs[b * n + k] = cn;
      hs[b * n + k] = std::tanh(cn) * go;
    }
  }
}

template <typename T>
void LstmGatesBackward(const Tensor& gates, const Tensor& c_prev, const Tensor& c,
                       const Tensor& dh, const Tensor& dc, Tensor* dz, Tensor* dc_prev) {
  const auto d = internal::CheckLstmGatesBackward("reference::LstmGatesBackward", gates,
                                                  c_prev, c, dh, dc, dz, dc_prev);
  const int64_t n = d.units;
  const T* g = gates.data<T>();
  const T* cp = c_prev.data<T>();
  const T* cs = c.data<T>();
  const T* dhs = dh.defined() ? dh.data<T>() : nullptr;
  const T* dcs = dc.defined() ? dc.data<T>() : nullptr;
  T* dzs = dz->data<T>();
  T* dcp = dc_prev->data<T>();
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t k = 0; k < n; ++k) {
      const int64_t s = b * n + k;
      const T* gr = g + b * 4 * n;
      const T gi = gr[k], gj = gr[n + k], gf = gr[2 * n + k], go = gr[3 * n + k];
      const T tc = std::tanh(cs[s]);
      const T g_h = dhs ? dhs[s] : T(0);
      // c feeds h = tanh(c)·o and the next step; dc from above covers the latter.
      const T g_c = (dcs ? dcs[s] : T(0)) + g_h * go * (T(1) - tc * tc);
      T* dzr = dzs + b * 4 * n;
      dzr[k] = g_c * gj * gi * (T(1) - gi);               // through σ(i)
      dzr[n + k] = g_c * gi * (T(1) - gj * gj);           // through tanh(j)
      dzr[2 * n + k] = g_c * cp[s] * gf * (T(1) - gf);    // through σ(f + 1)
      dzr[3 * n + k] = g_h * tc * go * (T(1) - go);       // through σ(o)
      dcp[s] = g_c * gf;
    }
  }
}

template <typename T>
void LstmCellForward(const Tensor& x, const Tensor& c_prev, const Tensor& h_prev,
                     const Tensor& kernel, const Tensor& bias, Tensor* gates, Tensor* c,
                     Tensor* h) {
  const auto d = internal::CheckLstmCellForward("reference::LstmCellForward", x, c_prev,
                                                h_prev, kernel, bias, gates, c, h);
  const int64_t n4 = 4 * d.units;
  Tensor z({d.batch, n4}, x.dtype());
  const T* xs = x.data<T>();
  const T* hp = h_prev.data<T>();
  const T* w = kernel.data<T>();
  T* zs = z.data<T>();
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t col = 0; col < n4; ++col) {
      T sum = bias.data<T>()[col];
      // [x ; h_prev] · W: input rows first, then the recurrent rows.
      for (int64_t k = 0; k < d.input; ++k) sum += xs[b * d.input + k] * w[k * n4 + col];
      for (int64_t k = 0; k < d.units; ++k)
        sum += hp[b * d.units + k] * w[(d.input + k) * n4 + col];
      zs[b * n4 + col] = sum;
    }
  }
  LstmGatesForward<T>(z, c_prev, gates, c, h);
}

template <typename T>
void LstmCellBackward(const Tensor& x, const Tensor& c_prev, const Tensor& h_prev,
                      const Tensor& kernel, const Tensor& gates, const Tensor& c,
                      const Tensor& dh, const Tensor& dc, Tensor* dx, Tensor* dh_prev,
                      Tensor* dc_prev, Tensor* dkernel, Tensor* dbias) {
  const auto d = internal::CheckLstmCellBackward("reference::LstmCellBackward", x, c_prev,
                                                 h_prev, kernel, gates, c, dh, dc, dx,
                                                 dh_prev, dc_prev, dkernel, dbias);
  const int64_t n4 = 4 * d.units;
  Tensor dz({d.batch, n4}, x.dtype());
  LstmGatesBackward<T>(gates, c_prev, c, dh, dc, &dz, dc_prev);
  const T* dzs = dz.data<T>();
  const T* xs = x.data<T>();
  const T* hp = h_prev.data<T>();
  const T* w = kernel.data<T>();
  // d[x ; h_prev] = dz · Wᵀ
  for (int64_t b = 0; b < d.batch; ++b) {
    for (int64_t k = 0; k < d.input + d.units; ++k) {
      T sum = 0;
      for (int64_t col = 0; col < n4; ++col) sum += dzs[b * n4 + col] * w[k * n4 + col];
      if (k < d.input) {
        if (dx) dx->data<T>()[b * d.input + k] = sum;
      } else {
        dh_prev->data<T>()[b * d.units + (k - d.input)] = sum;
      }
    }
  }
  // dW += [x ; h_prev]ᵀ · dz, db += Σ_b dz
  T* dw = dkernel->data<T>();
  T* db = dbias->data<T>();
  for (int64_t col = 0; col < n4; ++col) {
    for (int64_t k = 0; k < d.input + d.units; ++k) {
      T sum = 0;
      for (int64_t b = 0; b < d.batch; ++b) {
        const T in = k < d.input ? xs[b * d.input + k] : hp[b * d.units + (k - d.input)];
        sum += in * dzs[b * n4 + col];
      }
      dw[k * n4 + col] += sum;
    }
    T sum = 0;
    for (int64_t b = 0; b < d.batch; ++b) sum += dzs[b * n4 + col];
    db[col] += sum;
  }
}

#define MELODY_INSTANTIATE_LSTM_CELL_REFERENCE(T)                                            \
  template void LstmGatesForward<T>(const Tensor&, const Tensor&, Tensor*, Tensor*,          \
                                    Tensor*);                                                \
  template void LstmGatesBackward<T>(const Tensor&, const Tensor&, const Tensor&,            \
                                     const Tensor&, const Tensor&, Tensor*, Tensor*);        \
  template void LstmCellForward<T>(const Tensor&, const Tensor&, const Tensor&,              \
                                   const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*); \
  template void LstmCellBackward<T>(const Tensor&, const Tensor&, const Tensor&,             \
                                    const Tensor&, const Tensor&, const Tensor&,             \
                                    const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*, \
                                    Tensor*, Tensor*);
MELODY_INSTANTIATE_LSTM_CELL_REFERENCE(float)
MELODY_INSTANTIATE_LSTM_CELL_REFERENCE(double)
#undef MELODY_INSTANTIATE_LSTM_CELL_REFERENCE

}  // namespace melody::reference
