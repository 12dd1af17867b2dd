#include "models/eval_metrics.h"

#include <cmath>

#include "core/error.h"

namespace melody {

EvalMetricsAccumulator::EvalMetricsAccumulator(int num_classes) : num_classes_(num_classes) {
  Reset();
}

void EvalMetricsAccumulator::Reset() {
  total_ = CrossEntropyCounts{};
  total_.label_count.assign(num_classes_, 0);
  total_.correct_count.assign(num_classes_, 0);
  num_batches_ = 0;
}

void EvalMetricsAccumulator::Add(const CrossEntropyCounts& b) {
  MELODY_REQUIRE(static_cast<int>(b.label_count.size()) == num_classes_ &&
                 static_cast<int>(b.correct_count.size()) == num_classes_)
      << "eval metrics: batch has " << b.label_count.size() << " classes, expected "
      << num_classes_;
  total_.num_positions += b.num_positions;
  total_.loss_sum += b.loss_sum;
  total_.num_correct += b.num_correct;
  total_.num_event += b.num_event;
  total_.num_event_correct += b.num_event_correct;
  total_.num_no_event += b.num_no_event;
  total_.num_no_event_correct += b.num_no_event_correct;
  for (int c = 0; c < num_classes_; ++c) {
    total_.label_count[c] += b.label_count[c];
    total_.correct_count[c] += b.correct_count[c];
  }
  ++num_batches_;
}

EvalMetrics EvalMetricsAccumulator::Result() const {
  auto ratio = [](double num, double den) { return den == 0 ? 0.0 : num / den; };
  const auto& k = total_;
  EvalMetrics m;
  const double loss = ratio(k.loss_sum, static_cast<double>(k.num_positions));
  m.loss = static_cast<float>(loss);
  m.perplexity = static_cast<float>(std::exp(loss));
  m.accuracy = static_cast<float>(ratio(k.num_correct, k.num_positions));
  double per_class = 0;
  for (int c = 0; c < num_classes_; ++c) per_class += ratio(k.correct_count[c], k.label_count[c]);
  m.per_class_accuracy = num_classes_ > 0 ? static_cast<float>(per_class / num_classes_) : 0.0f;
  m.event_accuracy = static_cast<float>(ratio(k.num_event_correct, k.num_event));
  m.no_event_accuracy = static_cast<float>(ratio(k.num_no_event_correct, k.num_no_event));
  // num_steps == |P| for every melody encoder (model.md §5).
  m.loss_per_step = m.loss;
  m.perplexity_per_step = m.perplexity;
  return m;
}

}  // namespace melody
