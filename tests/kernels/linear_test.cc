// Tests for kernels/linear.h: fast CPU vs reference, finite-difference gradients of the
// reference in double, CUDA vs CPU (skipped without a GPU).
#include "kernels/linear.h"

#include <gtest/gtest.h>

#include <random>

#include "core/context.h"
#include "core/device.h"
#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::Random;

struct LinearShape {
  Shape x;  // [..., K]
  int64_t out;
};

// Includes 1-row, 1-wide and non-multiple-of-32 sizes, and a rank-3 input.
const LinearShape kShapes[] = {
    {{1, 1}, 1}, {{1, 38}, 17}, {{7, 33}, 65}, {{3, 5, 38}, 74}, {{64, 130}, 128},
    {{129, 121}, 38}};

// float32 sums of up to 130 products of values in [-1, 1]: rounding differs between
// sgemm's blocked order and the reference's sequential order by a few ulp of the sum.
constexpr double kAbsTol = 1e-5, kRelTol = 1e-5;

TEST(LinearTest, FastCpuMatchesReference) {
  auto ctx = Context::CreateCpu();
  for (const auto& s : kShapes) {
    const uint32_t seed = 1234 + static_cast<uint32_t>(s.out);
    std::mt19937 rng(seed);
    const int64_t k = s.x.back();
    Tensor x = Random(rng, s.x), w = Random(rng, {k, s.out}), b = Random(rng, {s.out});
    Shape y_shape = s.x;
    y_shape.back() = s.out;
    for (bool with_bias : {true, false}) {
      Tensor bias = with_bias ? b : Tensor();
      Tensor y_fast(y_shape, DType::kFloat32), y_ref(y_shape, DType::kFloat32);
      LinearForward(*ctx, x, w, bias, &y_fast);
      reference::LinearForward<float>(x, w, bias, &y_ref);
      EXPECT_TRUE(AllClose(y_fast, y_ref, kAbsTol, kRelTol, "y", seed));
    }
    Tensor dy = Random(rng, y_shape);
    for (GradMode mode : {GradMode::kOverwrite, GradMode::kAccumulate}) {
      // Start from the same non-zero contents so accumulate is visible.
      Tensor dx0 = Random(rng, s.x), dw0 = Random(rng, {k, s.out}), db0 = Random(rng, {s.out});
      Tensor dx_f = dx0.Clone(), dw_f = dw0.Clone(), db_f = db0.Clone();
      Tensor dx_r = dx0.Clone(), dw_r = dw0.Clone(), db_r = db0.Clone();
      LinearBackward(*ctx, x, w, dy, &dx_f, &dw_f, &db_f, mode);
      reference::LinearBackward<float>(x, w, dy, &dx_r, &dw_r, &db_r, mode);
      EXPECT_TRUE(AllClose(dx_f, dx_r, kAbsTol, kRelTol, "dx", seed));
      EXPECT_TRUE(AllClose(dw_f, dw_r, 1e-4, kRelTol, "dw", seed));  // sums over up to 129 rows
      EXPECT_TRUE(AllClose(db_f, db_r, 1e-4, kRelTol, "db", seed));
    }
  }
}

TEST(LinearTest, AccumulateAddsToOverwrite) {
  auto ctx = Context::CreateCpu();
  std::mt19937 rng(7);
  Tensor x = Random(rng, {4, 6}), w = Random(rng, {6, 3}), dy = Random(rng, {4, 3});
  Tensor dw_over({6, 3}, DType::kFloat32), dw_acc = Random(rng, {6, 3});
  Tensor dw_start = dw_acc.Clone();
  LinearBackward(*ctx, x, w, dy, nullptr, &dw_over, nullptr, GradMode::kOverwrite);
  LinearBackward(*ctx, x, w, dy, nullptr, &dw_acc, nullptr, GradMode::kAccumulate);
  for (int64_t i = 0; i < 18; ++i)
    EXPECT_NEAR(dw_acc.data<float>()[i], dw_start.data<float>()[i] + dw_over.data<float>()[i],
                1e-6);
}

TEST(LinearTest, RejectsMismatchedShapes) {
  auto ctx = Context::CreateCpu();
  Tensor x({2, 3}, DType::kFloat32), w({4, 5}, DType::kFloat32), y({2, 5}, DType::kFloat32);
  EXPECT_THROW(LinearForward(*ctx, x, w, Tensor(), &y), Error);
  Tensor w_ok({3, 5}, DType::kFloat32), y_bad({2, 4}, DType::kFloat32);
  EXPECT_THROW(LinearForward(*ctx, x, w_ok, Tensor(), &y_bad), Error);
}

// Loss L = Σ G ⊙ y; its gradients are LinearBackward with dy = G.
TEST(LinearTest, ReferenceGradientMatchesFiniteDifferences) {
  const uint32_t seed = 99;
  std::mt19937 rng(seed);
  Tensor x = Random<double>(rng, {2, 3, 4}), w = Random<double>(rng, {4, 5});
  Tensor b = Random<double>(rng, {5}), g = Random<double>(rng, {2, 3, 5});
  Tensor y({2, 3, 5}, DType::kFloat64);
  auto loss = [&] {
    reference::LinearForward<double>(x, w, b, &y);
    return kernel_test::Dot(y, g);
  };
  Tensor dx(x.shape(), DType::kFloat64), dw(w.shape(), DType::kFloat64), db({5}, DType::kFloat64);
  reference::LinearBackward<double>(x, w, g, &dx, &dw, &db, GradMode::kOverwrite);
  EXPECT_TRUE(kernel_test::GradientMatches(x, dx, loss, "dx"));
  EXPECT_TRUE(kernel_test::GradientMatches(w, dw, loss, "dw"));
  EXPECT_TRUE(kernel_test::GradientMatches(b, db, loss, "db"));
}

TEST(LinearTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu();
  auto gpu = Context::CreateCuda(0);
  const Device dev = gpu->device();
  for (const auto& s : kShapes) {
    const uint32_t seed = 555 + static_cast<uint32_t>(s.out);
    std::mt19937 rng(seed);
    const int64_t k = s.x.back();
    Tensor x = Random(rng, s.x), w = Random(rng, {k, s.out}), b = Random(rng, {s.out});
    Shape y_shape = s.x;
    y_shape.back() = s.out;
    Tensor y_cpu(y_shape, DType::kFloat32), y_gpu(y_shape, DType::kFloat32, dev);
    LinearForward(*cpu, x, w, b, &y_cpu);
    LinearForward(*gpu, x.CopyTo(dev), w.CopyTo(dev), b.CopyTo(dev), &y_gpu);
    gpu->Synchronize();
    EXPECT_TRUE(AllClose(y_gpu.CopyTo(Device::CPU()), y_cpu, kAbsTol, kRelTol, "y", seed));
    Tensor dy = Random(rng, y_shape);
    for (GradMode mode : {GradMode::kOverwrite, GradMode::kAccumulate}) {
      Tensor dx = Random(rng, s.x), dw = Random(rng, {k, s.out}), db = Random(rng, {s.out});
      Tensor dx_g = dx.CopyTo(dev), dw_g = dw.CopyTo(dev), db_g = db.CopyTo(dev);
      LinearBackward(*cpu, x, w, dy, &dx, &dw, &db, mode);
      LinearBackward(*gpu, x.CopyTo(dev), w.CopyTo(dev), dy.CopyTo(dev), &dx_g, &dw_g, &db_g,
                     mode);
      gpu->Synchronize();
      EXPECT_TRUE(AllClose(dx_g.CopyTo(Device::CPU()), dx, kAbsTol, kRelTol, "dx", seed));
      EXPECT_TRUE(AllClose(dw_g.CopyTo(Device::CPU()), dw, 1e-4, kRelTol, "dw", seed));
      EXPECT_TRUE(AllClose(db_g.CopyTo(Device::CPU()), db, 1e-4, kRelTol, "db", seed));
    }
  }
}

}  // namespace
}  // namespace melody
