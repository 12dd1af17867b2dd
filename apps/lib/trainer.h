// One training step of shared/spec/training.md §3 on a device: forward and backward with
// dropout, the non-finite-loss check, per-tensor clipping, the Adam update in TF's float32
// form, the power accumulators and global_step. The state (weights, Adam slots, powers,
// step) is exactly what a training checkpoint holds (models/model_checkpoint.h), so a
// restored trainer continues bit for bit.
//
// Dropout masks come from Philox keyed by (seed, global step, layer), the data order from
// (seed, global step) (apps/lib/train_data.h): nothing depends on process history.
//
// Data-parallel (apps/lib/distributed.h): with a process group of N > 1 ranks, each rank
// steps on its slice of the global batch; the counts and the scaled gradients are summed
// over ranks before the NaN check, clipping and Adam, so every rank holds the same state.
#pragma once

#include <cstdint>
#include <memory>

#include "apps/lib/distributed.h"
#include "apps/lib/train_data.h"
#include "core/context.h"
#include "kernels/adam.h"
#include "models/melody_rnn_config.h"
#include "models/melody_rnn_model.h"
#include "models/model_checkpoint.h"
#include "models/parameters.h"

namespace melody {

struct TrainerOptions {
  float learning_rate = 0.001f;
  float clip_norm = 0;           // <= 0: no clipping
  float dropout_keep_prob = 1.0f;
  uint64_t seed = 0;             // dropout masks (and, outside, the data order)
};
TrainerOptions TrainerOptionsFrom(const ModelHParams& hparams, uint64_t seed);

// Where a batch sits in the global batch of a data-parallel step (dropout masks are keyed
// by global row and the global padded length). The default: the batch is the whole batch.
struct GlobalBatchPlace {
  uint64_t first_row = 0;
  int64_t global_length = 0;  // 0 = the batch's own padded length
};

struct TrainStepResult {
  CrossEntropyCounts counts;  // of the global batch (summed over ranks)
  TrainMetrics metrics;     // of the batch, with the weights before the update
  int64_t global_step = 0;  // after the update
  int64_t num_positions = 0;
};

class Trainer {
 public:
  Trainer(Context& ctx, const ModelLayout& layout, int no_event_label,
          const TrainerOptions& options);

  // Fresh variables (model.md §3.3 initialisers from Philox keyed by init_seed; Adam slots
  // 0; powers β1, β2; step 0).
  void InitializeFresh(uint64_t init_seed);
  // Every variable from a checkpoint (host tensors), copied onto the device.
  void Restore(const TrainingCheckpoint& checkpoint);
  // Model weights only (warm start, training.md §5.2); optimizer and step unchanged.
  void SetWeights(const Parameters& weights);
  // A host copy of the whole state, for saving.
  TrainingCheckpoint Snapshot() const;

  // One step on `batch` (host tensors). Throws melody::Error when the loss is NaN or Inf,
  // before any variable changes ("LossTensor is inf or nan ... at step N").
  TrainStepResult Step(const HostBatch& batch, const GlobalBatchPlace& place = {});

  // Makes every later Step a data-parallel step over `group` (a group of one: no effect).
  // The group must outlive the trainer.
  void SetProcessGroup(ProcessGroup* group);
  // Seconds spent summing gradients over ranks so far (0 without a group).
  double gradient_reduce_seconds() const { return reducer_ ? reducer_->seconds() : 0; }

  int64_t global_step() const { return state_.global_step; }
  // GEMM floating-point operations of one step over a batch with these lengths.
  MelodyRnnModel::FlopCount CountGemmFlops(const std::vector<int32_t>& lengths) const {
    return model_.CountGemmFlops(lengths);
  }
  const ModelLayout& layout() const { return model_.layout(); }
  const Parameters& weights() const { return state_.weights; }
  Context& context() { return ctx_; }

 private:
  Context& ctx_;
  MelodyRnnModel model_;
  TrainerOptions options_;
  TrainingCheckpoint state_;  // on ctx's device
  Parameters grads_;
  ProcessGroup* group_ = nullptr;
  std::unique_ptr<GradientReducer> reducer_;
};

}  // namespace melody
