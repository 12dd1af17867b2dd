#include "apps/lib/train_job.h"

#include <glog/logging.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "apps/lib/checkpoint_saver.h"
#include "apps/lib/device_select.h"
#include "apps/lib/distributed.h"
#include "apps/lib/progress.h"
#include "apps/lib/run_config.h"
#include "apps/lib/tfjs_model.h"
#include "apps/lib/train_data.h"
#include "apps/lib/trainer.h"
#include "core/error.h"
#include "core/event_file.h"
#include "core/file_util.h"
#include "core/float_format.h"
#include "core/tf_checkpoint.h"
#include "core/proto_util.h"
#include "generator.pb.h"
#include "models/model_checkpoint.h"

namespace melody {

namespace {

using Clock = std::chrono::steady_clock;

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ValidateOptions(const TrainJobOptions& o) {
  MELODY_REQUIRE(!o.run_dir.empty()) << "--run_dir required";
  MELODY_REQUIRE(!o.sequence_example_file.empty()) << "--sequence_example_file required";
  MELODY_REQUIRE(o.summary_frequency >= 1) << "invalid every_n_iter=" << o.summary_frequency << ".";
  MELODY_REQUIRE(o.num_checkpoints >= 0)
      << "--num_checkpoints must be >= 0 (0 keeps every checkpoint), got " << o.num_checkpoints;
  MELODY_REQUIRE(o.num_training_steps >= 0)
      << "--num_training_steps must be >= 0 (0 = train until stopped), got "
      << o.num_training_steps;
  MELODY_REQUIRE(std::isfinite(o.save_checkpoint_secs) && o.save_checkpoint_secs >= 0)
      << "--save_checkpoint_secs must be >= 0, got " << o.save_checkpoint_secs;
  MELODY_REQUIRE(!o.warm_start_checkpoint.empty() + !o.warm_start_bundle_file.empty() +
                     !o.warm_start_tfjs_dir.empty() <= 1)
      << "give at most one of --warm_start_checkpoint, --warm_start_bundle_file and "
         "--warm_start_tfjs_dir";
}

// One trainer per train directory: a second one would interleave checkpoints and rewrite
// the state file under the first. Eval jobs and generation take no lock (they only read
// complete checkpoints). The lock goes away with the process, also on SIGKILL.
class TrainDirLock {
 public:
  explicit TrainDirLock(const std::string& train_dir) {
    const std::string path = JoinPath(train_dir, ".melody_rnn_train.lock");
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    MELODY_REQUIRE(fd_ >= 0) << path << ": cannot create the run lock";
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      close(fd_);
      MELODY_FAIL() << train_dir << " is in use by another melody_rnn_train (lock " << path
                    << "); one training job per run directory";
    }
  }
  ~TrainDirLock() { close(fd_); }

 private:
  int fd_ = -1;
};

// The reference's record count for the shuffle buffer (training.md §4.1 step 2).
void LogRecordCount(const std::vector<std::string>& files, int64_t total) {
  for (const std::string& f : files) LOG(INFO) << "Counting records in " << f << ".";
  if (total >= 100) {
    LOG(INFO) << "Number of records is at least 100.";
  } else {
    LOG(INFO) << "Total records: " << total;
  }
}

// The warm-start flag's value ("" when none is given).
std::string WarmStartSource(const TrainJobOptions& o) {
  return !o.warm_start_tfjs_dir.empty()     ? o.warm_start_tfjs_dir
         : !o.warm_start_bundle_file.empty() ? o.warm_start_bundle_file
                                             : o.warm_start_checkpoint;
}

TensorMap LoadWarmStartTensors(const TrainJobOptions& o) {
  if (!o.warm_start_tfjs_dir.empty())  // a magenta.js checkpoint; its Adam slots are ignored
    return ReadTfjsCheckpointTensors(ExpandUser(o.warm_start_tfjs_dir));
  if (!o.warm_start_bundle_file.empty()) {
    const std::string path = ExpandUser(o.warm_start_bundle_file);
    magenta::GeneratorBundle bundle;
    ParseProtoOrThrow(ReadFileToString(path), &bundle, path + ": not a generator bundle (.mag)");
    MELODY_REQUIRE(bundle.checkpoint_file_size() >= 1)
        << path << ": the bundle holds no checkpoint";
    return CanonicalizeCheckpointTensors(ParseCheckpointV1(bundle.checkpoint_file(0), path));
  }
  std::string prefix = ExpandUser(o.warm_start_checkpoint);
  if (IsDirectory(prefix)) {
    const std::string latest = LatestCheckpoint(prefix);
    MELODY_REQUIRE(!latest.empty()) << "--warm_start_checkpoint " << prefix
                                    << ": the directory has no checkpoint";
    prefix = latest;
  }
  return CanonicalizeCheckpointTensors(ReadCheckpointV2(prefix));
}

// Model weights only (training.md §5.2): global_step, Adam slots and powers are not taken.
Parameters WarmStartWeights(const TrainJobOptions& o, const ModelLayout& layout) {
  const std::string what = WarmStartSource(o);
  Parameters weights(layout);
  LoadParameters(LoadWarmStartTensors(o), &weights, what);
  return weights;
}

std::vector<std::pair<std::string, float>> TrainSummaryValues(const TrainMetrics& m) {
  return {{"loss", m.loss},
          {"metrics/perplexity", m.perplexity},
          {"metrics/accuracy", m.accuracy},
          {"metrics/event_accuracy", m.event_accuracy},
          {"metrics/no_event_accuracy", m.no_event_accuracy},
          {"metrics/loss_per_step", m.loss_per_step},
          {"metrics/perplexity_per_step", m.perplexity_per_step}};
}

// "global_step/sec" counters (training.md §4.2): the first firing only starts the clock.
class StepRateCounter {
 public:
  explicit StepRateCounter(int64_t period) : period_(period) {}
  // Returns true (and the rate) when it fires with a measurement.
  bool Update(int64_t step, double* rate) {
    const auto now = Clock::now();
    if (!started_) {
      started_ = true;
      last_step_ = step;
      last_time_ = now;
      return false;
    }
    if (step < last_step_ + period_) return false;
    const double dt = std::chrono::duration<double>(now - last_time_).count();
    *rate = dt > 0 ? static_cast<double>(step - last_step_) / dt : 0;
    last_step_ = step;
    last_time_ = now;
    return true;
  }

 private:
  int64_t period_;
  bool started_ = false;
  int64_t last_step_ = 0;
  Clock::time_point last_time_;
};

}  // namespace

std::string MetricsConsoleLine(float accuracy, int64_t global_step, float loss,
                               float perplexity) {
  return "Accuracy = " + NumpyFloat32Str(accuracy) + ", Global Step = " +
         std::to_string(global_step) + ", Loss = " + NumpyFloat32Str(loss) +
         ", Perplexity = " + NumpyFloat32Str(perplexity);
}

std::string TrainDirOf(const std::string& run_dir) {
  return JoinPath(ExpandUser(run_dir), "train");
}

TrainJobResult RunTrainJob(const TrainJobOptions& o) {
  ValidateOptions(o);
  // Data-parallel: every rank computes; rank 0 alone writes (lock, config, checkpoints,
  // events, console). A group of one is the single-process job.
  ProcessGroup* group = o.group != nullptr && o.group->size() > 1 ? o.group : nullptr;
  const int rank = group != nullptr ? group->rank() : 0;
  const int ranks = group != nullptr ? group->size() : 1;
  const bool root = rank == 0;
  const auto job_start = Clock::now();
  const std::vector<std::string> files = ExpandSequenceExampleGlob(o.sequence_example_file);
  const std::string train_dir = TrainDirOf(o.run_dir);

  // Config: the run directory's own, then the flags (run_config.h).
  const std::optional<RunConfig> stored = ReadRunConfig(train_dir);
  const MelodyRnnConfig config = ResolveRunConfig(stored, o.config_flags, RunConfigPath(train_dir));
  const ModelHParams hp = ModelHParamsFrom(config.hparams);
  LOG(INFO) << HParamsLogLine(config.hparams);
  for (const std::string& w : GraphConstructionWarnings(hp)) LOG(WARNING) << w;
  if (ranks > 1) {
    RowsOfRank(hp.batch_size, rank, ranks);  // batch_size >= ranks, before any work
    LOG(INFO) << "Data-parallel training: rank " << rank << " of " << ranks << ", rows "
              << RowsOfRank(hp.batch_size, rank, ranks).first << ".."
              << RowsOfRank(hp.batch_size, rank, ranks).last << " of each global batch of "
              << hp.batch_size;
  }
  if (root) MakeDirectories(train_dir);
  LOG(INFO) << "Train dir: " << train_dir;
  std::optional<TrainDirLock> lock;
  if (root) lock.emplace(train_dir);
  const ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, hp));

  const auto load_start = Clock::now();
  const SequenceExampleSet data =
      SequenceExampleSet::Load(files, config.sizes.input_size, config.sizes.num_classes);
  LogRecordCount(files, data.size() + data.empty_records_skipped());
  MELODY_REQUIRE(data.size() > 0) << "--sequence_example_file " << o.sequence_example_file
                                  << ": no record with at least one step";
  LOG(INFO) << "Loaded " << data.size() << " sequences (" << data.total_steps()
            << " steps) from " << files.size() << " file(s) into memory in "
            << std::chrono::duration<double>(Clock::now() - load_start).count() << " s"
            << (data.empty_records_skipped() > 0
                    ? "; skipped " + std::to_string(data.empty_records_skipped()) +
                          " record(s) of zero steps"
                    : "");

  std::unique_ptr<Context> ctx = group != nullptr
                                     ? CreateRankContext(o.device, o.num_threads, *group)
                                     : CreateContextForFlag(o.device, o.num_threads);
  Trainer trainer(*ctx, layout, config.sizes.no_event_label, TrainerOptionsFrom(hp, o.seed));
  trainer.SetProcessGroup(group);
  LOG(INFO) << "Starting training loop...";
  // Rank 0 picks the checkpoint; every rank restores that one.
  std::string resume = root ? CheckpointToResume(train_dir) : std::string();
  if (group != nullptr) group->Broadcast(&resume);
  if (!resume.empty()) {
    LOG(INFO) << "Restoring parameters from " << resume;
    trainer.Restore(TrainingCheckpointFromTensors(
        layout, CanonicalizeCheckpointTensors(ReadCheckpointV2(resume)), resume));
  } else {
    trainer.InitializeFresh(o.seed);
    if (!WarmStartSource(o).empty()) {
      trainer.SetWeights(WarmStartWeights(o, layout));
      LOG(INFO) << "Warm-started the model weights from " << WarmStartSource(o);
    }
  }
  // Every rank has read the run config and the checkpoint before rank 0 rewrites them.
  if (group != nullptr) group->Barrier();
  // Stored once the run is known to start (and refreshed on resume: batch size, learning
  // rate may change between sessions; the shape cannot).
  if (root) WriteRunConfig(train_dir, UpdatedRunConfig(stored, o.config_flags, config));

  TrainJobResult result;
  result.num_ranks = ranks;
  result.start_step = trainer.global_step();
  result.last_checkpoint = resume;
  std::optional<CheckpointSaver> saver;
  std::optional<EventFileWriter> events;
  int64_t last_saved_step = trainer.global_step();
  auto last_save_start = Clock::now();
  if (root) {
    CheckpointSaverOptions saver_options;
    saver_options.num_checkpoints = o.num_checkpoints;
    saver_options.keep_checkpoint_every_n_hours = o.keep_checkpoint_every_n_hours;
    saver.emplace(train_dir, saver_options);
    saver->RecoverFromStateFile();
    for (const std::string& stale : saver->RemoveStaleTemporaries())
      LOG(INFO) << "Removed " << stale << ", left by a session that was killed while writing";
    events.emplace(train_dir);
    result.last_checkpoint =
        ResolveCheckpointPath(train_dir, saver->Save(trainer.Snapshot(), WallSeconds()));
    events->WriteCheckpointSaved(trainer.global_step(), CheckpointBasePath(train_dir));
  }
  const int64_t last_step =
      o.num_training_steps != 0 ? result.start_step + o.num_training_steps : -1;

  EpochOrder order(o.seed, data.size());
  const int batch_size = hp.batch_size;
  BatchPrefetcher prefetcher(
      [&data, &order, batch_size, rank, ranks](int64_t step) {
        if (ranks == 1) return MakePaddedBatch(data, TrainingBatchRecords(&order, step, batch_size));
        return MakePaddedBatch(
            data, SliceOfTrainingBatch(data, &order, step, batch_size, rank, ranks).records);
      },
      result.start_step, o.prefetch_batches);
  // The same order walked again on this thread for where each slice sits in its global
  // batch (EpochOrder is not shared across threads).
  EpochOrder place_order(o.seed, data.size());

  StepRateCounter rate_100(100), rate_summary(o.summary_frequency);
  ProgressMeter progress(result.start_step, o.num_training_steps, WallSeconds());
  bool summarized_once = false;
  int64_t last_summary_step = 0;
  auto last_console = Clock::now();
  bool console_once = false;
  for (int64_t iteration = 0;; ++iteration) {
    const HostBatch batch = prefetcher.Next();
    GlobalBatchPlace place;
    if (ranks > 1) {
      const TrainingBatchSlice slice =
          SliceOfTrainingBatch(data, &place_order, batch.index, batch_size, rank, ranks);
      place.first_row = slice.first_row;
      place.global_length = slice.global_length;
    }
    const TrainStepResult step = trainer.Step(batch, place);
    const int64_t gs = step.global_step;
    progress.AddStep(batch_size, step.num_positions);
    result.last_metrics = step.metrics;
    ++result.steps_run;

    // Every rank agrees whether to stop now (one rank's signal stops all at this step).
    int64_t stop = o.stop_signal != nullptr ? o.stop_signal->load() : 0;
    if (group != nullptr) group->AllReduceMax(&stop, 1);
    const bool at_last_step = last_step >= 0 && gs >= last_step;
    if (!root) {
      if (at_last_step) break;
      if (stop != 0) {
        result.stopped_by_signal = static_cast<int>(stop);
        break;
      }
      continue;
    }

    double rate = 0;
    if (rate_100.Update(gs, &rate)) events->WriteScalars(gs, {{"global_step/sec", static_cast<float>(rate)}});
    if (!summarized_once || gs >= last_summary_step + o.summary_frequency) {
      if (!summarized_once) events->WriteSessionStart(gs);
      events->WriteScalars(gs, TrainSummaryValues(step.metrics));
      summarized_once = true;
      last_summary_step = gs;
    }
    if (std::chrono::duration<double>(Clock::now() - last_save_start).count() >=
        o.save_checkpoint_secs) {
      last_save_start = Clock::now();
      result.last_checkpoint =
          ResolveCheckpointPath(train_dir, saver->Save(trainer.Snapshot(), WallSeconds()));
      events->WriteCheckpointSaved(gs, CheckpointBasePath(train_dir));
      last_saved_step = gs;
    }
    if (iteration % o.summary_frequency == 0) {
      const auto now = Clock::now();
      std::string line = MetricsConsoleLine(step.metrics.accuracy, gs, step.metrics.loss,
                                            step.metrics.perplexity);
      if (console_once) {
        char secs[32];
        std::snprintf(secs, sizeof secs, " (%.3f sec)",
                      std::chrono::duration<double>(now - last_console).count());
        line += secs;
      }
      LOG(INFO) << line;
      LOG(INFO) << progress.Line(gs, WallSeconds(), prefetcher.blocked_seconds());
      last_console = now;
      console_once = true;
    }
    if (rate_summary.Update(gs, &rate)) {
      events->WriteScalars(gs, {{"global_step/sec", static_cast<float>(rate)}});
      char text[64];
      std::snprintf(text, sizeof text, "global_step/sec: %g", rate);
      LOG(INFO) << text;
    }
    if (at_last_step) break;
    if (stop != 0) {
      result.stopped_by_signal = static_cast<int>(stop);
      LOG(WARNING) << "Stopping at step " << gs << " on signal " << result.stopped_by_signal
                   << ": writing a final checkpoint";
      break;
    }
  }
  if (root && last_saved_step != trainer.global_step()) {
    result.last_checkpoint =
        ResolveCheckpointPath(train_dir, saver->Save(trainer.Snapshot(), WallSeconds()));
    events->WriteCheckpointSaved(trainer.global_step(), CheckpointBasePath(train_dir));
  }
  if (root) events->Flush(true);
  result.gradient_reduce_seconds = trainer.gradient_reduce_seconds();
  result.final_step = trainer.global_step();
  result.input_wait_seconds = prefetcher.blocked_seconds();
  result.seconds = std::chrono::duration<double>(Clock::now() - job_start).count();
  LOG(INFO) << "Training complete.";
  LOG(INFO) << "Ran " << result.steps_run << " steps (" << result.start_step << " -> "
            << result.final_step << ") in " << FormatDuration(result.seconds)
            << "; the step waited " << result.input_wait_seconds << " s on input";
  if (ranks > 1)
    LOG(INFO) << ranks << " ranks; summing gradients over them took "
              << result.gradient_reduce_seconds << " s on rank " << rank;
  return result;
}

}  // namespace melody
