// The attention read of the attention wrapper (model.md §2.5 steps 4-8), one time step for a
// batch, forward and backward:
//
//   y       = q · K_q + b_q                      q [B, Q] (Q = 2N: [c ; h]), K_q [Q, V], b_q [V]
//   F[b,l]  = W[b,l] · attn_w                    window values W [B, Lw, A], attn_w [A, V]
//   s[b,l]  = Σ_v attn_v[v] · tanh(F[b,l,v] + y[b,v])
//   α[b,:]  = softmax_l s[b,:]
//   a[b,:]  = Σ_l α[b,l] · W[b,l,:]              the context ("attns"), [B, A]
//
// The fast ops keep the window in a RING BUFFER together with the projected keys F: a key is
// computed once (AttentionProjectKeys) when its value enters the window, instead of
// re-projecting all Lw window rows at every step as the reference graph does. Ring layout:
//   values [B, C, A], keys [B, C, V] with C >= Lw slots per batch row; logical window slot
//   l = 0..Lw-1 (0 = oldest) is physical slot (head + l) % C.
// A step-by-step caller can use C = Lw (a true ring: the new entry overwrites the oldest
// slot and head advances); the training layer (attention_layer.h) uses C = Lw + T (the
// whole history, never wrapping), so that every step's window stays readable for backward.
//
// The literal reference (namespace reference) takes the window as a plain [B, Lw, A] tensor
// and recomputes all Lw key projections, exactly as model.md writes it; the ring-buffer ops
// are tested against it.
//
// Conventions: float32 tensors on ctx.device() (reference: float or double on the CPU);
// outputs are caller-allocated tensors of the right shape; "overwritten" outputs are fully
// written, "accumulated" ones get +=. A shape/dtype/device mismatch throws melody::Error.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// The ring buffer described above (a view: the tensors are shared handles).
struct AttentionRing {
  Tensor values;        // [B, C, A]
  Tensor keys;          // [B, C, V], keys[b, s] = values[b, s] · attn_w
  int64_t head = 0;     // physical slot of logical slot 0 (the oldest)
  int attn_length = 0;  // Lw, 1 <= Lw <= C
};

// keys [R, V] = values [R, A] · attn_w [A, V] (overwritten). attn_w may be given as
// [A, V] or as the checkpoint's [1, 1, A, V].
void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys);

// Backward of AttentionProjectKeys: d_values [R, A] += d_keys · attn_wᵀ (may be nullptr),
// d_attn_w [A, V] (or [1,1,A,V]) += valuesᵀ · d_keys.
void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w);

// Forward of the read. query [B, Q], query_kernel [Q, V], query_bias [V], attn_v [V].
// Overwritten: y [B, V] (the query projection, saved for backward), alpha [B, Lw]
// (saved), context [B, A].
void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context);

// Backward of the read, given the saved y and alpha and d_context [B, A].
// Overwritten: d_query [B, Q] (nullptr if not needed).
// Accumulated: d_query_kernel [Q, V], d_query_bias [V], d_attn_v [V],
//              d_values [B, C, A] and d_keys [B, C, V] at the window's physical slots
//              (same ring geometry as ring.values / ring.keys).
void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys);

namespace reference {
// kernels/cpu/attention_reference.cc. Literal form of model.md §2.5 steps 4-8 on a plain
// window [B, Lw, A] (oldest first), recomputing F = window · attn_w for all Lw rows. CPU,
// T = float or double; validates its arguments.
// Overwritten: y [B, V], alpha [B, Lw], context [B, A].
template <typename T>
void AttentionReadLiteralForward(const Tensor& query, const Tensor& query_kernel,
                                 const Tensor& query_bias, const Tensor& attn_w,
                                 const Tensor& attn_v, const Tensor& window, Tensor* y,
                                 Tensor* alpha, Tensor* context);
// Its backward (recomputes the forward). Overwritten: d_query [B, Q], d_window [B, Lw, A].
// Accumulated: d_query_kernel, d_query_bias, d_attn_w, d_attn_v.
template <typename T>
void AttentionReadLiteralBackward(const Tensor& query, const Tensor& query_kernel,
                                  const Tensor& query_bias, const Tensor& attn_w,
                                  const Tensor& attn_v, const Tensor& window,
                                  const Tensor& d_context, Tensor* d_query,
                                  Tensor* d_query_kernel, Tensor* d_query_bias,
                                  Tensor* d_attn_w, Tensor* d_attn_v, Tensor* d_window);
}  // namespace reference

// The twins the dispatcher (kernels/attention.cc) calls with checked arguments (float32).
// kernels/cpu/attention.cc: one OpenBLAS GEMM for the query projection, fused per-row
// loops split over ctx.num_threads(); its raw per-row loops, which the attention layer
// calls on its history buffers, are declared in kernels/cpu/attention_rows.h.
namespace cpu {
void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys);
void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w);
void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context);
void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys);
}  // namespace cpu

#if MELODY_HAVE_CUDA
// kernels/cuda/attention.cu: cuBLAS for the projections, one block per batch row for the
// read; its raw launchers for the attention layer are in kernels/cuda/attention_rows.cuh.
namespace cuda {
void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys);
void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w);
void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context);
void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys);
}  // namespace cuda
#endif

}  // namespace melody
