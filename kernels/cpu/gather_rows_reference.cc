// Reference of kernels/gather_rows.h: the row gather, scatter and add as plain loops.
#include "core/error.h"
#include "kernels/gather_rows.h"

namespace melody {

namespace reference {

template <typename T>
void GatherRows(const Tensor& x, const Tensor& rows, Tensor* out) {
  const auto d = internal::CheckGatherRows(nullptr, x, rows, *out);
  const int32_t* r = rows.data<int32_t>();
  for (int64_t p = 0; p < d.picked; ++p) {
    MELODY_REQUIRE(r[p] >= 0 && r[p] < d.rows_total) << "GatherRows: row " << r[p] << " out of range";
    for (int64_t f = 0; f < d.features; ++f)
      out->data<T>()[p * d.features + f] = x.data<T>()[r[p] * d.features + f];
  }
}

template <typename T>
void ScatterRows(const Tensor& src, const Tensor& rows, Tensor* out) {
  const auto d = internal::CheckGatherRows(nullptr, *out, rows, src);
  const int32_t* r = rows.data<int32_t>();
  T* o = out->data<T>();
  for (int64_t i = 0; i < out->numel(); ++i) o[i] = T(0);
  for (int64_t p = 0; p < d.picked; ++p) {
    MELODY_REQUIRE(r[p] >= 0 && r[p] < d.rows_total) << "ScatterRows: row " << r[p] << " out of range";
    for (int64_t f = 0; f < d.features; ++f) o[r[p] * d.features + f] = src.data<T>()[p * d.features + f];
  }
}

template <typename T>
void AddInPlace(const Tensor& x, Tensor* y) {
  MELODY_REQUIRE(x.numel() == y->numel() && x.dtype() == y->dtype())
      << "AddInPlace: " << ShapeToString(x.shape()) << " vs " << ShapeToString(y->shape());
  for (int64_t i = 0; i < x.numel(); ++i) y->data<T>()[i] += x.data<T>()[i];
}

template void GatherRows<float>(const Tensor&, const Tensor&, Tensor*);
template void GatherRows<double>(const Tensor&, const Tensor&, Tensor*);
template void GatherRows<int64_t>(const Tensor&, const Tensor&, Tensor*);
template void ScatterRows<float>(const Tensor&, const Tensor&, Tensor*);
template void ScatterRows<double>(const Tensor&, const Tensor&, Tensor*);
template void AddInPlace<float>(const Tensor&, Tensor*);
template void AddInPlace<double>(const Tensor&, Tensor*);

}  // namespace reference

}  // namespace melody
