// Tests for kernels/dropout.h: fast CPU == reference bit for bit, keep-rate statistics,
// determinism and independence of the (seed, step, layer) streams, the step variant as a
// slice of the sequence variant, backward = same mask, identity at keep 1, a
// finite-difference check in double, and CUDA == CPU bit for bit (mask and values).
#include "kernels/dropout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/context.h"
#include "core/device.h"
#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::Random;

DropoutConfig Config(double keep, uint64_t seed = 1234, uint32_t step = 7, uint32_t layer = 1) {
  DropoutConfig c;
  c.keep_prob = keep;
  c.seed = seed;
  c.step = step;
  c.layer = layer;
  return c;
}

using kernel_test::BitwiseEqual;

TEST(DropoutTest, ConstantsFollowTf) {
  EXPECT_EQ(DropoutConstantsFor(0.5).scale, 2.0f);
  EXPECT_EQ(DropoutConstantsFor(0.5).threshold, 0.5f);
  // rate = 1 - 0.9 in double (0.09999999999999998), then both converted to float.
  EXPECT_EQ(DropoutConstantsFor(0.9).threshold, static_cast<float>(1.0 - 0.9));
  EXPECT_EQ(DropoutConstantsFor(0.9).scale, static_cast<float>(1.0 / (1.0 - (1.0 - 0.9))));
  EXPECT_THROW(DropoutConstantsFor(0.0), Error);
  EXPECT_THROW(DropoutConstantsFor(1.5), Error);
  EXPECT_THROW(DropoutConstantsFor(-0.1), Error);
}

TEST(DropoutTest, FastCpuMatchesReferenceBitForBit) {
  auto ctx = Context::CreateCpu();
  const Shape shapes[] = {{1, 1, 1}, {3, 5, 17}, {8, 33, 128}, {2, 1, 130}};
  for (double keep : {0.5, 0.9, 0.25}) {
    for (const auto& s : shapes) {
      const uint32_t seed = 11;
      std::mt19937 rng(seed);
      Tensor x = Random(rng, s);
      Tensor y_fast(s, DType::kFloat32), y_ref(s, DType::kFloat32);
      DropoutForward(*ctx, x, Config(keep), &y_fast);
      reference::DropoutForward<float>(x, Config(keep), &y_ref);
      EXPECT_TRUE(BitwiseEqual(y_fast, y_ref)) << "keep " << keep << " shape " << ShapeToString(s);
    }
  }
}

TEST(DropoutTest, KeepFractionAndScaleMatchTheProbability) {
  auto ctx = Context::CreateCpu();
  const Shape s = {16, 128, 128};  // 262144 elements
  Tensor x = Tensor::Zeros(s, DType::kFloat32);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 1.0f + static_cast<float>(i % 7);
  for (double keep : {0.5, 0.9, 0.2}) {
    Tensor y(s, DType::kFloat32);
    DropoutForward(*ctx, x, Config(keep), &y);
    const float scale = DropoutConstantsFor(keep).scale;
    int64_t kept = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      const float v = y.data<float>()[i];
      if (v != 0.0f) {
        ++kept;
        ASSERT_EQ(v, x.data<float>()[i] * scale) << "element " << i;
      }
    }
    const double n = static_cast<double>(y.numel());
    const double frac = kept / n;
    // 6 binomial standard deviations: a false failure has probability ~1e-9.
    EXPECT_NEAR(frac, keep, 6.0 * std::sqrt(keep * (1 - keep) / n)) << "keep " << keep;
  }
}

TEST(DropoutTest, MasksAreDeterministicAndIndependentAcrossStreams) {
  auto ctx = Context::CreateCpu();
  const Shape s = {8, 64, 128};
  auto mask = [&](const DropoutConfig& c) {
    Tensor m(s, DType::kFloat32);
    DropoutKeepMask(*ctx, c, &m);
    return m;
  };
  const Tensor base = mask(Config(0.5));
  EXPECT_TRUE(BitwiseEqual(base, mask(Config(0.5))));
  // Another seed, step or layer gives a mask that agrees with this one on ~half the
  // elements (independent streams), not all or none.
  for (const DropoutConfig& other :
       {Config(0.5, 1235), Config(0.5, 1234, 8), Config(0.5, 1234, 7, 2)}) {
    const Tensor m = mask(other);
    int64_t same = 0;
    for (int64_t i = 0; i < m.numel(); ++i) same += m.data<float>()[i] == base.data<float>()[i];
    const double n = static_cast<double>(m.numel());
    EXPECT_NEAR(same / n, 0.5, 6.0 * std::sqrt(0.25 / n));
  }
  // Neighbouring positions are not correlated: agreement between (b, t, u) and (b, t+1, u).
  int64_t same = 0, pairs = 0;
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t t = 0; t + 1 < s[1]; ++t)
      for (int64_t u = 0; u < s[2]; ++u, ++pairs)
        same += base.data<float>()[(b * s[1] + t) * s[2] + u] ==
                base.data<float>()[(b * s[1] + t + 1) * s[2] + u];
  EXPECT_NEAR(static_cast<double>(same) / pairs, 0.5, 6.0 * std::sqrt(0.25 / pairs));
}

TEST(DropoutTest, StepVariantIsASliceOfTheSequence) {
  auto ctx = Context::CreateCpu();
  const uint32_t seed = 21;
  std::mt19937 rng(seed);
  const int64_t b = 5, time = 9, n = 33;
  Tensor x = Random(rng, {b, time, n});
  Tensor y({b, time, n}, DType::kFloat32);
  DropoutForward(*ctx, x, Config(0.6), &y);
  for (int64_t t : {0, 4, 8}) {
    Tensor xt({b, n}, DType::kFloat32), yt({b, n}, DType::kFloat32), expect({b, n}, DType::kFloat32);
    for (int64_t r = 0; r < b; ++r) {
      std::memcpy(xt.data<float>() + r * n, x.data<float>() + (r * time + t) * n, 4 * n);
      std::memcpy(expect.data<float>() + r * n, y.data<float>() + (r * time + t) * n, 4 * n);
    }
    DropoutStepForward(*ctx, xt, Config(0.6), t, time, &yt);
    EXPECT_TRUE(BitwiseEqual(yt, expect)) << "t = " << t;
    Tensor dxt({b, n}, DType::kFloat32);
    DropoutStepBackward(*ctx, xt, Config(0.6), t, time, &dxt);
    EXPECT_TRUE(BitwiseEqual(dxt, expect)) << "backward, t = " << t;
  }
  Tensor bad({b, n}, DType::kFloat32);
  EXPECT_THROW(DropoutStepForward(*ctx, bad, Config(0.6), time, time, &bad), Error);
}

TEST(DropoutTest, BackwardUsesTheForwardMaskAndWorksInPlace) {
  auto ctx = Context::CreateCpu();
  const uint32_t seed = 8;
  std::mt19937 rng(seed);
  const Shape s = {4, 10, 20};
  Tensor dy = Random(rng, s);
  Tensor mask(s, DType::kFloat32);
  DropoutKeepMask(*ctx, Config(0.7), &mask);
  const float scale = DropoutConstantsFor(0.7).scale;
  Tensor dx = dy.Clone();
  DropoutBackward(*ctx, dx, Config(0.7), &dx);  // in place
  for (int64_t i = 0; i < dy.numel(); ++i)
    ASSERT_EQ(dx.data<float>()[i], dy.data<float>()[i] * scale * mask.data<float>()[i]) << i;
}

TEST(DropoutTest, KeepOneIsTheIdentity) {
  auto ctx = Context::CreateCpu();
  std::mt19937 rng(2);
  Tensor x = Random(rng, {3, 4, 5});
  Tensor y = Tensor::Zeros({3, 4, 5}, DType::kFloat32);
  DropoutForward(*ctx, x, Config(1.0), &y);
  EXPECT_TRUE(BitwiseEqual(x, y));
  Tensor z = x.Clone();
  DropoutBackward(*ctx, z, Config(1.0), &z);
  EXPECT_TRUE(BitwiseEqual(x, z));
}

// Dropout is linear and diagonal: d(Σ g ⊙ y)/dx = dropout(g). Checked by central
// differences on the double reference.
TEST(DropoutTest, ReferenceGradientMatchesFiniteDifferences) {
  std::mt19937 rng(6);
  Tensor x = Random<double>(rng, {2, 3, 4}), g = Random<double>(rng, {2, 3, 4});
  Tensor y({2, 3, 4}, DType::kFloat64), grad({2, 3, 4}, DType::kFloat64);
  auto loss = [&] {
    reference::DropoutForward<double>(x, Config(0.5), &y);
    return kernel_test::Dot(y, g);
  };
  reference::DropoutForward<double>(g, Config(0.5), &grad);
  EXPECT_TRUE(kernel_test::GradientMatches(x, grad, loss, "dx"));
}

TEST(DropoutTest, CudaMatchesCpuBitForBit) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu();
  auto gpu = Context::CreateCuda(0);
  const Device dev = gpu->device();
  const Shape s = {7, 33, 130};
  for (double keep : {0.5, 0.9}) {
    Tensor m_cpu(s, DType::kFloat32), m_gpu(s, DType::kFloat32, dev);
    DropoutKeepMask(*cpu, Config(keep), &m_cpu);
    DropoutKeepMask(*gpu, Config(keep), &m_gpu);
    gpu->Synchronize();
    EXPECT_TRUE(BitwiseEqual(m_gpu.CopyTo(Device::CPU()), m_cpu)) << "mask, keep " << keep;
    std::mt19937 rng(99);
    Tensor x = Random(rng, s);
    Tensor y_cpu(s, DType::kFloat32), y_gpu(s, DType::kFloat32, dev);
    DropoutForward(*cpu, x, Config(keep), &y_cpu);
    DropoutForward(*gpu, x.CopyTo(dev), Config(keep), &y_gpu);
    gpu->Synchronize();
    EXPECT_TRUE(BitwiseEqual(y_gpu.CopyTo(Device::CPU()), y_cpu)) << "values, keep " << keep;
    // Step variant on the device.
    Tensor xt = Random(rng, {7, 130});
    Tensor yt_cpu({7, 130}, DType::kFloat32), yt_gpu({7, 130}, DType::kFloat32, dev);
    DropoutStepForward(*cpu, xt, Config(keep), 5, 33, &yt_cpu);
    DropoutStepForward(*gpu, xt.CopyTo(dev), Config(keep), 5, 33, &yt_gpu);
    gpu->Synchronize();
    EXPECT_TRUE(BitwiseEqual(yt_gpu.CopyTo(Device::CPU()), yt_cpu)) << "step, keep " << keep;
  }
}

}  // namespace
}  // namespace melody
