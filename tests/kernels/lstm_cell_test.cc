// Tests for kernels/lstm_cell.h: fast CPU vs reference (gates and full step, forward and
// backward), finite-difference gradients of the reference in double, a hand-computed
// value of the forget bias, CUDA vs CPU (skipped without a GPU).
#include "kernels/lstm_cell.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/context.h"
#include "core/device.h"
#include "core/error.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::Random;

struct CellShape {
  int64_t batch, input, units;
};
const CellShape kShapes[] = {{1, 1, 1}, {1, 38, 17}, {5, 74, 33}, {33, 121, 128}, {128, 130, 128}};

// Fast path: sgemm order + FastExp-based activations (~3e-7 abs error, fast_math.h) vs the
// reference's sequential float sums and std::exp/tanh. Pre-activations are sums of up to
// 258 terms of size ~0.1, so differences are a few 1e-6 at most.
constexpr double kAbsTol = 2e-5, kRelTol = 1e-4;

struct CellData {
  Tensor x, c_prev, h_prev, kernel, bias, dh, dc;
};

CellData MakeData(std::mt19937& rng, const CellShape& s) {
  CellData d;
  d.x = Random(rng, {s.batch, s.input});
  d.c_prev = Random(rng, {s.batch, s.units}, 2.0);
  d.h_prev = Random(rng, {s.batch, s.units});
  // Glorot-like scale keeps the gates away from saturation, where they test nothing.
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.input + s.units));
  d.kernel = Random(rng, {s.input + s.units, 4 * s.units}, 2.0 * scale);
  d.bias = Random(rng, {4 * s.units}, 0.5);
  d.dh = Random(rng, {s.batch, s.units});
  d.dc = Random(rng, {s.batch, s.units});
  return d;
}

TEST(LstmCellTest, ForgetBiasIsAddedAtRunTime) {
  // B = 1, I = 1, N = 1, all weights and the bias zero: z = 0, so
  // c = c_prev·σ(1) + σ(0)·tanh(0) = c_prev·σ(1), h = tanh(c)·σ(0).
  auto ctx = Context::CreateCpu();
  Tensor x = Tensor::FromVector({1, 1}, {0.7f});
  Tensor c_prev = Tensor::FromVector({1, 1}, {0.5f});
  Tensor h_prev = Tensor::FromVector({1, 1}, {-0.3f});
  Tensor kernel = Tensor::Zeros({2, 4}, DType::kFloat32);
  Tensor bias = Tensor::Zeros({4}, DType::kFloat32);
  Tensor gates({1, 4}, DType::kFloat32), c({1, 1}, DType::kFloat32), h({1, 1}, DType::kFloat32);
  LstmCellForward(*ctx, x, c_prev, h_prev, kernel, bias, &gates, &c, &h);
  const double sig1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_NEAR(c.data<float>()[0], 0.5 * sig1, 1e-6);
  EXPECT_NEAR(h.data<float>()[0], std::tanh(0.5 * sig1) * 0.5, 1e-6);
  EXPECT_NEAR(gates.data<float>()[2], sig1, 1e-6);  // saved f gate includes the +1
}

TEST(LstmCellTest, FastCpuMatchesReference) {
  auto ctx = Context::CreateCpu();
  for (const auto& s : kShapes) {
    const uint32_t seed = 17 + static_cast<uint32_t>(s.batch * 1000 + s.units);
    std::mt19937 rng(seed);
    CellData d = MakeData(rng, s);
    const Shape state = {s.batch, s.units}, gshape = {s.batch, 4 * s.units};
    Tensor g_f(gshape, DType::kFloat32), c_f(state, DType::kFloat32), h_f(state, DType::kFloat32);
    Tensor g_r(gshape, DType::kFloat32), c_r(state, DType::kFloat32), h_r(state, DType::kFloat32);
    LstmCellForward(*ctx, d.x, d.c_prev, d.h_prev, d.kernel, d.bias, &g_f, &c_f, &h_f);
    reference::LstmCellForward<float>(d.x, d.c_prev, d.h_prev, d.kernel, d.bias, &g_r, &c_r,
                                      &h_r);
    EXPECT_TRUE(AllClose(g_f, g_r, kAbsTol, kRelTol, "gates", seed));
    EXPECT_TRUE(AllClose(c_f, c_r, kAbsTol, kRelTol, "c", seed));
    EXPECT_TRUE(AllClose(h_f, h_r, kAbsTol, kRelTol, "h", seed));

    // Backward from the same saved values; dkernel/dbias start non-zero (accumulate).
    Tensor dk0 = Random(rng, d.kernel.shape()), db0 = Random(rng, d.bias.shape());
    Tensor dx_f(d.x.shape(), DType::kFloat32), dhp_f(state, DType::kFloat32),
        dcp_f(state, DType::kFloat32), dk_f = dk0.Clone(), db_f = db0.Clone();
    Tensor dx_r(d.x.shape(), DType::kFloat32), dhp_r(state, DType::kFloat32),
        dcp_r(state, DType::kFloat32), dk_r = dk0.Clone(), db_r = db0.Clone();
    LstmCellBackward(*ctx, d.x, d.c_prev, d.h_prev, d.kernel, g_r, c_r, d.dh, d.dc, &dx_f,
                     &dhp_f, &dcp_f, &dk_f, &db_f);
    reference::LstmCellBackward<float>(d.x, d.c_prev, d.h_prev, d.kernel, g_r, c_r, d.dh, d.dc,
                                       &dx_r, &dhp_r, &dcp_r, &dk_r, &db_r);
    EXPECT_TRUE(AllClose(dx_f, dx_r, kAbsTol, kRelTol, "dx", seed));
    EXPECT_TRUE(AllClose(dhp_f, dhp_r, kAbsTol, kRelTol, "dh_prev", seed));
    EXPECT_TRUE(AllClose(dcp_f, dcp_r, kAbsTol, kRelTol, "dc_prev", seed));
    // Weight gradients sum over up to 128 rows.
    EXPECT_TRUE(AllClose(dk_f, dk_r, 1e-4, kRelTol, "dkernel", seed));
    EXPECT_TRUE(AllClose(db_f, db_r, 1e-4, kRelTol, "dbias", seed));
  }
}

TEST(LstmCellTest, GatesFastCpuMatchesReferenceInPlaceAndWithoutUpstream) {
  auto ctx = Context::CreateCpu();
  const uint32_t seed = 4242;
  std::mt19937 rng(seed);
  const int64_t b = 9, n = 37;
  Tensor z = Random(rng, {b, 4 * n}, 3.0), c_prev = Random(rng, {b, n}, 2.0);
  Tensor g_f({b, 4 * n}, DType::kFloat32), c_f({b, n}, DType::kFloat32), h_f({b, n}, DType::kFloat32);
  Tensor g_r({b, 4 * n}, DType::kFloat32), c_r({b, n}, DType::kFloat32), h_r({b, n}, DType::kFloat32);
  LstmGatesForward(*ctx, z, c_prev, &g_f, &c_f, &h_f);
  reference::LstmGatesForward<float>(z, c_prev, &g_r, &c_r, &h_r);
  EXPECT_TRUE(AllClose(g_f, g_r, 1e-6, 1e-5, "gates", seed));
  EXPECT_TRUE(AllClose(c_f, c_r, 1e-6, 1e-5, "c", seed));
  EXPECT_TRUE(AllClose(h_f, h_r, 1e-6, 1e-5, "h", seed));
  Tensor dh = Random(rng, {b, n});
  // Upstream dc undefined (= zero); dz written over a copy of the gates (in place);
  // dc_prev aliasing nothing.
  Tensor dz_f = g_r.Clone(), dcp_f({b, n}, DType::kFloat32);
  Tensor dz_r({b, 4 * n}, DType::kFloat32), dcp_r({b, n}, DType::kFloat32);
  LstmGatesBackward(*ctx, dz_f, c_prev, c_r, dh, Tensor(), &dz_f, &dcp_f);
  reference::LstmGatesBackward<float>(g_r, c_prev, c_r, dh, Tensor(), &dz_r, &dcp_r);
  EXPECT_TRUE(AllClose(dz_f, dz_r, 1e-6, 1e-5, "dz (in place)", seed));
  EXPECT_TRUE(AllClose(dcp_f, dcp_r, 1e-6, 1e-5, "dc_prev", seed));
  // dc given and dc_prev aliasing it.
  Tensor dc = Random(rng, {b, n});
  Tensor dc_inout = dc.Clone();
  LstmGatesBackward(*ctx, g_r, c_prev, c_r, dh, dc_inout, &dz_f, &dc_inout);
  reference::LstmGatesBackward<float>(g_r, c_prev, c_r, dh, dc, &dz_r, &dcp_r);
  EXPECT_TRUE(AllClose(dz_f, dz_r, 1e-6, 1e-5, "dz", seed));
  EXPECT_TRUE(AllClose(dc_inout, dcp_r, 1e-6, 1e-5, "dc_prev (aliasing dc)", seed));
}

TEST(LstmCellTest, RejectsBadKernelShape) {
  auto ctx = Context::CreateCpu();
  Tensor x({2, 3}, DType::kFloat32), s({2, 4}, DType::kFloat32);
  Tensor kernel({6, 16}, DType::kFloat32), bias({16}, DType::kFloat32);  // should be [7, 16]
  Tensor g({2, 16}, DType::kFloat32), c({2, 4}, DType::kFloat32), h({2, 4}, DType::kFloat32);
  EXPECT_THROW(LstmCellForward(*ctx, x, s, s, kernel, bias, &g, &c, &h), Error);
}

// Loss L = Σ Gh ⊙ h + Σ Gc ⊙ c; its gradients are the backward with dh = Gh, dc = Gc.
TEST(LstmCellTest, ReferenceGradientMatchesFiniteDifferences) {
  const uint32_t seed = 2024;
  std::mt19937 rng(seed);
  const int64_t b = 3, in = 4, n = 5;
  Tensor x = Random<double>(rng, {b, in}), c_prev = Random<double>(rng, {b, n}, 2.0);
  Tensor h_prev = Random<double>(rng, {b, n}), kernel = Random<double>(rng, {in + n, 4 * n});
  Tensor bias = Random<double>(rng, {4 * n}, 0.5);
  Tensor gh = Random<double>(rng, {b, n}), gc = Random<double>(rng, {b, n});
  Tensor gates({b, 4 * n}, DType::kFloat64), c({b, n}, DType::kFloat64), h({b, n}, DType::kFloat64);
  auto loss = [&] {
    reference::LstmCellForward<double>(x, c_prev, h_prev, kernel, bias, &gates, &c, &h);
    return kernel_test::Dot(h, gh) + kernel_test::Dot(c, gc);
  };
  loss();
  Tensor dx({b, in}, DType::kFloat64), dhp({b, n}, DType::kFloat64), dcp({b, n}, DType::kFloat64);
  Tensor dk = Tensor::Zeros(kernel.shape(), DType::kFloat64);
  Tensor db = Tensor::Zeros({4 * n}, DType::kFloat64);
  reference::LstmCellBackward<double>(x, c_prev, h_prev, kernel, gates, c, gh, gc, &dx, &dhp,
                                      &dcp, &dk, &db);
  EXPECT_TRUE(kernel_test::GradientMatches(x, dx, loss, "dx"));
  EXPECT_TRUE(kernel_test::GradientMatches(h_prev, dhp, loss, "dh_prev"));
  EXPECT_TRUE(kernel_test::GradientMatches(c_prev, dcp, loss, "dc_prev"));
  EXPECT_TRUE(kernel_test::GradientMatches(kernel, dk, loss, "dkernel"));
  EXPECT_TRUE(kernel_test::GradientMatches(bias, db, loss, "dbias"));
}

TEST(LstmCellTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu();
  auto gpu = Context::CreateCuda(0);
  const Device dev = gpu->device();
  auto host = [](const Tensor& t) { return t.CopyTo(Device::CPU()); };
  for (const auto& s : kShapes) {
    const uint32_t seed = 31 + static_cast<uint32_t>(s.batch * 1000 + s.units);
    std::mt19937 rng(seed);
    CellData d = MakeData(rng, s);
    const Shape state = {s.batch, s.units}, gshape = {s.batch, 4 * s.units};
    Tensor g({gshape}, DType::kFloat32), c(state, DType::kFloat32), h(state, DType::kFloat32);
    LstmCellForward(*cpu, d.x, d.c_prev, d.h_prev, d.kernel, d.bias, &g, &c, &h);
    Tensor x = d.x.CopyTo(dev), cp = d.c_prev.CopyTo(dev), hp = d.h_prev.CopyTo(dev);
    Tensor k = d.kernel.CopyTo(dev), bias = d.bias.CopyTo(dev);
    Tensor g_g(gshape, DType::kFloat32, dev), c_g(state, DType::kFloat32, dev),
        h_g(state, DType::kFloat32, dev);
    LstmCellForward(*gpu, x, cp, hp, k, bias, &g_g, &c_g, &h_g);
    gpu->Synchronize();
    EXPECT_TRUE(AllClose(host(g_g), g, kAbsTol, kRelTol, "gates", seed));
    EXPECT_TRUE(AllClose(host(c_g), c, kAbsTol, kRelTol, "c", seed));
    EXPECT_TRUE(AllClose(host(h_g), h, kAbsTol, kRelTol, "h", seed));

    Tensor dx(d.x.shape(), DType::kFloat32), dhp(state, DType::kFloat32),
        dcp(state, DType::kFloat32);
    Tensor dk = Tensor::Zeros(d.kernel.shape(), DType::kFloat32),
           db = Tensor::Zeros(d.bias.shape(), DType::kFloat32);
    LstmCellBackward(*cpu, d.x, d.c_prev, d.h_prev, d.kernel, g, c, d.dh, d.dc, &dx, &dhp, &dcp,
                     &dk, &db);
    Tensor dx_g(d.x.shape(), DType::kFloat32, dev), dhp_g(state, DType::kFloat32, dev),
        dcp_g(state, DType::kFloat32, dev);
    Tensor dk_g = Tensor::Zeros(d.kernel.shape(), DType::kFloat32, dev),
           db_g = Tensor::Zeros(d.bias.shape(), DType::kFloat32, dev);
    LstmCellBackward(*gpu, x, cp, hp, k, g.CopyTo(dev), c.CopyTo(dev), d.dh.CopyTo(dev),
                     d.dc.CopyTo(dev), &dx_g, &dhp_g, &dcp_g, &dk_g, &db_g);
    gpu->Synchronize();
    EXPECT_TRUE(AllClose(host(dx_g), dx, kAbsTol, kRelTol, "dx", seed));
    EXPECT_TRUE(AllClose(host(dhp_g), dhp, kAbsTol, kRelTol, "dh_prev", seed));
    EXPECT_TRUE(AllClose(host(dcp_g), dcp, kAbsTol, kRelTol, "dc_prev", seed));
    EXPECT_TRUE(AllClose(host(dk_g), dk, 1e-4, kRelTol, "dkernel", seed));
    EXPECT_TRUE(AllClose(host(db_g), db, 1e-4, kRelTol, "dbias", seed));
  }
}

}  // namespace
}  // namespace melody
