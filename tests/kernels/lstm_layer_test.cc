// Tests for kernels/lstm_layer.h: fast CPU vs reference over padded batches with mixed
// lengths (including 0 and full), padded-position behaviour, finite-difference gradients
// of the reference in double, CUDA (cuDNN) vs CPU (skipped without a GPU).
#include "kernels/lstm_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/context.h"
#include "core/device.h"
#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::Random;

struct LayerShape {
  int64_t batch, time, input, units;
};
const LayerShape kShapes[] = {{1, 1, 1, 1},   {1, 7, 38, 17},  {4, 1, 5, 3},
                              {6, 13, 74, 33}, {17, 20, 121, 128}, {9, 9, 130, 64}};

// Per-step error of the fast path is ~1e-6 (see lstm_cell_test.cc); over 20 recurrent steps
// it can grow a little, so the forward tolerance is that of the cell test, and the
// gradients (sums over all steps and rows) get 1e-4 + 1e-4 relative.
constexpr double kAbsTol = 2e-5, kRelTol = 1e-4;
constexpr double kGradAbsTol = 1e-4, kGradRelTol = 1e-4;

Tensor Lengths(const std::vector<int32_t>& v) {
  Tensor t({static_cast<int64_t>(v.size())}, DType::kInt32);
  for (size_t i = 0; i < v.size(); ++i) t.data<int32_t>()[i] = v[i];
  return t;
}

// Mixed lengths in [0, T], with the first row full-length and (when B > 2) one row empty.
std::vector<int32_t> MixedLengths(std::mt19937& rng, int64_t batch, int64_t time) {
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(time));
  std::vector<int32_t> len(batch);
  for (auto& l : len) l = dist(rng);
  len[0] = static_cast<int32_t>(time);
  if (batch > 2) len[batch - 1] = 0;
  return len;
}

struct LayerData {
  Tensor x, lengths, kernel, bias, dy;
};

LayerData MakeData(std::mt19937& rng, const LayerShape& s) {
  LayerData d;
  d.x = Random(rng, {s.batch, s.time, s.input});
  d.lengths = Lengths(MixedLengths(rng, s.batch, s.time));
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.input + s.units));
  d.kernel = Random(rng, {s.input + s.units, 4 * s.units}, 2.0 * scale);
  d.bias = Random(rng, {4 * s.units}, 0.5);
  d.dy = Random(rng, {s.batch, s.time, s.units});
  return d;
}

TEST(LstmLayerTest, FastCpuMatchesReference) {
  auto ctx = Context::CreateCpu();
  LstmLayerCache cache;  // reused across shapes, as a training loop would
  for (const auto& s : kShapes) {
    const uint32_t seed = 71 + static_cast<uint32_t>(s.batch * 100 + s.time);
    std::mt19937 rng(seed);
    LayerData d = MakeData(rng, s);
    const Shape out = {s.batch, s.time, s.units};
    Tensor y_f(out, DType::kFloat32), y_r(out, DType::kFloat32);
    LstmLayerForward(*ctx, d.x, d.lengths, d.kernel, d.bias, &y_f, &cache);
    reference::LstmLayerForward<float>(d.x, d.lengths, d.kernel, d.bias, &y_r);
    EXPECT_TRUE(AllClose(y_f, y_r, kAbsTol, kRelTol, "y", seed));

    Tensor dk0 = Random(rng, d.kernel.shape()), db0 = Random(rng, d.bias.shape());
    Tensor dx_f = Random(rng, d.x.shape()), dk_f = dk0.Clone(), db_f = db0.Clone();
    Tensor dx_r(d.x.shape(), DType::kFloat32), dk_r = dk0.Clone(), db_r = db0.Clone();
    LstmLayerBackward(*ctx, d.x, d.lengths, d.kernel, d.bias, y_f, d.dy, cache, &dx_f, &dk_f,
                      &db_f);
    reference::LstmLayerBackward<float>(d.x, d.lengths, d.kernel, d.bias, d.dy, &dx_r, &dk_r,
                                        &db_r);
    EXPECT_TRUE(AllClose(dx_f, dx_r, kAbsTol, kRelTol, "dx", seed));
    EXPECT_TRUE(AllClose(dk_f, dk_r, kGradAbsTol, kGradRelTol, "dkernel", seed));
    EXPECT_TRUE(AllClose(db_f, db_r, kGradAbsTol, kGradRelTol, "dbias", seed));
  }
}

TEST(LstmLayerTest, PaddedStepsOutputZeroAndIgnoreTheirInputs) {
  auto ctx = Context::CreateCpu();
  const uint32_t seed = 5;
  std::mt19937 rng(seed);
  const int64_t b = 3, t = 6, in = 4, n = 5;
  Tensor x = Random(rng, {b, t, in});
  Tensor lengths = Lengths({6, 2, 0});
  Tensor kernel = Random(rng, {in + n, 4 * n}, 0.5), bias = Random(rng, {4 * n});
  Tensor y({b, t, n}, DType::kFloat32);
  LstmLayerCache cache;
  LstmLayerForward(*ctx, x, lengths, kernel, bias, &y, &cache);
  // Changing x at padded positions changes nothing.
  Tensor x2 = x.Clone();
  for (int64_t k = 0; k < in; ++k) {
    x2.data<float>()[(1 * t + 3) * in + k] = 100.0f;
    x2.data<float>()[(2 * t + 0) * in + k] = -100.0f;
  }
  Tensor y2({b, t, n}, DType::kFloat32);
  LstmLayerForward(*ctx, x2, lengths, kernel, bias, &y2, nullptr);
  EXPECT_TRUE(AllClose(y2, y, 0, 0, "y with changed padding", seed));
  for (int64_t k = 0; k < n; ++k) {
    EXPECT_EQ(y.data<float>()[(1 * t + 2) * n + k], 0.0f);
    EXPECT_EQ(y.data<float>()[(2 * t + 0) * n + k], 0.0f);
    EXPECT_NE(y.data<float>()[(1 * t + 1) * n + k], 0.0f);
  }
  // Backward: dx is zero at padded positions whatever dy holds there.
  Tensor dy = Random(rng, {b, t, n});
  Tensor dx({b, t, in}, DType::kFloat32);
  Tensor dk = Tensor::Zeros(kernel.shape(), DType::kFloat32), db = Tensor::Zeros({4 * n}, DType::kFloat32);
  LstmLayerBackward(*ctx, x, lengths, kernel, bias, y, dy, cache, &dx, &dk, &db);
  for (int64_t k = 0; k < in; ++k) {
    EXPECT_EQ(dx.data<float>()[(1 * t + 2) * in + k], 0.0f);
    EXPECT_EQ(dx.data<float>()[(2 * t + 5) * in + k], 0.0f);
  }
}

TEST(LstmLayerTest, RejectsLengthsOutOfRange) {
  auto ctx = Context::CreateCpu();
  Tensor x = Tensor::Zeros({2, 3, 4}, DType::kFloat32);
  Tensor kernel = Tensor::Zeros({9, 20}, DType::kFloat32), bias = Tensor::Zeros({20}, DType::kFloat32);
  Tensor y({2, 3, 5}, DType::kFloat32);
  EXPECT_THROW(LstmLayerForward(*ctx, x, Lengths({3, 4}), kernel, bias, &y, nullptr), Error);
  EXPECT_THROW(LstmLayerForward(*ctx, x, Lengths({-1, 2}), kernel, bias, &y, nullptr), Error);
}

// Loss L = Σ G ⊙ y over all positions (padded ones included: y is 0 there, so G there
// must not matter); gradients = backward with dy = G.
TEST(LstmLayerTest, ReferenceGradientMatchesFiniteDifferences) {
  const uint32_t seed = 808;
  std::mt19937 rng(seed);
  const int64_t b = 3, t = 4, in = 3, n = 4;
  Tensor x = Random<double>(rng, {b, t, in});
  Tensor lengths = Lengths({4, 2, 0});
  Tensor kernel = Random<double>(rng, {in + n, 4 * n}, 0.7), bias = Random<double>(rng, {4 * n}, 0.5);
  Tensor g = Random<double>(rng, {b, t, n});
  Tensor y({b, t, n}, DType::kFloat64);
  auto loss = [&] {
    reference::LstmLayerForward<double>(x, lengths, kernel, bias, &y);
    return kernel_test::Dot(y, g);
  };
  Tensor dx({b, t, in}, DType::kFloat64);
  Tensor dk = Tensor::Zeros(kernel.shape(), DType::kFloat64), db = Tensor::Zeros({4 * n}, DType::kFloat64);
  reference::LstmLayerBackward<double>(x, lengths, kernel, bias, g, &dx, &dk, &db);
  EXPECT_TRUE(kernel_test::GradientMatches(x, dx, loss, "dx"));
  EXPECT_TRUE(kernel_test::GradientMatches(kernel, dk, loss, "dkernel"));
  EXPECT_TRUE(kernel_test::GradientMatches(bias, db, loss, "dbias"));
}

TEST(LstmLayerTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu();
  auto gpu = Context::CreateCuda(0);
  const Device dev = gpu->device();
  auto host = [](const Tensor& t) { return t.CopyTo(Device::CPU()); };
  for (const auto& s : kShapes) {
    const uint32_t seed = 919 + static_cast<uint32_t>(s.batch * 100 + s.time);
    std::mt19937 rng(seed);
    LayerData d = MakeData(rng, s);
    const Shape out = {s.batch, s.time, s.units};
    LstmLayerCache cpu_cache, gpu_cache;
    Tensor y(out, DType::kFloat32);
    LstmLayerForward(*cpu, d.x, d.lengths, d.kernel, d.bias, &y, &cpu_cache);
    Tensor x = d.x.CopyTo(dev), k = d.kernel.CopyTo(dev), bias = d.bias.CopyTo(dev);
    Tensor y_g(out, DType::kFloat32, dev);
    LstmLayerForward(*gpu, x, d.lengths, k, bias, &y_g, &gpu_cache);
    gpu->Synchronize();
    EXPECT_TRUE(AllClose(host(y_g), y, kAbsTol, kRelTol, "y", seed));

    Tensor dx(d.x.shape(), DType::kFloat32);
    Tensor dk = Tensor::Zeros(d.kernel.shape(), DType::kFloat32),
           db = Tensor::Zeros(d.bias.shape(), DType::kFloat32);
    LstmLayerBackward(*cpu, d.x, d.lengths, d.kernel, d.bias, y, d.dy, cpu_cache, &dx, &dk, &db);
    Tensor dx_g(d.x.shape(), DType::kFloat32, dev);
    Tensor dk_g = Tensor::Zeros(d.kernel.shape(), DType::kFloat32, dev),
           db_g = Tensor::Zeros(d.bias.shape(), DType::kFloat32, dev);
    LstmLayerBackward(*gpu, x, d.lengths, k, bias, y_g, d.dy.CopyTo(dev), gpu_cache, &dx_g,
                      &dk_g, &db_g);
    gpu->Synchronize();
    EXPECT_TRUE(AllClose(host(dx_g), dx, kAbsTol, kRelTol, "dx", seed));
    EXPECT_TRUE(AllClose(host(dk_g), dk, kGradAbsTol, kGradRelTol, "dkernel", seed));
    EXPECT_TRUE(AllClose(host(db_g), db, kGradAbsTol, kGradRelTol, "dbias", seed));
  }
}

}  // namespace
}  // namespace melody
