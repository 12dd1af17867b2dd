// The attention read's row loops and the LSTM gate row loops are compiled twice
// (cpu/attention_rows_impl.h, cpu/lstm_gate_rows_impl.h): baseline x86-64 and AVX2, chosen
// at run time. The two builds must give the same bits, so results never depend on the
// machine's vector width.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/attention_rows.h"
#include "kernels/cpu/avx2_dispatch.h"
#include "kernels/cpu/lstm_gates.h"

namespace melody::cpu {
namespace {

struct RowLoopCase {
  RingGeometry g;
  int64_t B = 0;
  std::vector<float> y, attn_v, values, keys, alpha, context;
  // Backward.
  std::vector<float> d_context, dy, d_attn_v_rows, d_values, d_keys;
};

std::vector<float> Random(std::mt19937& rng, size_t n, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// V = 37 and A = 29 leave tails after every 8-wide loop; head 5 wraps the ring.
RowLoopCase MakeCase(uint32_t seed) {
  std::mt19937 rng(seed);
  RowLoopCase c;
  c.g.Lw = 9;
  c.g.C = 12;
  c.g.A = 29;
  c.g.V = 37;
  c.g.head = 5;
  c.B = 6;
  c.y = Random(rng, c.B * c.g.V, 2.0f);
  c.attn_v = Random(rng, c.g.V, 1.0f);
  c.values = Random(rng, c.B * c.g.C * c.g.A, 1.0f);
  c.keys = Random(rng, c.B * c.g.C * c.g.V, 3.0f);
  c.alpha.assign(c.B * c.g.Lw, 0.0f);
  c.context.assign(c.B * c.g.A, 0.0f);
  c.d_context = Random(rng, c.B * c.g.A, 1.0f);
  c.dy.assign(c.B * c.g.V, 0.0f);
  c.d_attn_v_rows.assign(c.B * c.g.V, 0.0f);
  c.d_values = Random(rng, c.B * c.g.C * c.g.A, 0.5f);  // accumulated into
  c.d_keys = Random(rng, c.B * c.g.C * c.g.V, 0.5f);
  return c;
}

using ForwardFn = void (*)(const RingGeometry&, const float*, const float*, const float*,
                           const float*, float*, float*, int64_t, int64_t, float*);
using BackwardFn = void (*)(const RingGeometry&, const float*, const float*, const float*,
                            const float*, const float*, const float*, float*, float*, float*,
                            float*, int64_t, int64_t, float*);

void RunBoth(RowLoopCase* c, ForwardFn forward, BackwardFn backward) {
  std::vector<float> scratch(c->g.Lw + c->g.V);
  forward(c->g, c->y.data(), c->attn_v.data(), c->values.data(), c->keys.data(),
          c->alpha.data(), c->context.data(), 0, c->B, scratch.data());
  backward(c->g, c->y.data(), c->attn_v.data(), c->values.data(), c->keys.data(),
           c->alpha.data(), c->d_context.data(), c->dy.data(), c->d_attn_v_rows.data(),
           c->d_values.data(), c->d_keys.data(), 0, c->B, scratch.data());
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void ExpectSameBits(const RowLoopCase& a, const RowLoopCase& b) {
  EXPECT_TRUE(SameBits(a.alpha, b.alpha)) << "alpha";
  EXPECT_TRUE(SameBits(a.context, b.context)) << "context";
  EXPECT_TRUE(SameBits(a.dy, b.dy)) << "dy";
  EXPECT_TRUE(SameBits(a.d_attn_v_rows, b.d_attn_v_rows)) << "d attn_v";
  EXPECT_TRUE(SameBits(a.d_values, b.d_values)) << "d values";
  EXPECT_TRUE(SameBits(a.d_keys, b.d_keys)) << "d keys";
}

TEST(AttentionRowLoops, DispatchedLoopsEqualTheBaselineBuild) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    RowLoopCase base = MakeCase(seed), dispatched = MakeCase(seed);
    RunBoth(&base, baseline::AttentionReadRows, baseline::AttentionReadBackwardRows);
    AttentionReadRows(dispatched.g, dispatched.y.data(), dispatched.attn_v.data(),
                      dispatched.values.data(), dispatched.keys.data(),
                      dispatched.alpha.data(), dispatched.context.data(), 0, dispatched.B);
    AttentionReadBackwardRows(dispatched.g, dispatched.y.data(), dispatched.attn_v.data(),
                              dispatched.values.data(), dispatched.keys.data(),
                              dispatched.alpha.data(), dispatched.d_context.data(),
                              dispatched.dy.data(), dispatched.d_attn_v_rows.data(),
                              dispatched.d_values.data(), dispatched.d_keys.data(), 0,
                              dispatched.B);
    ExpectSameBits(base, dispatched);
    // Not vacuous: the forward produced a distribution and the backward touched dy.
    float total = 0;
    for (int64_t l = 0; l < base.g.Lw; ++l) total += base.alpha[l];
    EXPECT_NEAR(total, 1.0f, 1e-5f);
    EXPECT_NE(base.dy[0], 0.0f);
  }
}

TEST(AttentionRowLoops, Avx2BuildGivesTheBaselineBits) {
#if MELODY_KERNELS_AVX2
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  EXPECT_TRUE(UseAvx2Loops());
  for (uint32_t seed : {4u, 5u, 6u, 7u}) {
    RowLoopCase base = MakeCase(seed), wide = MakeCase(seed);
    RunBoth(&base, baseline::AttentionReadRows, baseline::AttentionReadBackwardRows);
    RunBoth(&wide, avx2::AttentionReadRows, avx2::AttentionReadBackwardRows);
    ExpectSameBits(base, wide);
  }
#else
  GTEST_SKIP() << "this build has no AVX2 copy of the row loops (not x86-64)";
#endif
}

// n = 37 leaves a tail after every vector loop; pre-activations span the clamped range.
struct GateRowCase {
  int64_t n = 37;
  std::vector<float> pre, c_prev, gates, c, h, dc, dh, dz, dc_prev;
};

GateRowCase MakeGateCase(uint32_t seed) {
  std::mt19937 rng(seed);
  GateRowCase c;
  c.pre = Random(rng, 4 * c.n, 12.0f);
  c.pre[0] = 100.0f;  // beyond FastExp's clamps
  c.pre[1] = -100.0f;
  c.c_prev = Random(rng, c.n, 2.0f);
  c.dc = Random(rng, c.n, 1.0f);
  c.dh = Random(rng, c.n, 1.0f);
  c.gates.assign(4 * c.n, 0.0f);
  c.c.assign(c.n, 0.0f);
  c.h.assign(c.n, 0.0f);
  c.dz.assign(4 * c.n, 0.0f);
  c.dc_prev.assign(c.n, 0.0f);
  return c;
}

void RunGateRows(GateRowCase* c, GateRowForwardFn forward, GateRowBackwardFn backward) {
  forward(c->n, c->pre.data(), c->c_prev.data(), c->gates.data(), c->c.data(), c->h.data());
  backward(c->n, c->gates.data(), c->dc.data(), c->c_prev.data(), c->c.data(), c->dh.data(),
           c->dz.data(), c->dc_prev.data());
}

TEST(LstmGateRowLoops, Avx2BuildGivesTheBaselineBits) {
#if MELODY_KERNELS_AVX2
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  for (uint32_t seed : {8u, 9u, 10u}) {
    GateRowCase base = MakeGateCase(seed), wide = MakeGateCase(seed);
    RunGateRows(&base, baseline::GateRowForward, baseline::GateRowBackward);
    RunGateRows(&wide, avx2::GateRowForward, avx2::GateRowBackward);
    EXPECT_TRUE(SameBits(base.gates, wide.gates)) << "gates";
    EXPECT_TRUE(SameBits(base.c, wide.c)) << "c";
    EXPECT_TRUE(SameBits(base.h, wide.h)) << "h";
    EXPECT_TRUE(SameBits(base.dz, wide.dz)) << "dz";
    EXPECT_TRUE(SameBits(base.dc_prev, wide.dc_prev)) << "dc_prev";
    EXPECT_GT(base.gates[0], 0.99f);  // σ of a large input: the forward ran
  }
#else
  GTEST_SKIP() << "this build has no AVX2 copy of the gate loops (not x86-64)";
#endif
}

}  // namespace
}  // namespace melody::cpu
