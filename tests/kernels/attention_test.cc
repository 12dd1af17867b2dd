// Attention read (kernels/attention.h): the fast ring-buffer path (keys projected once)
// against the literal reference that re-projects the whole window, a finite-difference
// check of the reference backward in double, and CUDA against the CPU.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/context.h"
#include "kernels/attention.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::RandomFloat;
using kernel_test::ToDouble;

struct ReadShape {
  int64_t B, Q, A, V, Lw, C, head;
};

// The test shapes: batch 1 with a one-slot window, a wrapping ring, sizes that are not
// multiples of 32, A != V, and the attention_rnn size (N = 128, Lw = 40).
const std::vector<ReadShape> kShapes = {
    {1, 2, 3, 3, 1, 1, 0},       {3, 10, 5, 5, 4, 7, 5},  {4, 14, 7, 9, 6, 6, 3},
    {5, 66, 33, 33, 40, 45, 44}, {2, 256, 128, 128, 40, 40, 17},
};

// Inputs of one read: a logical window and the same window scattered into a ring.
struct ReadCase {
  Tensor query, query_kernel, query_bias, attn_w, attn_v, window, ring_values, d_context;
};

ReadCase MakeCase(const ReadShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  ReadCase c;
  c.query = RandomFloat(rng, {s.B, s.Q});
  c.query_kernel = RandomFloat(rng, {s.Q, s.V}, 0.3f);
  c.query_bias = RandomFloat(rng, {s.V}, 0.3f);
  c.attn_w = RandomFloat(rng, {1, 1, s.A, s.V}, 0.3f);
  c.attn_v = RandomFloat(rng, {s.V});
  c.window = RandomFloat(rng, {s.B, s.Lw, s.A});
  // Slots outside the window hold garbage that must not be read.
  c.ring_values = RandomFloat(rng, {s.B, s.C, s.A}, 100.0f);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t l = 0; l < s.Lw; ++l)
      for (int64_t k = 0; k < s.A; ++k)
        c.ring_values.data<float>()[(b * s.C + (s.head + l) % s.C) * s.A + k] =
            c.window.data<float>()[(b * s.Lw + l) * s.A + k];
  c.d_context = RandomFloat(rng, {s.B, s.A});
  return c;
}

// Zeros made on the CPU and copied: a synchronous copy, ordered before any op on the
// context's (non-blocking) stream.
Tensor ZerosOn(const Shape& shape, Device dev) {
  return Tensor::Zeros(shape, DType::kFloat32).CopyTo(dev);
}

// Results of the fast path, with the ring gradients folded back onto the logical window.
struct FastResult {
  Tensor y, alpha, context, d_query, d_query_kernel, d_query_bias, d_attn_v, d_attn_w,
      d_window, d_values, d_keys;
};

FastResult RunFast(Context& ctx, const ReadShape& s, const ReadCase& cpu_case) {
  const Device dev = ctx.device();
  auto on = [&](const Tensor& t) { return t.CopyTo(dev); };
  AttentionRing ring;
  ring.values = on(cpu_case.ring_values);
  ring.keys = Tensor({s.B, s.C, s.V}, DType::kFloat32, dev);
  ring.head = s.head;
  ring.attn_length = static_cast<int>(s.Lw);
  const Tensor attn_w = on(cpu_case.attn_w);
  Tensor keys_flat = ring.keys.Reshaped({s.B * s.C, s.V});
  AttentionProjectKeys(ctx, ring.values.Reshaped({s.B * s.C, s.A}), attn_w, &keys_flat);

  const Tensor query = on(cpu_case.query), kq = on(cpu_case.query_kernel);
  const Tensor bq = on(cpu_case.query_bias), v = on(cpu_case.attn_v);
  Tensor y({s.B, s.V}, DType::kFloat32, dev), alpha({s.B, s.Lw}, DType::kFloat32, dev);
  Tensor context({s.B, s.A}, DType::kFloat32, dev);
  AttentionReadForward(ctx, query, kq, bq, v, ring, &y, &alpha, &context);

  Tensor d_query({s.B, s.Q}, DType::kFloat32, dev);
  Tensor d_kq = ZerosOn({s.Q, s.V}, dev);
  Tensor d_bq = ZerosOn({s.V}, dev);
  Tensor d_v = ZerosOn({s.V}, dev);
  Tensor d_values = ZerosOn({s.B, s.C, s.A}, dev);
  Tensor d_keys = ZerosOn({s.B, s.C, s.V}, dev);
  AttentionReadBackward(ctx, query, kq, v, ring, y, alpha, on(cpu_case.d_context), &d_query,
                        &d_kq, &d_bq, &d_v, &d_values, &d_keys);
  ctx.Synchronize();
  FastResult r;
  r.d_values = d_values.CopyTo(Device::CPU());
  r.d_keys = d_keys.CopyTo(Device::CPU());
  // Fold the key gradients through the key projection (done once per entry in the layer).
  Tensor d_attn_w = ZerosOn({1, 1, s.A, s.V}, dev);
  Tensor d_values_total = d_values.Clone().Reshaped({s.B * s.C, s.A});
  AttentionProjectKeysBackward(ctx, ring.values.Reshaped({s.B * s.C, s.A}), attn_w,
                               d_keys.Reshaped({s.B * s.C, s.V}), &d_values_total,
                               &d_attn_w);
  ctx.Synchronize();
  const Tensor total = d_values_total.CopyTo(Device::CPU());
  r.d_window = Tensor({s.B, s.Lw, s.A}, DType::kFloat32);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t l = 0; l < s.Lw; ++l)
      for (int64_t k = 0; k < s.A; ++k)
        r.d_window.data<float>()[(b * s.Lw + l) * s.A + k] =
            total.data<float>()[(b * s.C + (s.head + l) % s.C) * s.A + k];
  r.y = y.CopyTo(Device::CPU());
  r.alpha = alpha.CopyTo(Device::CPU());
  r.context = context.CopyTo(Device::CPU());
  r.d_query = d_query.CopyTo(Device::CPU());
  r.d_query_kernel = d_kq.CopyTo(Device::CPU());
  r.d_query_bias = d_bq.CopyTo(Device::CPU());
  r.d_attn_v = d_v.CopyTo(Device::CPU());
  r.d_attn_w = d_attn_w.CopyTo(Device::CPU());
  return r;
}

// Fast float32 against the literal reference in double on the same inputs. The float path
// sums up to max(Q, A, Lw·V) products of O(1) terms; 1e-5 abs + 1e-4 rel covers its
// rounding with margin (worst observed error over these shapes: 2.8e-6 absolute).
constexpr double kAbsTol = 1e-5, kRelTol = 1e-4;

TEST(AttentionReadTest, RingBufferMatchesLiteralReference) {
  auto ctx = Context::CreateCpu(2);
  uint32_t seed = 1000;
  for (const ReadShape& s : kShapes) {
    ++seed;
    SCOPED_TRACE(::testing::Message() << "B=" << s.B << " Q=" << s.Q << " A=" << s.A
                                      << " V=" << s.V << " Lw=" << s.Lw << " C=" << s.C
                                      << " head=" << s.head << " seed=" << seed);
    const ReadCase c = MakeCase(s, seed);
    const FastResult fast = RunFast(*ctx, s, c);

    Tensor y({s.B, s.V}, DType::kFloat64), alpha({s.B, s.Lw}, DType::kFloat64);
    Tensor context({s.B, s.A}, DType::kFloat64);
    const Tensor q = ToDouble(c.query), kq = ToDouble(c.query_kernel);
    const Tensor bq = ToDouble(c.query_bias), w = ToDouble(c.attn_w);
    const Tensor v = ToDouble(c.attn_v), win = ToDouble(c.window);
    reference::AttentionReadLiteralForward<double>(q, kq, bq, w, v, win, &y, &alpha, &context);
    EXPECT_TRUE(AllClose(fast.y, y, kAbsTol, kRelTol, "y", seed));
    EXPECT_TRUE(AllClose(fast.alpha, alpha, kAbsTol, kRelTol, "alpha", seed));
    EXPECT_TRUE(AllClose(fast.context, context, kAbsTol, kRelTol, "context", seed));

    Tensor d_query({s.B, s.Q}, DType::kFloat64);
    Tensor d_kq = Tensor::Zeros({s.Q, s.V}, DType::kFloat64);
    Tensor d_bq = Tensor::Zeros({s.V}, DType::kFloat64);
    Tensor d_w = Tensor::Zeros({1, 1, s.A, s.V}, DType::kFloat64);
    Tensor d_v = Tensor::Zeros({s.V}, DType::kFloat64);
    Tensor d_window({s.B, s.Lw, s.A}, DType::kFloat64);
    reference::AttentionReadLiteralBackward<double>(q, kq, bq, w, v, win,
                                                    ToDouble(c.d_context), &d_query, &d_kq,
                                                    &d_bq, &d_w, &d_v, &d_window);
    EXPECT_TRUE(AllClose(fast.d_query, d_query, kAbsTol, kRelTol, "d_query", seed));
    EXPECT_TRUE(AllClose(fast.d_query_kernel, d_kq, kAbsTol, kRelTol, "d_query_kernel", seed));
    EXPECT_TRUE(AllClose(fast.d_query_bias, d_bq, kAbsTol, kRelTol, "d_query_bias", seed));
    EXPECT_TRUE(AllClose(fast.d_attn_v, d_v, kAbsTol, kRelTol, "d_attn_v", seed));
    EXPECT_TRUE(AllClose(fast.d_attn_w, d_w, kAbsTol, kRelTol, "d_attn_w", seed));
    EXPECT_TRUE(AllClose(fast.d_window, d_window, kAbsTol, kRelTol, "d_window", seed));
    // Slots outside the window receive no gradient.
    for (int64_t b = 0; b < s.B; ++b)
      for (int64_t slot = 0; slot < s.C; ++slot) {
        if ((slot - s.head + s.C) % s.C < s.Lw) continue;
        for (int64_t k = 0; k < s.A; ++k)
          ASSERT_EQ(fast.d_values.data<float>()[(b * s.C + slot) * s.A + k], 0.0f);
        for (int64_t j = 0; j < s.V; ++j)
          ASSERT_EQ(fast.d_keys.data<float>()[(b * s.C + slot) * s.V + j], 0.0f);
      }
  }
}

TEST(AttentionReadTest, FirstStepWithEmptyWindowIsUniform) {
  // model.md §2.5: at t = 0 every slot is zero, so α is uniform and the context is zero.
  const ReadShape s{3, 8, 4, 4, 5, 5, 2};
  ReadCase c = MakeCase(s, 7);
  c.ring_values.SetZero();
  auto ctx = Context::CreateCpu(1);
  const FastResult fast = RunFast(*ctx, s, c);
  for (int64_t i = 0; i < fast.alpha.numel(); ++i)
    EXPECT_FLOAT_EQ(fast.alpha.data<float>()[i], 1.0f / s.Lw);
  for (int64_t i = 0; i < fast.context.numel(); ++i)
    EXPECT_EQ(fast.context.data<float>()[i], 0.0f);
}

// Loss = Σ context ⊙ R for a fixed random R, as a function of one perturbed input.
double LiteralLoss(const std::vector<Tensor*>& in, const Tensor& r) {
  const Tensor& q = *in[0];
  Tensor y({q.dim(0), in[1]->dim(1)}, DType::kFloat64);
  Tensor alpha({q.dim(0), in[5]->dim(1)}, DType::kFloat64);
  Tensor context({q.dim(0), in[5]->dim(2)}, DType::kFloat64);
  reference::AttentionReadLiteralForward<double>(*in[0], *in[1], *in[2], *in[3], *in[4],
                                                 *in[5], &y, &alpha, &context);
  double loss = 0.0;
  for (int64_t i = 0; i < context.numel(); ++i)
    loss += context.data<double>()[i] * r.data<double>()[i];
  return loss;
}

TEST(AttentionReadTest, LiteralBackwardMatchesFiniteDifferences) {
  const ReadShape s{2, 6, 3, 4, 3, 3, 0};
  const uint32_t seed = 77;
  ReadCase c = MakeCase(s, seed);
  Tensor q = ToDouble(c.query), kq = ToDouble(c.query_kernel), bq = ToDouble(c.query_bias);
  Tensor w = ToDouble(c.attn_w), v = ToDouble(c.attn_v), win = ToDouble(c.window);
  const Tensor r = ToDouble(c.d_context);
  std::vector<Tensor*> inputs = {&q, &kq, &bq, &w, &v, &win};

  Tensor d_query({s.B, s.Q}, DType::kFloat64);
  Tensor d_kq = Tensor::Zeros({s.Q, s.V}, DType::kFloat64);
  Tensor d_bq = Tensor::Zeros({s.V}, DType::kFloat64);
  Tensor d_w = Tensor::Zeros({1, 1, s.A, s.V}, DType::kFloat64);
  Tensor d_v = Tensor::Zeros({s.V}, DType::kFloat64);
  Tensor d_window({s.B, s.Lw, s.A}, DType::kFloat64);
  reference::AttentionReadLiteralBackward<double>(q, kq, bq, w, v, win, r, &d_query, &d_kq,
                                                  &d_bq, &d_w, &d_v, &d_window);
  const std::vector<const Tensor*> grads = {&d_query, &d_kq, &d_bq, &d_w, &d_v, &d_window};
  const char* names[] = {"query", "query_kernel", "query_bias", "attn_w", "attn_v", "window"};
  // Central differences with h = 1e-6: truncation O(h^2) and rounding O(1e-16/h) are both
  // ~1e-10, well inside 1e-6 relative + 1e-9 absolute.
  const double h = 1e-6;
  for (size_t k = 0; k < inputs.size(); ++k) {
    EXPECT_TRUE(kernel_test::GradientClose(
        *inputs[k], *grads[k], [&] { return LiteralLoss(inputs, r); },
        std::string(names[k]) + ", seed " + std::to_string(seed), h, /*abs_tol=*/1e-9,
        /*rel_tol=*/1e-6));
  }
}

TEST(AttentionReadTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(2);
  auto gpu = Context::CreateCuda(0);
  uint32_t seed = 2000;
  for (const ReadShape& s : kShapes) {
    ++seed;
    SCOPED_TRACE(::testing::Message() << "B=" << s.B << " Lw=" << s.Lw << " seed=" << seed);
    const ReadCase c = MakeCase(s, seed);
    const FastResult a = RunFast(*cpu, s, c);
    const FastResult b = RunFast(*gpu, s, c);
    // Different summation orders and tanh/exp implementations in float32.
    const double abs_tol = 2e-5, rel_tol = 1e-4;
    EXPECT_TRUE(AllClose(b.y, a.y, abs_tol, rel_tol, "y", seed));
    EXPECT_TRUE(AllClose(b.alpha, a.alpha, abs_tol, rel_tol, "alpha", seed));
    EXPECT_TRUE(AllClose(b.context, a.context, abs_tol, rel_tol, "context", seed));
    EXPECT_TRUE(AllClose(b.d_query, a.d_query, abs_tol, rel_tol, "d_query", seed));
    EXPECT_TRUE(AllClose(b.d_query_kernel, a.d_query_kernel, abs_tol, rel_tol, "d_kq", seed));
    EXPECT_TRUE(AllClose(b.d_query_bias, a.d_query_bias, abs_tol, rel_tol, "d_bq", seed));
    EXPECT_TRUE(AllClose(b.d_attn_v, a.d_attn_v, abs_tol, rel_tol, "d_attn_v", seed));
    EXPECT_TRUE(AllClose(b.d_attn_w, a.d_attn_w, abs_tol, rel_tol, "d_attn_w", seed));
    EXPECT_TRUE(AllClose(b.d_window, a.d_window, abs_tol, rel_tol, "d_window", seed));
  }
}

TEST(AttentionReadTest, RejectsBadShapes) {
  auto ctx = Context::CreateCpu(1);
  AttentionRing ring;
  ring.values = Tensor::Zeros({2, 4, 3}, DType::kFloat32);
  ring.keys = Tensor::Zeros({2, 4, 3}, DType::kFloat32);
  ring.attn_length = 5;  // larger than the capacity
  Tensor q = Tensor::Zeros({2, 6}, DType::kFloat32), kq = Tensor::Zeros({6, 3}, DType::kFloat32);
  Tensor bq = Tensor::Zeros({3}, DType::kFloat32), v = Tensor::Zeros({3}, DType::kFloat32);
  Tensor y({2, 3}, DType::kFloat32), alpha({2, 5}, DType::kFloat32), ctxt({2, 3}, DType::kFloat32);
  EXPECT_THROW(AttentionReadForward(*ctx, q, kq, bq, v, ring, &y, &alpha, &ctxt), Error);
  ring.attn_length = 4;
  Tensor alpha4({2, 4}, DType::kFloat32);
  Tensor bad_kq = Tensor::Zeros({5, 3}, DType::kFloat32);
  EXPECT_THROW(AttentionReadForward(*ctx, q, bad_kq, bq, v, ring, &y, &alpha4, &ctxt), Error);
  EXPECT_NO_THROW(AttentionReadForward(*ctx, q, kq, bq, v, ring, &y, &alpha4, &ctxt));
}

}  // namespace
}  // namespace melody
