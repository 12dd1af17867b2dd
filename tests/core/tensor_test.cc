// Tensor, Context and Philox basics; CUDA round trips skip without a device.
#include <cmath>
#include <set>

#include "core/context.h"
#include "core/philox.h"
#include "core/tensor.h"
#include "tests/test_util.h"

namespace melody {
namespace {

TEST(Tensor, ShapeDtypeAndTypedAccess) {
  Tensor t = Tensor::Zeros({2, 3}, DType::kFloat32);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_EQ(t.data<float>()[5], 0.0f);
  EXPECT_THROW(t.data<int64_t>(), Error);
  EXPECT_THROW(t.Reshaped({4, 2}), Error);
  Tensor r = t.Reshaped({3, 2});
  r.data<float>()[0] = 7;
  EXPECT_EQ(t.data<float>()[0], 7.0f);  // reshape shares the buffer
  Tensor c = t.Clone();
  c.data<float>()[0] = 1;
  EXPECT_EQ(t.data<float>()[0], 7.0f);  // clone does not
}

TEST(Tensor, CudaRoundTrip) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  Tensor host = Tensor::FromVector({3}, {1, 2, 3});
  Tensor dev = host.CopyTo(Device::CUDA(0));
  EXPECT_EQ(dev.ToVector(), host.ToVector());
}

TEST(Context, CpuThreadsAndUnavailableGpuIsAClearError) {
  auto cpu = Context::CreateCpu(3);
  EXPECT_EQ(cpu->num_threads(), 3);
  EXPECT_TRUE(cpu->is_cpu());
  if (CudaDeviceCount() == 0) {
    try {
      Context::CreateCuda(0);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
    }
  }
}

TEST(Philox, KnownAnswerAndUniformRange) {
  // Known-answer vector of the Random123 distribution for philox4x32-10 with zero
  // counter and zero key.
  Philox4x32 out = Philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(out.v[0], 0x6627e8d5u);
  EXPECT_EQ(out.v[1], 0xe169c58du);
  EXPECT_EQ(out.v[2], 0xbc57ac4cu);
  EXPECT_EQ(out.v[3], 0x9b00dbd8u);
  double sum = 0;
  std::set<float> distinct;
  for (uint64_t i = 0; i < 10000; ++i) {
    float u = PhiloxUniform(42, 1, 2, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    distinct.insert(u);
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
  EXPECT_GT(distinct.size(), 9900u);
  EXPECT_NE(PhiloxUniform(42, 1, 2, 0), PhiloxUniform(43, 1, 2, 0));
}

}  // namespace
}  // namespace melody
