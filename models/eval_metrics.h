// The eval job's streaming metrics (shared/spec/model.md §5.2), accumulated over the
// batches of one evaluation from the per-batch counts of the fused softmax cross-entropy.
// Sums are kept in double and integers; every ratio with a zero denominator is 0.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/softmax_cross_entropy.h"

namespace melody {

struct EvalMetrics {
  float loss = 0;                 // Σ ce / Σ |P|
  float perplexity = 0;           // exp(loss)
  float accuracy = 0;             // Σ correct / Σ |P|
  float per_class_accuracy = 0;   // mean over ALL classes of correct_c / count_c (0/0 := 0)
  float event_accuracy = 0;       // recall on labels != no-event
  float no_event_accuracy = 0;    // recall on labels == no-event
  float loss_per_step = 0;        // Σ ce / Σ num_steps (num_steps = |P| for melodies)
  float perplexity_per_step = 0;  // exp(loss_per_step)
};

class EvalMetricsAccumulator {
 public:
  explicit EvalMetricsAccumulator(int num_classes);
  // Adds one batch; throws melody::Error when its class count differs.
  void Add(const CrossEntropyCounts& batch);
  EvalMetrics Result() const;
  int64_t num_batches() const { return num_batches_; }
  void Reset();

 private:
  int num_classes_;
  int64_t num_batches_ = 0;
  CrossEntropyCounts total_;
};

}  // namespace melody
