// Fused softmax cross-entropy: fast CPU vs reference, finite-difference gradient of the
// double reference, hand-computed metrics (ties, no-event label, NaN ratios), label
// checks, and CUDA vs CPU (skipped without a GPU).
#include "kernels/softmax_cross_entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/device.h"
#include "kernels/stream_ops.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

struct Case {
  int64_t P, C;
  int no_event;
};

using kernel_test::AllClose;

// Normal(0, 2) logits [P, C] from a generator seeded with `seed`.
Tensor RandomLogits(int64_t P, int64_t C, uint32_t seed, DType dtype = DType::kFloat32) {
  return kernel_test::RandomNormal({P, C}, seed, 2.0, dtype);
}

template <typename Label>
Tensor RandomLabels(int64_t P, int64_t C, uint32_t seed) {
  std::mt19937 rng(seed + 1);
  Tensor t({P}, DTypeOf<Label>::value);
  for (int64_t i = 0; i < P; ++i) t.data<Label>()[i] = static_cast<Label>(rng() % C);
  return t;
}

void ExpectSameCounts(const CrossEntropyCounts& a, const CrossEntropyCounts& b) {
  EXPECT_EQ(a.num_positions, b.num_positions);
  EXPECT_EQ(a.num_correct, b.num_correct);
  EXPECT_EQ(a.num_event, b.num_event);
  EXPECT_EQ(a.num_event_correct, b.num_event_correct);
  EXPECT_EQ(a.num_no_event, b.num_no_event);
  EXPECT_EQ(a.num_no_event_correct, b.num_no_event_correct);
  EXPECT_EQ(a.label_count, b.label_count);
  EXPECT_EQ(a.correct_count, b.correct_count);
}

const Case kCases[] = {{1, 1, 0}, {1, 38, 0}, {5, 40, 36}, {33, 130, 0}, {257, 38, 0},
                       {1000, 40, 36}};

// Tolerances: the fast path and the float reference do the same float math in a
// different order (exp-sum, then scale vs exp(z − max − log sum)): 1e-6 absolute on the
// gradient (entries are ≤ 1/P) and 1e-5 relative on Σ ce.
TEST(SoftmaxCrossEntropyTest, FastCpuMatchesReference) {
  auto ctx = Context::CreateCpu(1);
  uint32_t seed = 1234;
  for (const Case& c : kCases) {
    for (bool int64_labels : {false, true}) {
      SCOPED_TRACE(testing::Message() << "P=" << c.P << " C=" << c.C << " seed=" << seed
                                      << " int64=" << int64_labels);
      Tensor logits = RandomLogits(c.P, c.C, seed);
      Tensor labels = int64_labels ? RandomLabels<int64_t>(c.P, c.C, seed)
                                   : RandomLabels<int32_t>(c.P, c.C, seed);
      Tensor fast_grad({c.P, c.C}, DType::kFloat32), ref_grad({c.P, c.C}, DType::kFloat32);
      CrossEntropyCounts fast = SoftmaxCrossEntropy(*ctx, logits, labels, c.no_event, &fast_grad);
      CrossEntropyCounts ref =
          reference::SoftmaxCrossEntropy<float>(logits, labels, c.no_event, &ref_grad);
      ExpectSameCounts(fast, ref);
      EXPECT_NEAR(fast.loss_sum, ref.loss_sum, 1e-5 * std::abs(ref.loss_sum) + 1e-6);
      ASSERT_TRUE(AllClose(fast_grad, ref_grad, 1e-6, 0, "dlogits", seed));
      // Without a gradient the counts and loss are the same.
      CrossEntropyCounts no_grad = SoftmaxCrossEntropy(*ctx, logits, labels, c.no_event, nullptr);
      ExpectSameCounts(no_grad, fast);
      EXPECT_EQ(no_grad.loss_sum, fast.loss_sum);
      ++seed;
    }
  }
}

// Central differences of loss = Σ ce / P w.r.t. every logit, on the double reference.
TEST(SoftmaxCrossEntropyTest, GradientMatchesFiniteDifferences) {
  const uint32_t seed = 77;
  for (const Case& c : {Case{1, 3, 0}, Case{4, 7, 2}, Case{9, 40, 36}}) {
    SCOPED_TRACE(testing::Message() << "P=" << c.P << " C=" << c.C << " seed=" << seed);
    Tensor logits = RandomLogits(c.P, c.C, seed, DType::kFloat64);
    Tensor labels = RandomLabels<int64_t>(c.P, c.C, seed);
    Tensor grad({c.P, c.C}, DType::kFloat64);
    reference::SoftmaxCrossEntropy<double>(logits, labels, c.no_event, &grad);
    // The loss is the mean: loss_sum / P.
    auto loss = [&] {
      return reference::SoftmaxCrossEntropy<double>(logits, labels, c.no_event, nullptr)
                 .loss_sum /
             static_cast<double>(c.P);
    };
    ASSERT_TRUE(kernel_test::GradientClose(logits, grad, loss, "dlogits", /*h=*/1e-5,
                                           /*abs_tol=*/1e-9, /*rel_tol=*/1e-6));
  }
}

TEST(SoftmaxCrossEntropyTest, HandComputedMetrics) {
  auto ctx = Context::CreateCpu(1);
  // 4 positions, 3 classes, no-event label 2.
  //  row 0: tie between classes 0 and 1 -> argmax 0 (lowest index); label 0: correct event
  //  row 1: argmax 2, label 2: correct no-event
  //  row 2: argmax 1, label 2: wrong no-event
  //  row 3: argmax 2, label 1: wrong event
  Tensor logits = Tensor::FromVector({4, 3}, {1, 1, 0, 0, 0, 3, 0, 2, 1, -1, 0, 5});
  Tensor labels({4}, DType::kInt32);
  const int32_t y[4] = {0, 2, 2, 1};
  for (int i = 0; i < 4; ++i) labels.data<int32_t>()[i] = y[i];
  CrossEntropyCounts k = SoftmaxCrossEntropy(*ctx, logits, labels, 2, nullptr);
  EXPECT_EQ(k.num_positions, 4);
  EXPECT_EQ(k.num_correct, 2);
  EXPECT_EQ(k.num_event, 2);
  EXPECT_EQ(k.num_event_correct, 1);
  EXPECT_EQ(k.num_no_event, 2);
  EXPECT_EQ(k.num_no_event_correct, 1);
  EXPECT_EQ(k.label_count, (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(k.correct_count, (std::vector<int64_t>{1, 0, 1}));
  auto ce = [](std::vector<double> z, int label) {
    double s = 0;
    for (double v : z) s += std::exp(v);
    return std::log(s) - z[label];
  };
  const double expected = ce({1, 1, 0}, 0) + ce({0, 0, 3}, 2) + ce({0, 2, 1}, 2) + ce({-1, 0, 5}, 1);
  EXPECT_NEAR(k.loss_sum, expected, 1e-5);
  TrainMetrics m = TrainMetricsFromCounts(k);
  EXPECT_NEAR(m.loss, expected / 4, 1e-6);
  EXPECT_NEAR(m.perplexity, std::exp(expected / 4), 1e-4);
  EXPECT_FLOAT_EQ(m.accuracy, 0.5f);
  EXPECT_FLOAT_EQ(m.event_accuracy, 0.5f);
  EXPECT_FLOAT_EQ(m.no_event_accuracy, 0.5f);
  EXPECT_EQ(m.loss_per_step, m.loss);

  // Only no-event labels: event accuracy is 0/0 = NaN in the train graph.
  for (int i = 0; i < 4; ++i) labels.data<int32_t>()[i] = 2;
  m = TrainMetricsFromCounts(SoftmaxCrossEntropy(*ctx, logits, labels, 2, nullptr));
  EXPECT_TRUE(std::isnan(m.event_accuracy));
  EXPECT_FLOAT_EQ(m.no_event_accuracy, 0.5f);
}

TEST(SoftmaxCrossEntropyTest, GradientRowsSumToZeroAndLabelIsNegative) {
  auto ctx = Context::CreateCpu(1);
  Tensor logits = RandomLogits(6, 10, 5);
  Tensor labels = RandomLabels<int32_t>(6, 10, 5);
  Tensor grad({6, 10}, DType::kFloat32);
  SoftmaxCrossEntropy(*ctx, logits, labels, 0, &grad);
  for (int p = 0; p < 6; ++p) {
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += grad.data<float>()[p * 10 + c];
    EXPECT_NEAR(sum, 0.0, 1e-7);
    EXPECT_LT(grad.data<float>()[p * 10 + labels.data<int32_t>()[p]], 0.0f);
  }
}

TEST(SoftmaxCrossEntropyTest, RejectsBadArguments) {
  auto ctx = Context::CreateCpu(1);
  Tensor logits = RandomLogits(3, 4, 9);
  Tensor labels({3}, DType::kInt64);
  labels.data<int64_t>()[0] = 0;
  labels.data<int64_t>()[1] = 4;  // out of range
  labels.data<int64_t>()[2] = 1;
  try {
    SoftmaxCrossEntropy(*ctx, logits, labels, 0, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 4 at position 1 outside [0, 4)"), std::string::npos)
        << e.what();
  }
  labels.data<int64_t>()[1] = -1;
  EXPECT_THROW(reference::SoftmaxCrossEntropy<float>(logits, labels, 0, nullptr), Error);
  Tensor short_labels({2}, DType::kInt64);
  EXPECT_THROW(SoftmaxCrossEntropy(*ctx, logits, short_labels, 0, nullptr), Error);
  Tensor float_labels({3}, DType::kFloat32);
  EXPECT_THROW(SoftmaxCrossEntropy(*ctx, logits, float_labels, 0, nullptr), Error);
  Tensor bad_grad({3, 5}, DType::kFloat32);
  labels.data<int64_t>()[1] = 1;
  EXPECT_THROW(SoftmaxCrossEntropy(*ctx, logits, labels, 0, &bad_grad), Error);
}

// CUDA vs CPU: counts equal; Σ ce within 1e-5 relative (device expf/logf may differ by an
// ulp); gradient within 1e-6 absolute.
TEST(SoftmaxCrossEntropyTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(1);
  auto gpu = Context::CreateCuda(0);
  uint32_t seed = 4321;
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << "P=" << c.P << " C=" << c.C << " seed=" << seed);
    Tensor logits = RandomLogits(c.P, c.C, seed);
    Tensor labels = RandomLabels<int64_t>(c.P, c.C, seed++);
    Tensor cpu_grad({c.P, c.C}, DType::kFloat32);
    CrossEntropyCounts want = SoftmaxCrossEntropy(*cpu, logits, labels, c.no_event, &cpu_grad);
    Tensor gpu_grad({c.P, c.C}, DType::kFloat32, gpu->device());
    CrossEntropyCounts got = SoftmaxCrossEntropy(*gpu, CopyToContext(*gpu, logits),
                                                 CopyToContext(*gpu, labels), c.no_event, &gpu_grad);
    ExpectSameCounts(got, want);
    EXPECT_NEAR(got.loss_sum, want.loss_sum, 1e-5 * std::abs(want.loss_sum) + 1e-6);
    ASSERT_TRUE(AllClose(gpu_grad.CopyTo(Device::CPU()), cpu_grad, 1e-6, 0, "dlogits"));
  }
  Tensor logits = CopyToContext(*gpu, RandomLogits(3, 4, 1));
  Tensor labels({3}, DType::kInt32);
  for (int i = 0; i < 3; ++i) labels.data<int32_t>()[i] = i == 2 ? 9 : 0;
  EXPECT_THROW(SoftmaxCrossEntropy(*gpu, logits, CopyToContext(*gpu, labels), 0, nullptr), Error);
}

}  // namespace
}  // namespace melody
