// Dispatch of the attention ops (kernels/attention.h) to the CPU or CUDA twin, after one
// shared validation of shapes, dtypes and devices.
#include "kernels/attention.h"

#include "kernels/cpu/attention_cpu.h"
#include "kernels/cuda/attention_cuda.h"
#include "kernels/internal/attention_checks.h"

namespace melody {
namespace {

using attention_internal::RequireAttnW;
using attention_internal::RequireOutput;
using attention_internal::RequireTensor;

[[noreturn]] void NoCuda(const char* op) {
  MELODY_FAIL() << op << ": CUDA context but " << CudaUnavailableReason();
}

struct RingSizes {
  int64_t B, C, A, V, Lw;
};

RingSizes CheckRing(const char* op, const AttentionRing& ring, Device device) {
  MELODY_REQUIRE(ring.values.defined() && ring.values.rank() == 3)
      << op << ": ring.values must be [B, C, A]";
  MELODY_REQUIRE(ring.keys.defined() && ring.keys.rank() == 3)
      << op << ": ring.keys must be [B, C, V]";
  RingSizes s{ring.values.dim(0), ring.values.dim(1), ring.values.dim(2), ring.keys.dim(2),
              ring.attn_length};
  RequireTensor(op, "ring.values", ring.values, {s.B, s.C, s.A}, DType::kFloat32, device);
  RequireTensor(op, "ring.keys", ring.keys, {s.B, s.C, s.V}, DType::kFloat32, device);
  MELODY_REQUIRE(s.Lw >= 1 && s.Lw <= s.C)
      << op << ": attn_length " << s.Lw << " must be in [1, " << s.C << "] (ring capacity)";
  MELODY_REQUIRE(ring.head >= 0 && ring.head < s.C)
      << op << ": ring head " << ring.head << " outside [0, " << s.C << ")";
  return s;
}

void CheckQuery(const char* op, const RingSizes& s, const Tensor& query,
                const Tensor& query_kernel, const Tensor& attn_v, Device device) {
  MELODY_REQUIRE(query.defined() && query.rank() == 2) << op << ": query must be [B, Q]";
  RequireTensor(op, "query", query, {s.B, query.dim(1)}, DType::kFloat32, device);
  RequireTensor(op, "query_kernel", query_kernel, {query.dim(1), s.V}, DType::kFloat32,
                device);
  RequireTensor(op, "attn_v", attn_v, {s.V}, DType::kFloat32, device);
}

}  // namespace

void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys) {
  const char* op = "AttentionProjectKeys";
  MELODY_REQUIRE(values.defined() && values.rank() == 2 && keys && keys->rank() == 2)
      << op << ": values must be [R, A] and keys [R, V]";
  const Device dev = ctx.device();
  RequireTensor(op, "values", values, values.shape(), DType::kFloat32, dev);
  RequireAttnW(op, "attn_w", attn_w, values.dim(1), keys->dim(1), DType::kFloat32, dev);
  RequireOutput(op, "keys", keys, {values.dim(0), keys->dim(1)}, DType::kFloat32, dev);
  if (ctx.is_cpu()) return cpu::AttentionProjectKeys(ctx, values, attn_w, keys);
#if MELODY_HAVE_CUDA
  return cuda::AttentionProjectKeys(ctx, values, attn_w, keys);
#else
  NoCuda(op);
#endif
}

void AttentionProjectKeysBackward(Context& ctx, const Tensor& values, const Tensor& attn_w,
                                  const Tensor& d_keys, Tensor* d_values, Tensor* d_attn_w) {
  const char* op = "AttentionProjectKeysBackward";
  MELODY_REQUIRE(values.defined() && values.rank() == 2 && d_keys.defined() &&
                 d_keys.rank() == 2)
      << op << ": values must be [R, A] and d_keys [R, V]";
  const Device dev = ctx.device();
  const int64_t R = values.dim(0), A = values.dim(1), V = d_keys.dim(1);
  RequireTensor(op, "values", values, {R, A}, DType::kFloat32, dev);
  RequireAttnW(op, "attn_w", attn_w, A, V, DType::kFloat32, dev);
  RequireTensor(op, "d_keys", d_keys, {R, V}, DType::kFloat32, dev);
  if (d_values) RequireOutput(op, "d_values", d_values, {R, A}, DType::kFloat32, dev);
  MELODY_REQUIRE(d_attn_w != nullptr) << op << ": output d_attn_w is null";
  RequireAttnW(op, "d_attn_w", *d_attn_w, A, V, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionProjectKeysBackward(ctx, values, attn_w, d_keys, d_values, d_attn_w);
#if MELODY_HAVE_CUDA
  return cuda::AttentionProjectKeysBackward(ctx, values, attn_w, d_keys, d_values, d_attn_w);
#else
  NoCuda(op);
#endif
}

void AttentionReadForward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                          const Tensor& query_bias, const Tensor& attn_v,
                          const AttentionRing& ring, Tensor* y, Tensor* alpha,
                          Tensor* context) {
  const char* op = "AttentionReadForward";
  const Device dev = ctx.device();
  const RingSizes s = CheckRing(op, ring, dev);
  CheckQuery(op, s, query, query_kernel, attn_v, dev);
  RequireTensor(op, "query_bias", query_bias, {s.V}, DType::kFloat32, dev);
  RequireOutput(op, "y", y, {s.B, s.V}, DType::kFloat32, dev);
  RequireOutput(op, "alpha", alpha, {s.B, s.Lw}, DType::kFloat32, dev);
  RequireOutput(op, "context", context, {s.B, s.A}, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionReadForward(ctx, query, query_kernel, query_bias, attn_v, ring, y,
                                     alpha, context);
#if MELODY_HAVE_CUDA
  return cuda::AttentionReadForward(ctx, query, query_kernel, query_bias, attn_v, ring, y,
                                    alpha, context);
#else
  NoCuda(op);
#endif
}

void AttentionReadBackward(Context& ctx, const Tensor& query, const Tensor& query_kernel,
                           const Tensor& attn_v, const AttentionRing& ring, const Tensor& y,
                           const Tensor& alpha, const Tensor& d_context, Tensor* d_query,
                           Tensor* d_query_kernel, Tensor* d_query_bias, Tensor* d_attn_v,
                           Tensor* d_values, Tensor* d_keys) {
  const char* op = "AttentionReadBackward";
  const Device dev = ctx.device();
  const RingSizes s = CheckRing(op, ring, dev);
  CheckQuery(op, s, query, query_kernel, attn_v, dev);
  const int64_t Q = query.dim(1);
  RequireTensor(op, "y", y, {s.B, s.V}, DType::kFloat32, dev);
  RequireTensor(op, "alpha", alpha, {s.B, s.Lw}, DType::kFloat32, dev);
  RequireTensor(op, "d_context", d_context, {s.B, s.A}, DType::kFloat32, dev);
  if (d_query) RequireOutput(op, "d_query", d_query, {s.B, Q}, DType::kFloat32, dev);
  RequireOutput(op, "d_query_kernel", d_query_kernel, {Q, s.V}, DType::kFloat32, dev);
  RequireOutput(op, "d_query_bias", d_query_bias, {s.V}, DType::kFloat32, dev);
  RequireOutput(op, "d_attn_v", d_attn_v, {s.V}, DType::kFloat32, dev);
  RequireOutput(op, "d_values", d_values, {s.B, s.C, s.A}, DType::kFloat32, dev);
  RequireOutput(op, "d_keys", d_keys, {s.B, s.C, s.V}, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionReadBackward(ctx, query, query_kernel, attn_v, ring, y, alpha,
                                      d_context, d_query, d_query_kernel, d_query_bias,
                                      d_attn_v, d_values, d_keys);
#if MELODY_HAVE_CUDA
  return cuda::AttentionReadBackward(ctx, query, query_kernel, attn_v, ring, y, alpha,
                                     d_context, d_query, d_query_kernel, d_query_bias,
                                     d_attn_v, d_values, d_keys);
#else
  NoCuda(op);
#endif
}

}  // namespace melody
