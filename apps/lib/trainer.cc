#include "apps/lib/trainer.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace melody {

namespace {

constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f;

Parameters OnDevice(Context& ctx, const Parameters& host) { return host.CopyTo(ctx); }

Parameters ToHost(Context& ctx, const Parameters& p) {
  ctx.Synchronize();
  Parameters host(p.layout());
  for (size_t i = 0; i < p.size(); ++i) host.at(i).CopyFrom(p.at(i));
  return host;
}

std::string NonFiniteMessage(float loss, int64_t step) {
  std::ostringstream m;
  m << "LossTensor is inf or nan : Tensor had " << (std::isnan(loss) ? "NaN" : "Inf")
    << " values (loss " << loss << " at step " << step
    << "; the update was not applied and no checkpoint was written for it)";
  return m.str();
}

}  // namespace

TrainerOptions TrainerOptionsFrom(const ModelHParams& hparams, uint64_t seed) {
  TrainerOptions o;
  o.learning_rate = static_cast<float>(hparams.learning_rate);
  o.clip_norm = static_cast<float>(hparams.clip_norm);
  o.dropout_keep_prob = static_cast<float>(hparams.dropout_keep_prob);
  o.seed = seed;
  return o;
}

Trainer::Trainer(Context& ctx, const ModelLayout& layout, int no_event_label,
                 const TrainerOptions& options)
    : ctx_(ctx), model_(layout, no_event_label), options_(options) {
  state_.weights = Parameters(layout, ctx.device());
  state_.adam_m = Parameters(layout, ctx.device());
  state_.adam_s = Parameters(layout, ctx.device());
  grads_ = Parameters(layout, ctx.device());
}

void Trainer::InitializeFresh(uint64_t init_seed) {
  TrainingCheckpoint fresh;
  fresh.weights = Parameters(layout());
  fresh.weights.InitializeRandom(init_seed);
  fresh.adam_m = Parameters(layout());
  fresh.adam_s = Parameters(layout());
  fresh.adam_m.SetZero();
  fresh.adam_s.SetZero();
  fresh.beta1_power = kBeta1;
  fresh.beta2_power = kBeta2;
  fresh.global_step = 0;
  Restore(fresh);
}

void Trainer::Restore(const TrainingCheckpoint& c) {
  state_.weights = OnDevice(ctx_, c.weights);
  state_.adam_m = OnDevice(ctx_, c.adam_m);
  state_.adam_s = OnDevice(ctx_, c.adam_s);
  state_.beta1_power = c.beta1_power;
  state_.beta2_power = c.beta2_power;
  state_.global_step = c.global_step;
  ctx_.Synchronize();
}

void Trainer::SetWeights(const Parameters& weights) {
  state_.weights = OnDevice(ctx_, weights);
  ctx_.Synchronize();
}

TrainingCheckpoint Trainer::Snapshot() const {
  TrainingCheckpoint c;
  c.weights = ToHost(ctx_, state_.weights);
  c.adam_m = ToHost(ctx_, state_.adam_m);
  c.adam_s = ToHost(ctx_, state_.adam_s);
  c.beta1_power = state_.beta1_power;
  c.beta2_power = state_.beta2_power;
  c.global_step = state_.global_step;
  return c;
}

void Trainer::SetProcessGroup(ProcessGroup* group) {
  if (group == nullptr || group->size() == 1) {
    group_ = nullptr;
    reducer_.reset();
    return;
  }
  group_ = group;
  reducer_ = MakeGradientReducer(*group, ctx_);
}

TrainStepResult Trainer::Step(const HostBatch& host, const GlobalBatchPlace& place) {
  ModelBatch batch;
  batch.inputs = ctx_.is_cpu() ? host.inputs : host.inputs.CopyTo(ctx_.device());
  batch.labels = ctx_.is_cpu() ? host.labels : host.labels.CopyTo(ctx_.device());
  batch.lengths = host.lengths;
  DropoutSetting dropout;
  dropout.keep_prob = options_.dropout_keep_prob;
  dropout.seed = options_.seed;
  dropout.step = static_cast<uint64_t>(state_.global_step);
  dropout.row_offset = place.first_row;
  dropout.time_stride = place.global_length;
  ModelStepResult r = model_.Run(ctx_, state_.weights, batch, dropout, &grads_);
  if (group_ != nullptr) {
    // Local grads are of the local mean loss: weight them by the local share of the global
    // valid positions, so their sum is the gradient of the global mean loss.
    const CrossEntropyCounts global = AllReduceCounts(*group_, r.counts);
    const float factor = static_cast<float>(static_cast<double>(r.counts.num_positions) /
                                            static_cast<double>(global.num_positions));
    reducer_->SumScaled(ctx_, factor, &grads_);
    r.counts = global;
    r.metrics = TrainMetricsFromCounts(global);
  }
  // The reference's check_numerics fails the run on the loss of this batch; we check before
  // the update, so the weights (and every checkpoint) stay those of the last good step.
  // (Data-parallel: the global loss, so every rank stops at the same step.)
  if (!std::isfinite(r.metrics.loss)) {
    ctx_.Synchronize();
    MELODY_FAIL() << NonFiniteMessage(r.metrics.loss, state_.global_step + 1);
  }
  AdamOptions adam;
  adam.learning_rate = options_.learning_rate;
  adam.beta1 = kBeta1;
  adam.beta2 = kBeta2;
  for (size_t i = 0; i < grads_.size(); ++i) {
    Tensor* g = &grads_.at(i);
    if (options_.clip_norm > 0) ClipByNorm(ctx_, g, options_.clip_norm);
    AdamUpdate(ctx_, adam, state_.beta1_power, state_.beta2_power, *g, &state_.weights.at(i),
               &state_.adam_m.at(i), &state_.adam_s.at(i));
  }
  // TF updates the powers in the same step, in float32, after the variable updates.
  state_.beta1_power *= kBeta1;
  state_.beta2_power *= kBeta2;
  ++state_.global_step;
  TrainStepResult out;
  out.counts = r.counts;
  out.metrics = r.metrics;
  out.global_step = state_.global_step;
  out.num_positions = r.counts.num_positions;
  return out;
}

}  // namespace melody
