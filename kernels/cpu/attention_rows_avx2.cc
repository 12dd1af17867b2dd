// The attention read's row loops built with -mavx2 (kernels/CMakeLists.txt); cpu/attention.cc
// calls these when the CPU has AVX2. Same source as the baseline build:
// cpu/attention_rows_impl.h.
#include "kernels/cpu/attention_rows_impl.h"

namespace melody::cpu::avx2 {

void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                       const float* values, const float* keys, float* alpha, float* context,
                       int64_t b0, int64_t b1, float* scratch) {
  ReadRows(g, y, attn_v, values, keys, alpha, context, b0, b1, scratch);
}

void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                               const float* values, const float* keys, const float* alpha,
                               const float* d_context, float* dy, float* d_attn_v_rows,
                               float* d_values, float* d_keys, int64_t b0, int64_t b1,
                               float* scratch) {
  ReadBackwardRows(g, y, attn_v, values, keys, alpha, d_context, dy, d_attn_v_rows, d_values,
                   d_keys, b0, b1, scratch);
}

}  // namespace melody::cpu::avx2
