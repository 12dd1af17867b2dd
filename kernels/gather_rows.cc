// Argument checks and dispatch of the row gather/scatter glue (kernels/gather_rows.h).
#include "kernels/gather_rows.h"

#include <string>

#include "core/error.h"
#include "kernels/op_checks.h"

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

void CheckAddInPlace(const Context& ctx, const Tensor& x, const Tensor* y) {
  MELODY_REQUIRE(y != nullptr && x.numel() == y->numel() && x.dtype() == DType::kFloat32 &&
                 y->dtype() == DType::kFloat32 && x.device() == ctx.device() &&
                 y->device() == ctx.device())
      << "AddInPlace: float32 tensors of equal size on " << ctx.device().ToString()
      << " needed, got " << ShapeToString(x.shape()) << " and "
      << (y ? ShapeToString(y->shape()) : std::string("null"));
}

}  // namespace internal

void GatherRows(Context& ctx, const Tensor& x, const Tensor& rows, Tensor* out) {
  MELODY_REQUIRE(out != nullptr) << "GatherRows: output is null";
  const auto d = internal::CheckGatherRows(&ctx, x, rows, *out);
  if (ctx.is_cpu()) return cpu::GatherRows(ctx, d, x, rows, out);
#if MELODY_HAVE_CUDA
  return cuda::GatherRows(ctx, d, x, rows, out);
#else
  op_checks::FailNoCuda("GatherRows", ctx);
#endif
}

void ScatterRows(Context& ctx, const Tensor& src, const Tensor& rows, Tensor* out) {
  MELODY_REQUIRE(out != nullptr) << "ScatterRows: output is null";
  const auto d = internal::CheckGatherRows(&ctx, *out, rows, src);
  if (ctx.is_cpu()) return cpu::ScatterRows(ctx, d, src, rows, out);
#if MELODY_HAVE_CUDA
  MELODY_REQUIRE(src.dtype() == DType::kFloat32) << "ScatterRows: float32 only on CUDA";
  return cuda::ScatterRows(ctx, d, src, rows, out);
#else
  op_checks::FailNoCuda("ScatterRows", ctx);
#endif
}

void AddInPlace(Context& ctx, const Tensor& x, Tensor* y) {
  internal::CheckAddInPlace(ctx, x, y);
  if (ctx.is_cpu()) return cpu::AddInPlace(ctx, x, y);
#if MELODY_HAVE_CUDA
  return cuda::AddInPlace(ctx, x, y);
#else
  op_checks::FailNoCuda("AddInPlace", ctx);
#endif
}

}  // namespace melody
