// Dispatch of the attention ops (kernels/attention.h) to the CPU or CUDA twin, after one
// shared validation of shapes, dtypes and devices.
#include "kernels/attention.h"

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {
namespace {


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
  op_checks::CheckTensor(ring.values, op, "ring.values", {s.B, s.C, s.A}, DType::kFloat32, device);
  op_checks::CheckTensor(ring.keys, op, "ring.keys", {s.B, s.C, s.V}, DType::kFloat32, device);
  MELODY_REQUIRE(s.Lw >= 1 && s.Lw <= s.C)
      << op << ": attn_length " << s.Lw << " must be in [1, " << s.C << "] (ring capacity)";
  MELODY_REQUIRE(ring.head >= 0 && ring.head < s.C)
      << op << ": ring head " << ring.head << " outside [0, " << s.C << ")";
  return s;
}

void CheckQuery(const char* op, const RingSizes& s, const Tensor& query,
                const Tensor& query_kernel, const Tensor& attn_v, Device device) {
  MELODY_REQUIRE(query.defined() && query.rank() == 2) << op << ": query must be [B, Q]";
  op_checks::CheckTensor(query, op, "query", {s.B, query.dim(1)}, DType::kFloat32, device);
  op_checks::CheckTensor(query_kernel, op, "query_kernel", {query.dim(1), s.V},
                         DType::kFloat32, device);
  op_checks::CheckTensor(attn_v, op, "attn_v", {s.V}, DType::kFloat32, device);
}

}  // namespace

void AttentionProjectKeys(Context& ctx, const Tensor& values, const Tensor& attn_w,
                          Tensor* keys) {
  const char* op = "AttentionProjectKeys";
  MELODY_REQUIRE(values.defined() && values.rank() == 2 && keys && keys->rank() == 2)
      << op << ": values must be [R, A] and keys [R, V]";
  const Device dev = ctx.device();
  op_checks::CheckTensor(values, op, "values", values.shape(), DType::kFloat32, dev);
  op_checks::CheckAttnW(attn_w, op, "attn_w", values.dim(1), keys->dim(1), DType::kFloat32, dev);
  op_checks::CheckOutput(keys, op, "keys", {values.dim(0), keys->dim(1)}, DType::kFloat32, dev);
  if (ctx.is_cpu()) return cpu::AttentionProjectKeys(ctx, values, attn_w, keys);
#if MELODY_HAVE_CUDA
  return cuda::AttentionProjectKeys(ctx, values, attn_w, keys);
#else
  op_checks::FailNoCuda(op, ctx);
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
  op_checks::CheckTensor(values, op, "values", {R, A}, DType::kFloat32, dev);
  op_checks::CheckAttnW(attn_w, op, "attn_w", A, V, DType::kFloat32, dev);
  op_checks::CheckTensor(d_keys, op, "d_keys", {R, V}, DType::kFloat32, dev);
  if (d_values) op_checks::CheckOutput(d_values, op, "d_values", {R, A}, DType::kFloat32, dev);
  MELODY_REQUIRE(d_attn_w != nullptr) << op << ": output d_attn_w is null";
  op_checks::CheckAttnW(*d_attn_w, op, "d_attn_w", A, V, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionProjectKeysBackward(ctx, values, attn_w, d_keys, d_values, d_attn_w);
#if MELODY_HAVE_CUDA
  return cuda::AttentionProjectKeysBackward(ctx, values, attn_w, d_keys, d_values, d_attn_w);
#else
  op_checks::FailNoCuda(op, ctx);
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
  op_checks::CheckTensor(query_bias, op, "query_bias", {s.V}, DType::kFloat32, dev);
  op_checks::CheckOutput(y, op, "y", {s.B, s.V}, DType::kFloat32, dev);
  op_checks::CheckOutput(alpha, op, "alpha", {s.B, s.Lw}, DType::kFloat32, dev);
  op_checks::CheckOutput(context, op, "context", {s.B, s.A}, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionReadForward(ctx, query, query_kernel, query_bias, attn_v, ring, y,
                                     alpha, context);
#if MELODY_HAVE_CUDA
  return cuda::AttentionReadForward(ctx, query, query_kernel, query_bias, attn_v, ring, y,
                                    alpha, context);
#else
  op_checks::FailNoCuda(op, ctx);
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
  op_checks::CheckTensor(y, op, "y", {s.B, s.V}, DType::kFloat32, dev);
  op_checks::CheckTensor(alpha, op, "alpha", {s.B, s.Lw}, DType::kFloat32, dev);
  op_checks::CheckTensor(d_context, op, "d_context", {s.B, s.A}, DType::kFloat32, dev);
  if (d_query) op_checks::CheckOutput(d_query, op, "d_query", {s.B, Q}, DType::kFloat32, dev);
  op_checks::CheckOutput(d_query_kernel, op, "d_query_kernel", {Q, s.V}, DType::kFloat32, dev);
  op_checks::CheckOutput(d_query_bias, op, "d_query_bias", {s.V}, DType::kFloat32, dev);
  op_checks::CheckOutput(d_attn_v, op, "d_attn_v", {s.V}, DType::kFloat32, dev);
  op_checks::CheckOutput(d_values, op, "d_values", {s.B, s.C, s.A}, DType::kFloat32, dev);
  op_checks::CheckOutput(d_keys, op, "d_keys", {s.B, s.C, s.V}, DType::kFloat32, dev);
  if (ctx.is_cpu())
    return cpu::AttentionReadBackward(ctx, query, query_kernel, attn_v, ring, y, alpha,
                                      d_context, d_query, d_query_kernel, d_query_bias,
                                      d_attn_v, d_values, d_keys);
#if MELODY_HAVE_CUDA
  return cuda::AttentionReadBackward(ctx, query, query_kernel, attn_v, ring, y, alpha,
                                     d_context, d_query, d_query_kernel, d_query_bias,
                                     d_attn_v, d_values, d_keys);
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

}  // namespace melody
