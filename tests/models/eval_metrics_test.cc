// Streaming eval metrics over batches (model.md §5.2), hand-computed.
#include "models/eval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/context.h"
#include "core/error.h"

namespace melody {
namespace {

Tensor Labels(std::vector<int32_t> v) {
  Tensor t({static_cast<int64_t>(v.size())}, DType::kInt32);
  for (size_t i = 0; i < v.size(); ++i) t.data<int32_t>()[i] = v[i];
  return t;
}

TEST(EvalMetricsTest, AccumulatesOverBatches) {
  auto ctx = Context::CreateCpu(1);
  // 3 classes, no-event label 0. Batch 1: predictions 1, 0 (labels 1, 2);
  // batch 2: predictions 2, 2, 0 (labels 2, 0, 0). Class 1: 1/1, class 2: 1/2, class 0: 1/2.
  Tensor l1 = Tensor::FromVector({2, 3}, {0, 5, 1, 3, 0, 0});
  Tensor l2 = Tensor::FromVector({3, 3}, {0, 1, 4, 0, 1, 2, 7, 1, 1});
  EvalMetricsAccumulator acc(3);
  const CrossEntropyCounts b1 = SoftmaxCrossEntropy(*ctx, l1, Labels({1, 2}), 0, nullptr);
  const CrossEntropyCounts b2 = SoftmaxCrossEntropy(*ctx, l2, Labels({2, 0, 0}), 0, nullptr);
  acc.Add(b1);
  acc.Add(b2);
  EXPECT_EQ(acc.num_batches(), 2);
  const EvalMetrics m = acc.Result();
  const double loss = (b1.loss_sum + b2.loss_sum) / 5;
  EXPECT_NEAR(m.loss, loss, 1e-6);
  EXPECT_NEAR(m.perplexity, std::exp(loss), 1e-5);
  EXPECT_FLOAT_EQ(m.accuracy, 3.0f / 5);
  EXPECT_FLOAT_EQ(m.per_class_accuracy, (0.5f + 1.0f + 0.5f) / 3);
  EXPECT_FLOAT_EQ(m.event_accuracy, 2.0f / 3);
  EXPECT_FLOAT_EQ(m.no_event_accuracy, 1.0f / 2);
  EXPECT_EQ(m.loss_per_step, m.loss);
}

TEST(EvalMetricsTest, AbsentClassesCountZeroAndEmptyRatiosAreZero) {
  auto ctx = Context::CreateCpu(1);
  // 4 classes, only class 1 occurs, always right: per-class accuracy = (0 + 1 + 0 + 0) / 4.
  Tensor logits = Tensor::FromVector({2, 4}, {0, 3, 0, 0, 1, 2, 0, 0});
  EvalMetricsAccumulator acc(4);
  acc.Add(SoftmaxCrossEntropy(*ctx, logits, Labels({1, 1}), 0, nullptr));
  EvalMetrics m = acc.Result();
  EXPECT_FLOAT_EQ(m.per_class_accuracy, 0.25f);
  EXPECT_EQ(m.no_event_accuracy, 0.0f);  // no no-event label: 0, not NaN
  EXPECT_FLOAT_EQ(m.event_accuracy, 1.0f);
  acc.Reset();
  m = acc.Result();
  EXPECT_EQ(m.loss, 0.0f);
  EXPECT_EQ(m.accuracy, 0.0f);
  EXPECT_THROW(acc.Add(SoftmaxCrossEntropy(*ctx, Tensor::FromVector({1, 3}, {0, 0, 1}),
                                           Labels({2}), 0, nullptr)),
               Error);
}

}  // namespace
}  // namespace melody
