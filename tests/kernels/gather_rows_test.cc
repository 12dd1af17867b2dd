// Row gather/scatter glue: valid-position rows, CPU vs reference, round trip, CUDA vs CPU.
#include "kernels/gather_rows.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/device.h"
#include "kernels/stream_ops.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

TEST(GatherRowsTest, ValidPositionRowsAreBatchMajor) {
  Tensor rows = ValidPositionRows({2, 0, 3}, 3);
  ASSERT_EQ(rows.dim(0), 5);
  const std::vector<int32_t> want = {0, 1, 6, 7, 8};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rows.data<int32_t>()[i], want[i]);
  EXPECT_THROW(ValidPositionRows({4}, 3), Error);
  EXPECT_THROW(ValidPositionRows({-1}, 3), Error);
}

TEST(GatherRowsTest, CpuMatchesReferenceAndRoundTrips) {
  auto ctx = Context::CreateCpu(1);
  std::mt19937 rng(3);
  const int64_t B = 3, T = 5, F = 7;
  Tensor x = kernel_test::RandomFloat(rng, {B, T, F});
  Tensor rows = ValidPositionRows({5, 1, 3}, T);
  const int64_t P = rows.dim(0);
  Tensor fast({P, F}, DType::kFloat32), ref({P, F}, DType::kFloat32);
  GatherRows(*ctx, x, rows, &fast);
  reference::GatherRows<float>(x, rows, &ref);
  EXPECT_EQ(fast.ToVector(), ref.ToVector());
  Tensor back({B, T, F}, DType::kFloat32), back_ref({B, T, F}, DType::kFloat32);
  ScatterRows(*ctx, fast, rows, &back);
  reference::ScatterRows<float>(fast, rows, &back_ref);
  EXPECT_EQ(back.ToVector(), back_ref.ToVector());
  const int lengths[3] = {5, 1, 3};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f) {
        const float want = t < lengths[b] ? x.data<float>()[(b * T + t) * F + f] : 0.0f;
        ASSERT_EQ(back.data<float>()[(b * T + t) * F + f], want);
      }
  // int64 labels [B, T] gathered as [P, 1].
  Tensor labels({B, T}, DType::kInt64);
  for (int64_t i = 0; i < B * T; ++i) labels.data<int64_t>()[i] = i * 10;
  Tensor picked({P, 1}, DType::kInt64);
  GatherRows(*ctx, labels, rows, &picked);
  EXPECT_EQ(picked.data<int64_t>()[5], 50);   // (b=1, t=0) = row 5
  EXPECT_EQ(picked.data<int64_t>()[6], 100);  // (b=2, t=0) = row 10
  // Add.
  Tensor y = x.Clone();
  AddInPlace(*ctx, x, &y);
  EXPECT_EQ(y.data<float>()[4], 2 * x.data<float>()[4]);
}

TEST(GatherRowsTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(1);
  auto gpu = Context::CreateCuda(0);
  std::mt19937 rng(4);
  Tensor x = kernel_test::RandomFloat(rng, {4, 9, 33});
  Tensor rows = ValidPositionRows({9, 0, 2, 7}, 9);
  const int64_t P = rows.dim(0);
  Tensor want({P, 33}, DType::kFloat32), got({P, 33}, DType::kFloat32, gpu->device());
  GatherRows(*cpu, x, rows, &want);
  Tensor grows = CopyToContext(*gpu, rows);
  GatherRows(*gpu, CopyToContext(*gpu, x), grows, &got);
  gpu->Synchronize();
  EXPECT_EQ(got.ToVector(), want.ToVector());
  Tensor back({4, 9, 33}, DType::kFloat32), gback({4, 9, 33}, DType::kFloat32, gpu->device());
  ScatterRows(*cpu, want, rows, &back);
  ScatterRows(*gpu, got, grows, &gback);
  gpu->Synchronize();
  EXPECT_EQ(gback.ToVector(), back.ToVector());
  // int32 and int64 labels [B, T] gathered as [P, 1].
  for (DType dtype : {DType::kInt32, DType::kInt64}) {
    Tensor labels({4, 9}, dtype);
    for (int64_t i = 0; i < 36; ++i) {
      if (dtype == DType::kInt32) labels.data<int32_t>()[i] = static_cast<int32_t>(i);
      else labels.data<int64_t>()[i] = i;
    }
    Tensor want_labels({P, 1}, dtype), got_labels({P, 1}, dtype, gpu->device());
    GatherRows(*cpu, labels, rows, &want_labels);
    GatherRows(*gpu, CopyToContext(*gpu, labels), grows, &got_labels);
    Tensor back_host(got_labels.shape(), dtype);
    CopyOnStream(*gpu, got_labels, &back_host);
    EXPECT_EQ(std::memcmp(back_host.raw_data(), want_labels.raw_data(), want_labels.nbytes()), 0);
  }
  Tensor y = CopyToContext(*gpu, x);
  AddInPlace(*gpu, CopyToContext(*gpu, x), &y);
  gpu->Synchronize();
  std::vector<float> sum = y.ToVector();
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(sum[i], 2 * x.data<float>()[i]);
}

}  // namespace
}  // namespace melody
