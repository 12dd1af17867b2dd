// Reference of kernels/linear.h: the definition, as plain loops, in float or double.
#include "kernels/linear.h"

namespace melody::reference {

template <typename T>
void LinearForward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor* y) {
  const auto d = internal::CheckLinearForward("reference::LinearForward", x, w, b, y);
  const T* xs = x.data<T>();
  const T* ws = w.data<T>();
  T* ys = y->data<T>();
  for (int64_t r = 0; r < d.rows; ++r) {
    for (int64_t j = 0; j < d.out; ++j) {
      T sum = b.defined() ? b.data<T>()[j] : T(0);
      for (int64_t k = 0; k < d.in; ++k) sum += xs[r * d.in + k] * ws[k * d.out + j];
      ys[r * d.out + j] = sum;
    }
  }
}

template <typename T>
void LinearBackward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx,
                    Tensor* dw, Tensor* db, GradMode mode) {
  const auto d =
      internal::CheckLinearBackward("reference::LinearBackward", x, w, dy, dx, dw, db);
  const bool acc = mode == GradMode::kAccumulate;
  const T* xs = x.data<T>();
  const T* ws = w.data<T>();
  const T* g = dy.data<T>();
  if (dx) {
    T* out = dx->data<T>();
    for (int64_t r = 0; r < d.rows; ++r)
      for (int64_t k = 0; k < d.in; ++k) {
        T sum = 0;
        for (int64_t j = 0; j < d.out; ++j) sum += g[r * d.out + j] * ws[k * d.out + j];
        out[r * d.in + k] = (acc ? out[r * d.in + k] : T(0)) + sum;
      }
  }
  if (dw) {
    T* out = dw->data<T>();
    for (int64_t k = 0; k < d.in; ++k)
      for (int64_t j = 0; j < d.out; ++j) {
        T sum = 0;
        for (int64_t r = 0; r < d.rows; ++r) sum += xs[r * d.in + k] * g[r * d.out + j];
        out[k * d.out + j] = (acc ? out[k * d.out + j] : T(0)) + sum;
      }
  }
  if (db) {
    T* out = db->data<T>();
    for (int64_t j = 0; j < d.out; ++j) {
      T sum = 0;
      for (int64_t r = 0; r < d.rows; ++r) sum += g[r * d.out + j];
      out[j] = (acc ? out[j] : T(0)) + sum;
    }
  }
}

template void LinearForward<float>(const Tensor&, const Tensor&, const Tensor&, Tensor*);
template void LinearForward<double>(const Tensor&, const Tensor&, const Tensor&, Tensor*);
template void LinearBackward<float>(const Tensor&, const Tensor&, const Tensor&, Tensor*,
                                    Tensor*, Tensor*, GradMode);
template void LinearBackward<double>(const Tensor&, const Tensor&, const Tensor&, Tensor*,
                                     Tensor*, Tensor*, GradMode);

}  // namespace melody::reference
