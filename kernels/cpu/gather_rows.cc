// Fast CPU path of kernels/gather_rows.h: row gather/scatter (memcpy per row, each row
// index checked) and in-place add.
#include <cstring>

#include "kernels/gather_rows.h"

namespace melody::cpu {

void GatherRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& x,
                const Tensor& rows, Tensor* out) {
  const size_t row_bytes = static_cast<size_t>(d.features) * DTypeSize(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out->raw_data());
  const int32_t* r = rows.data<int32_t>();
  for (int64_t p = 0; p < d.picked; ++p) {
    MELODY_REQUIRE(r[p] >= 0 && r[p] < d.rows_total) << "GatherRows: row " << r[p] << " out of range";
    std::memcpy(dst + p * row_bytes, src + r[p] * row_bytes, row_bytes);
  }
}

void ScatterRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& src,
                 const Tensor& rows, Tensor* out) {
  const size_t row_bytes = static_cast<size_t>(d.features) * DTypeSize(src.dtype());
  std::memset(out->raw_data(), 0, out->nbytes());
  const char* s = static_cast<const char*>(src.raw_data());
  char* dst = static_cast<char*>(out->raw_data());
  const int32_t* r = rows.data<int32_t>();
  for (int64_t p = 0; p < d.picked; ++p) {
    MELODY_REQUIRE(r[p] >= 0 && r[p] < d.rows_total) << "ScatterRows: row " << r[p] << " out of range";
    std::memcpy(dst + r[p] * row_bytes, s + p * row_bytes, row_bytes);
  }
}

void AddInPlace(Context& ctx, const Tensor& x, Tensor* y) {
  const float* a = x.data<float>();
  float* b = y->data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) b[i] += a[i];
}

}  // namespace melody::cpu
