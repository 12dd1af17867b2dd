// Per-tensor clip and Adam: hand cases, fast CPU vs the float reference (bit-exact: same
// float operations in the same order), fast CPU vs the double reference (float rounding
// tolerance), and CUDA vs CPU (skipped without a GPU).
#include "kernels/adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/device.h"
#include "kernels/stream_ops.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::AllEqual;
using kernel_test::ToDouble;

// Normal(0, scale) float32 tensor from a generator seeded with `seed`.
Tensor Random(Shape shape, uint32_t seed, double scale) {
  return kernel_test::RandomNormal(shape, seed, scale);
}

TEST(ClipByNormTest, HandCases) {
  auto ctx = Context::CreateCpu(1);
  // norm 5 > clip 1: scaled to unit norm.
  Tensor g = Tensor::FromVector({2}, {3.0f, 4.0f});
  ClipByNorm(*ctx, &g, 1.0f);
  EXPECT_FLOAT_EQ(g.data<float>()[0], 0.6f);
  EXPECT_FLOAT_EQ(g.data<float>()[1], 0.8f);
  // norm 5 < clip 10: (g·10)/10, here exact.
  g = Tensor::FromVector({2}, {3.0f, 4.0f});
  ClipByNorm(*ctx, &g, 10.0f);
  EXPECT_EQ(g.data<float>()[0], 3.0f);
  EXPECT_EQ(g.data<float>()[1], 4.0f);
  // The "unclipped" form is (g·c)/c, not g: for this value it is one ulp off.
  const float x = 0.1f, c = 3.0f;
  g = Tensor::FromVector({1}, {x});
  ClipByNorm(*ctx, &g, c);
  volatile float product = x * c;
  EXPECT_EQ(g.data<float>()[0], product / c);
  // All-zero gradient stays zero (no 0/0).
  g = Tensor::Zeros({3}, DType::kFloat32);
  ClipByNorm(*ctx, &g, 5.0f);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g.data<float>()[i], 0.0f);
  // clip_norm <= 0: untouched.
  g = Tensor::FromVector({2}, {30.0f, 40.0f});
  ClipByNorm(*ctx, &g, 0.0f);
  EXPECT_EQ(g.data<float>()[1], 40.0f);
  ClipByNorm(*ctx, &g, -1.0f);
  EXPECT_EQ(g.data<float>()[0], 30.0f);
}

// Fast CPU vs the double reference: relative 1e-6 per element (a few float roundings).
TEST(ClipByNormTest, FastCpuMatchesDoubleReference) {
  auto ctx = Context::CreateCpu(1);
  uint32_t seed = 11;
  for (Shape shape : {Shape{1}, Shape{7}, Shape{166, 512}, Shape{1, 1, 33, 17}}) {
    for (float clip : {0.5f, 3.0f, 1e6f}) {
      SCOPED_TRACE(::testing::Message() << "shape " << ShapeToString(shape) << " clip " << clip
                                        << " seed " << seed);
      Tensor g = Random(shape, seed++, 0.3);
      Tensor want = ToDouble(g);
      reference::ClipByNorm<double>(&want, static_cast<double>(clip));
      ClipByNorm(*ctx, &g, clip);
      ASSERT_TRUE(AllClose(g, want, 1e-12, 1e-6, "clipped gradient", seed - 1));
      // Result norm is min(norm, clip).
      double norm2 = 0;
      for (int64_t i = 0; i < g.numel(); ++i) norm2 += double(g.data<float>()[i]) * g.data<float>()[i];
      EXPECT_LE(std::sqrt(norm2), clip * (1 + 1e-5));
    }
  }
}

TEST(AdamTest, StepSizeIsTheTfFloatForm) {
  const float lr = 0.001f, b1p = 0.9f, b2p = 0.999f;
  volatile float one_minus_b2 = 1.0f - b2p;
  volatile float numerator = lr * std::sqrt(static_cast<float>(one_minus_b2));
  volatile float one_minus_b1 = 1.0f - b1p;
  EXPECT_EQ(AdamStepSize(lr, b1p, b2p), numerator / one_minus_b1);
  // float32 0.999 is not 0.999: 1 − 0.999f = 0.00099998713, 1.3e-5 relative off.
  EXPECT_NEAR(AdamStepSize(lr, b1p, b2p), 0.001 * std::sqrt(0.001) / 0.1, 3e-5 * 0.000316);
}

// First update from zero slots: m = 0.1 g, s = 0.001 g², so the step is
// α · 0.1g / (sqrt(0.001)|g| + ε) ≈ lr · sign(g).
TEST(AdamTest, FirstStepMovesByLearningRate) {
  auto ctx = Context::CreateCpu(1);
  Tensor g = Tensor::FromVector({3}, {0.5f, -2.0f, 0.0f});
  Tensor v = Tensor::FromVector({3}, {1.0f, 1.0f, 1.0f});
  Tensor m = Tensor::Zeros({3}, DType::kFloat32), s = Tensor::Zeros({3}, DType::kFloat32);
  AdamOptions opt;
  AdamUpdate(*ctx, opt, 0.9f, 0.999f, g, &v, &m, &s);
  EXPECT_NEAR(v.data<float>()[0], 1.0f - 0.001f, 1e-6);
  EXPECT_NEAR(v.data<float>()[1], 1.0f + 0.001f, 1e-6);
  EXPECT_EQ(v.data<float>()[2], 1.0f);
  EXPECT_NEAR(m.data<float>()[1], -0.2f, 1e-7);
  EXPECT_NEAR(s.data<float>()[1], 0.004f, 0.004 * 2e-5);  // (1 − 0.999f) rounding
}

// Several steps with evolving power accumulators: fast CPU bit-identical to the float
// reference, and within 1e-5 relative of the double reference run with the same (float)
// constants widened to double.
TEST(AdamTest, FastCpuMatchesReferences) {
  auto ctx = Context::CreateCpu(1);
  const uint32_t seed = 99;
  Shape shape{37, 41};
  Tensor v = Random(shape, seed, 0.1);
  Tensor m = Tensor::Zeros(shape, DType::kFloat32), s = Tensor::Zeros(shape, DType::kFloat32);
  Tensor rv = v.Clone(), rm = m.Clone(), rs = s.Clone();
  Tensor dv = ToDouble(v), dm = ToDouble(m), ds = ToDouble(s);
  AdamOptions opt;
  opt.learning_rate = 0.01f;
  float b1p = opt.beta1, b2p = opt.beta2;
  double db1p = opt.beta1, db2p = opt.beta2;
  for (int step = 0; step < 5; ++step) {
    Tensor g = Random(shape, seed + 1 + step, 1.0);
    AdamUpdate(*ctx, opt, b1p, b2p, g, &v, &m, &s);
    reference::AdamUpdate<float>(opt.learning_rate, opt.beta1, opt.beta2, opt.epsilon, b1p, b2p,
                                 g, &rv, &rm, &rs);
    reference::AdamUpdate<double>(opt.learning_rate, opt.beta1, opt.beta2, opt.epsilon, db1p, db2p, ToDouble(g), &dv, &dm, &ds);
    b1p *= opt.beta1;
    b2p *= opt.beta2;
    db1p = b1p;
    db2p = b2p;
  }
  ASSERT_TRUE(AllEqual(v, rv, "var vs float reference")) << "seed " << seed;
  ASSERT_TRUE(AllEqual(m, rm, "m vs float reference"));
  ASSERT_TRUE(AllEqual(s, rs, "s vs float reference"));
  ASSERT_TRUE(AllClose(v, dv, 1e-7, 1e-5, "var vs double reference", seed));
}

TEST(AdamTest, RejectsMismatchedShapes) {
  auto ctx = Context::CreateCpu(1);
  Tensor g = Tensor::Zeros({3}, DType::kFloat32), v = Tensor::Zeros({4}, DType::kFloat32);
  Tensor m = Tensor::Zeros({3}, DType::kFloat32), s = Tensor::Zeros({3}, DType::kFloat32);
  EXPECT_THROW(AdamUpdate(*ctx, AdamOptions{}, 0.9f, 0.999f, g, &v, &m, &s), Error);
  Tensor gd = Tensor::Zeros({3}, DType::kFloat64);
  EXPECT_THROW(ClipByNorm(*ctx, &gd, 1.0f), Error);
}

// CUDA vs CPU: the Adam update is bit-identical (no FMA contraction, IEEE sqrt/div); the
// clip agrees within 1 ulp-ish (the double sums run in different orders).
TEST(AdamTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(1);
  auto gpu = Context::CreateCuda(0);
  Shape shape{202, 512};
  Tensor g = Random(shape, 5, 0.2), v = Random(shape, 6, 0.1);
  Tensor m = Random(shape, 7, 0.01), s = Random(shape, 8, 0.01);
  for (int64_t i = 0; i < s.numel(); ++i) s.data<float>()[i] = std::abs(s.data<float>()[i]);
  Tensor gg = CopyToContext(*gpu, g), gv = CopyToContext(*gpu, v);
  Tensor gm = CopyToContext(*gpu, m), gs = CopyToContext(*gpu, s);
  ClipByNorm(*cpu, &g, 3.0f);
  ClipByNorm(*gpu, &gg, 3.0f);
  gpu->Synchronize();
  ASSERT_TRUE(AllClose(gg.CopyTo(Device::CPU()), g, 0, 1e-6, "clip, CUDA vs CPU"));
  CopyOnStream(*gpu, g, &gg);  // same gradient on both sides for the bit-exact comparison
  AdamUpdate(*cpu, AdamOptions{}, 0.81f, 0.998f, g, &v, &m, &s);
  AdamUpdate(*gpu, AdamOptions{}, 0.81f, 0.998f, gg, &gv, &gm, &gs);
  gpu->Synchronize();
  ASSERT_TRUE(AllEqual(gv.CopyTo(Device::CPU()), v, "var, CUDA vs CPU"));
  ASSERT_TRUE(AllEqual(gm.CopyTo(Device::CPU()), m, "m, CUDA vs CPU"));
  ASSERT_TRUE(AllEqual(gs.CopyTo(Device::CPU()), s, "s, CUDA vs CPU"));
}

}  // namespace
}  // namespace melody
