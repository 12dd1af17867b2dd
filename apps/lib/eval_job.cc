#include "apps/lib/eval_job.h"

#include <glog/logging.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <optional>
#include <thread>

#include "apps/lib/device_select.h"
#include "apps/lib/run_config.h"
#include "apps/lib/train_data.h"
#include "apps/lib/train_job.h"
#include "core/error.h"
#include "core/event_file.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "models/melody_rnn_model.h"
#include "models/model_checkpoint.h"
#include "models/parameters.h"

namespace melody {

namespace {

using Clock = std::chrono::steady_clock;

// Keys eval dropout masks apart from the training job's (which use the seed itself).
constexpr uint64_t kEvalDropoutSalt = 0x6576616c00000000ull;  // "eval"

std::string UtcTimestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H:%M:%S", &tm);
  return buf;
}

void ValidateOptions(const EvalJobOptions& o) {
  MELODY_REQUIRE(!o.run_dir.empty()) << "--run_dir required";
  MELODY_REQUIRE(!o.sequence_example_file.empty()) << "--sequence_example_file required";
  MELODY_REQUIRE(std::isfinite(o.eval_interval_secs) && o.eval_interval_secs >= 0)
      << "--eval_interval_secs must be >= 0, got " << o.eval_interval_secs;
  MELODY_REQUIRE(std::isfinite(o.eval_timeout_secs) && o.eval_timeout_secs >= 0)
      << "--eval_timeout_secs must be >= 0, got " << o.eval_timeout_secs;
  MELODY_REQUIRE(o.max_evaluations >= 0)
      << "--num_evaluations must be >= 0 (0 = until the timeout), got " << o.max_evaluations;
}

bool StopRequested(const EvalJobOptions& o) {
  return o.stop_signal != nullptr && o.stop_signal->load() != 0;
}

// Polls the state file until it names a checkpoint other than `last` whose files exist.
// Returns "" on timeout or stop. Gives up as soon as another poll sleep would pass the
// limit (training.md §7.3).
std::string WaitForNewCheckpoint(const EvalJobOptions& o, const std::string& train_dir,
                                 const std::string& last) {
  LOG(INFO) << "Waiting for new checkpoint at " << train_dir;
  const auto start = Clock::now();
  for (;;) {
    const std::string latest = LatestCheckpoint(train_dir);
    if (!latest.empty() && latest != last) return latest;
    if (StopRequested(o)) return "";
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    if (waited + o.poll_secs > o.eval_timeout_secs) {
      LOG(INFO) << "Timed-out waiting for a checkpoint.";
      return "";
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.poll_secs));
  }
}

bool ShouldLogBatch(int64_t k, int64_t num_batches) {
  if (num_batches < 20) return true;
  return k == num_batches || k % (num_batches / 10) == 0;
}

std::vector<std::pair<std::string, float>> EvalSummaryValues(const EvalMetrics& m) {
  return {{"loss", m.loss},
          {"metrics/accuracy", m.accuracy},
          {"metrics/per_class_accuracy", m.per_class_accuracy},
          {"metrics/event_accuracy", m.event_accuracy},
          {"metrics/no_event_accuracy", m.no_event_accuracy},
          {"metrics/loss_per_step", m.loss_per_step},
          {"metrics/perplexity", m.perplexity},
          {"metrics/perplexity_per_step", m.perplexity_per_step}};
}

int64_t GlobalStepOf(const TensorMap& tensors, const std::string& what) {
  auto it = tensors.find("global_step");
  MELODY_REQUIRE(it != tensors.end()) << what << ": checkpoint has no global_step";
  MELODY_REQUIRE(it->second.numel() == 1 && it->second.dtype() == DType::kInt64)
      << what << ": global_step is not an int64 scalar";
  return it->second.data<int64_t>()[0];
}

struct EvalSetup {
  MelodyRnnConfig config;
  ModelHParams hp;
  ModelLayout layout;
  SequenceExampleSet data;
  int64_t num_batches = 0;
};

EvalSetup Setup(const EvalJobOptions& o, const std::string& train_dir) {
  const std::vector<std::string> files = ExpandSequenceExampleGlob(o.sequence_example_file);
  EvalSetup s;
  s.config = ResolveRunConfig(ReadRunConfig(train_dir), o.config_flags, RunConfigPath(train_dir));
  s.hp = ModelHParamsFrom(s.config.hparams);
  LOG(INFO) << HParamsLogLine(s.config.hparams);
  for (const std::string& w : GraphConstructionWarnings(s.hp)) LOG(WARNING) << w;
  MakeDirectories(train_dir);
  LOG(INFO) << "Train dir: " << train_dir;
  const std::string eval_dir = EvalDirOf(o.run_dir);
  MakeDirectories(eval_dir);
  LOG(INFO) << "Eval dir: " << eval_dir;
  int64_t examples = o.num_eval_examples;
  if (examples == 0) {
    for (const std::string& f : files) LOG(INFO) << "Counting records in " << f << ".";
    examples = SequenceExampleSet::CountRecords(files);
    LOG(INFO) << "Total records: " << examples;
  }
  s.num_batches = examples / s.hp.batch_size;
  MELODY_REQUIRE(s.num_batches > 0)
      << "`num_batches` must be greater than 0. Check that the batch size is no larger than "
         "the number of records in the eval set.";
  s.layout = ModelLayout::Build(ModelShape::From(s.config.sizes, s.hp));
  s.data = SequenceExampleSet::Load(files, s.config.sizes.input_size, s.config.sizes.num_classes);
  MELODY_REQUIRE(s.data.size() > 0) << "--sequence_example_file " << o.sequence_example_file
                                    << ": no record with at least one step";
  return s;
}

EvalResult Evaluate(const EvalJobOptions& o, const EvalSetup& s, Context& ctx,
                    MelodyRnnModel& model, const std::string& checkpoint) {
  const TensorMap tensors = CanonicalizeCheckpointTensors(ReadCheckpointV2(checkpoint));
  Parameters host(s.layout);
  LoadParameters(tensors, &host, checkpoint);
  const Parameters params = host.CopyTo(ctx);
  EvalResult result;
  result.checkpoint = checkpoint;
  result.global_step = GlobalStepOf(tensors, checkpoint);
  result.num_batches = s.num_batches;
  LOG(INFO) << "Starting evaluation at " << UtcTimestamp();
  EvalMetricsAccumulator metrics(s.config.sizes.num_classes);
  for (int64_t k = 0; k < s.num_batches; ++k) {
    const HostBatch host_batch =
        MakePaddedBatch(s.data, EvalBatchRecords(s.data.size(), k, s.hp.batch_size));
    ModelBatch batch{host_batch.inputs.CopyTo(ctx.device()),
                     host_batch.labels.CopyTo(ctx.device()), host_batch.lengths};
    DropoutSetting dropout;
    dropout.keep_prob = o.eval_dropout ? s.hp.dropout_keep_prob : 1.0;
    dropout.seed = o.seed ^ kEvalDropoutSalt;
    dropout.step = static_cast<uint64_t>(k);
    metrics.Add(model.Run(ctx, params, batch, dropout, nullptr).counts);
    if (ShouldLogBatch(k + 1, s.num_batches))
      LOG(INFO) << "Evaluation [" << (k + 1) << "/" << s.num_batches << "]";
  }
  result.metrics = metrics.Result();
  const EvalMetrics& m = result.metrics;
  LOG(INFO) << MetricsConsoleLine(m.accuracy, result.global_step, m.loss, m.perplexity);
  LOG(INFO) << "Finished evaluation at " << UtcTimestamp();
  return result;
}

}  // namespace

std::string EvalDirOf(const std::string& run_dir) {
  return JoinPath(ExpandUser(run_dir), "eval");
}

std::vector<EvalResult> RunEvalJob(const EvalJobOptions& o) {
  ValidateOptions(o);
  const std::string train_dir = TrainDirOf(o.run_dir);
  EvalSetup setup = Setup(o, train_dir);
  std::unique_ptr<Context> ctx = CreateContextForFlag(o.device, o.num_threads);
  MelodyRnnModel model(setup.layout, setup.config.sizes.no_event_label);
  EventFileWriter events(EvalDirOf(o.run_dir));
  std::vector<EvalResult> results;
  std::string last;
  for (;;) {
    const std::string checkpoint = WaitForNewCheckpoint(o, train_dir, last);
    if (checkpoint.empty()) break;
    LOG(INFO) << "Found new checkpoint at " << checkpoint;
    const auto start = Clock::now();
    last = checkpoint;
    try {
      results.push_back(Evaluate(o, setup, *ctx, model, checkpoint));
    } catch (const Error& e) {
      // The trainer's retention may delete an old checkpoint while we read it; anything
      // else (a checkpoint that does not fit the model) is a real error.
      if (CheckpointV2Exists(checkpoint)) throw;
      LOG(WARNING) << checkpoint << " was removed before it could be read; waiting for the "
                   << "next checkpoint";
      continue;
    }
    events.WriteScalars(results.back().global_step, EvalSummaryValues(results.back().metrics));
    events.Flush(true);
    if (o.max_evaluations > 0 && static_cast<int>(results.size()) >= o.max_evaluations) break;
    const auto wake = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.eval_interval_secs));
    while (Clock::now() < wake && !StopRequested(o))
      std::this_thread::sleep_for(std::min<Clock::duration>(
          wake - Clock::now(), std::chrono::milliseconds(200)));
    if (StopRequested(o)) break;
  }
  return results;
}

}  // namespace melody
