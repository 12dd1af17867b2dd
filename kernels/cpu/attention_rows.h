// The per-row loops of the CPU attention read on raw pointers (dispatched in
// kernels/cpu/attention.cc to one of the two builds of kernels/cpu/attention_rows_impl.h),
// shared by the attention ops (kernels/attention.h) and the
// attention layer (kernels/cpu/attention_layer.cc), which calls them directly on its
// history buffers.
#pragma once

#include <cstdint>

namespace melody::cpu {

// Geometry of a ring buffer: rows of C slots; logical slot l at physical (head + l) % C.
struct RingGeometry {
  int64_t C = 0, A = 0, V = 0, Lw = 0, head = 0;
  int64_t Slot(int64_t l) const { return (head + l) % C; }
};

// Scores, softmax and context for batch rows [b0, b1): y [B, V], values [B, C, A],
// keys [B, C, V] -> alpha [B, Lw], context [B, A] (rows b0..b1-1 overwritten).
void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,
                       const float* values, const float* keys, float* alpha, float* context,
                       int64_t b0, int64_t b1);

// Backward for rows [b0, b1): dy [B, V] rows overwritten; d_attn_v_rows [B, V],
// d_values [B, C, A], d_keys [B, C, V] accumulated (each row touches only its own data).
void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v,
                               const float* values, const float* keys, const float* alpha,
                               const float* d_context, float* dy, float* d_attn_v_rows,
                               float* d_values, float* d_keys, int64_t b0, int64_t b1);

// The two builds of the row loops (cpu/attention_rows_impl.h) that the functions above
// dispatch to, callable directly so that tests can compare them. scratch holds Lw + V
// floats (forward) or Lw floats (backward).
#define MELODY_DECLARE_ATTENTION_ROW_LOOPS                                                    \
  void AttentionReadRows(const RingGeometry& g, const float* y, const float* attn_v,         \
                         const float* values, const float* keys, float* alpha,               \
                         float* context, int64_t b0, int64_t b1, float* scratch);            \
  void AttentionReadBackwardRows(const RingGeometry& g, const float* y, const float* attn_v, \
                                 const float* values, const float* keys, const float* alpha, \
                                 const float* d_context, float* dy, float* d_attn_v_rows,    \
                                 float* d_values, float* d_keys, int64_t b0, int64_t b1,     \
                                 float* scratch);
namespace baseline {
MELODY_DECLARE_ATTENTION_ROW_LOOPS
}  // namespace baseline
#if MELODY_KERNELS_AVX2
namespace avx2 {  // built with -mavx2; call only when UseAvx2Loops() (cpu/avx2_dispatch.h)
MELODY_DECLARE_ATTENTION_ROW_LOOPS
}  // namespace avx2
#endif
#undef MELODY_DECLARE_ATTENTION_ROW_LOOPS

}  // namespace melody::cpu
