// Dispatch, checks and the reference loops of the row gather/scatter glue.
#include "kernels/gather_rows.h"

#include <cstring>

#include "core/error.h"

namespace melody {

Tensor ValidPositionRows(const std::vector<int32_t>& lengths, int64_t time) {
  int64_t total = 0;
  for (size_t b = 0; b < lengths.size(); ++b) {
    MELODY_REQUIRE(lengths[b] >= 0 && lengths[b] <= time)
        << "sequence " << b << " has length " << lengths[b] << " outside [0, " << time << "]";
    total += lengths[b];
  }
  Tensor rows({total}, DType::kInt32);
  int32_t* out = rows.data<int32_t>();
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int32_t t = 0; t < lengths[b]; ++t) *out++ = static_cast<int32_t>(b * time + t);
  return rows;
}

namespace internal {
RowGatherDims CheckGatherRows(const Context* ctx, const Tensor& big, const Tensor& rows,
                              const Tensor& small) {
  MELODY_REQUIRE(small.defined() && small.rank() == 2)
      << "GatherRows/ScatterRows: the picked rows must be [P, F], got "
      << (small.defined() ? ShapeToString(small.shape()) : std::string("undefined"));
  RowGatherDims d;
  d.picked = small.dim(0);
  d.features = small.dim(1);
  MELODY_REQUIRE(big.defined() && big.dtype() == small.dtype())
      << "GatherRows/ScatterRows: dtypes differ";
  // [B, T, F] with F = features, or labels [B, T] gathered as [P, 1].
  MELODY_REQUIRE(d.features > 0 && big.rank() >= 1 &&
                 (big.dim(-1) == d.features || d.features == 1) &&
                 big.numel() % d.features == 0)
      << "GatherRows/ScatterRows: last dimension of " << ShapeToString(big.shape())
      << " does not match " << ShapeToString(small.shape());
  d.rows_total = d.features > 0 ? big.numel() / d.features : 0;
  MELODY_REQUIRE(rows.defined() && rows.dtype() == DType::kInt32 && rows.rank() == 1 &&
                 rows.dim(0) == d.picked)
      << "GatherRows/ScatterRows: rows must be int32 [" << d.picked << "]";
  if (ctx != nullptr) {
    MELODY_REQUIRE(big.device() == ctx->device() && small.device() == ctx->device() &&
                   rows.device() == ctx->device())
        << "GatherRows/ScatterRows: tensors must be on " << ctx->device().ToString();
  }
  return d;
}
}  // namespace internal

void GatherRows(Context& ctx, const Tensor& x, const Tensor& rows, Tensor* out) {
  if (ctx.is_cpu()) return cpu::GatherRows(ctx, x, rows, out);
#if MELODY_HAVE_CUDA
  return cuda::GatherRows(ctx, x, rows, out);
#else
  MELODY_FAIL() << "GatherRows on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

void ScatterRows(Context& ctx, const Tensor& src, const Tensor& rows, Tensor* out) {
  if (ctx.is_cpu()) return cpu::ScatterRows(ctx, src, rows, out);
#if MELODY_HAVE_CUDA
  return cuda::ScatterRows(ctx, src, rows, out);
#else
  MELODY_FAIL() << "ScatterRows on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

void AddInPlace(Context& ctx, const Tensor& x, Tensor* y) {
  if (ctx.is_cpu()) return cpu::AddInPlace(ctx, x, y);
#if MELODY_HAVE_CUDA
  return cuda::AddInPlace(ctx, x, y);
#else
  MELODY_FAIL() << "AddInPlace on " << ctx.device().ToString() << ": " << CudaUnavailableReason();
#endif
}

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
