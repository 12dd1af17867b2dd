// melody_rnn_train and melody_rnn_eval (= melody_rnn_train --eval): their flags
// (shared/spec/apps.md §2, §5, plus ours) and main functions. The jobs they run
// (apps/lib/train_job.h, eval_job.h) check every value, so tests reach the checks; the
// common flags are checked first (apps/lib/common_flags.h). Under mpirun every rank runs
// melody_rnn_train with the same flags (apps/lib/distributed.h).
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <string>

#include "apps/lib/common_flags.h"
#include "apps/lib/device_select.h"
#include "apps/lib/distributed.h"
#include "apps/lib/eval_job.h"
#include "apps/lib/tool_logging.h"
#include "apps/lib/tool_mains.h"
#include "apps/lib/train_job.h"
#include "core/error.h"

DEFINE_string(config, "", "Which config to use: basic_rnn, mono_rnn, lookback_rnn or attention_rnn. "
              "Optional when --run_dir already has a run_config.json.");
DEFINE_string(melody_encoder_decoder, "", "Instead of --config: onehot, lookback or key.");
DEFINE_string(generator_id, "", "A unique ID for the generator, overriding the config's.");
DEFINE_string(generator_description, "", "A description of the generator, overriding the config's.");
DEFINE_string(hparams, "", "Comma-separated list of name=value pairs overriding the config's "
              "hyperparameters (the run directory remembers them; shape-changing ones cannot "
              "change on resume).");
DEFINE_string(run_dir, "/tmp/melody_rnn/logdir/run1",
              "Run directory: checkpoints and summaries go to <run_dir>/train, eval summaries "
              "to <run_dir>/eval.");
DEFINE_string(sequence_example_file, "", "TFRecord file (or glob) of SequenceExamples: the "
              "training set, or with --eval the eval set.");
DEFINE_int64(num_training_steps, 0, "Steps to train, counted from the step the session starts "
             "at (0 = train until stopped).");
DEFINE_int64(num_eval_examples, 0, "Eval: examples per evaluation (0 = every record).");
DEFINE_int32(summary_frequency, 10, "Console line every N local steps; summaries and "
             "global_step/sec every N global steps.");
DEFINE_int32(num_checkpoints, 10, "Checkpoints to keep (0 = all), plus one per hour.");
DEFINE_double(save_checkpoint_secs, 60, "Seconds between checkpoints (0 = after every step).");
DEFINE_bool(eval, false, "Run the evaluation job instead of training.");
DEFINE_double(eval_interval_secs, 60, "Eval: at most one evaluation per this many seconds.");
DEFINE_double(eval_timeout_secs, 300, "Eval: give up after this many seconds without a new "
              "checkpoint.");
DEFINE_int32(num_evaluations, 0, "Eval: stop after this many evaluations (0 = until the timeout).");
DEFINE_bool(eval_dropout, true, "Eval: keep dropout active at dropout_keep_prob, as the "
            "reference does (--noeval_dropout evaluates without dropout).");
DEFINE_string(warm_start_checkpoint, "", "Fresh runs only: take the model weights (not the "
              "optimizer state or step) from this V2 checkpoint prefix or train directory.");
DEFINE_string(warm_start_bundle_file, "", "Fresh runs only: take the model weights from this "
              ".mag bundle.");
DEFINE_string(warm_start_tfjs_dir, "", "Fresh runs only: take the model weights from this "
              "magenta.js / TF.js checkpoint directory (weights_manifest.json + shards).");
DEFINE_string(device, "auto", "cpu, cuda, or auto (the GPU when one is present).");
DEFINE_int32(num_threads, 0, "CPU threads (0 = all cores).");
DEFINE_uint64(seed, 0, "Seed of the initial weights, the data order and the dropout masks.");
DEFINE_string(log, "INFO", "The threshold for what messages will be logged: DEBUG, INFO, WARN, "
              "ERROR, or FATAL (also WARNING, CRITICAL).");

namespace melody {
namespace {

std::atomic<int> g_stop_signal{0};

// First SIGINT/SIGTERM: finish the step, write a checkpoint, exit 128+signal. A second
// one: the default action (immediate exit; the last checkpoint stays intact).
void OnStopSignal(int sig) {
  if (g_stop_signal.exchange(sig) != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

void InstallStopHandlers() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

CommonFlags TrainEvalCommonFlags() {
  CommonFlags common;
  common.log = FLAGS_log;
  common.num_threads = FLAGS_num_threads;
  common.max_threads = kMaxToolThreads;
  common.device = FLAGS_device;
  // --config/--hparams are resolved by the job against the run directory's run_config.json.
  return common;
}

// The fields both jobs take from the same flags.
void FillRunJobOptions(RunJobOptions* o) {
  o->run_dir = FLAGS_run_dir;
  o->sequence_example_file = FLAGS_sequence_example_file;
  o->config_flags.config = FLAGS_config;
  o->config_flags.melody_encoder_decoder = FLAGS_melody_encoder_decoder;
  o->config_flags.generator_id = FLAGS_generator_id;
  o->config_flags.generator_description =
      GivenStringFlag("generator_description", FLAGS_generator_description);
  o->config_flags.hparams = FLAGS_hparams;
  o->device = FLAGS_device;
  o->num_threads = FLAGS_num_threads;
  o->seed = FLAGS_seed;
  o->stop_signal = &g_stop_signal;
}

TrainJobOptions TrainOptionsFromFlags(ProcessGroup* group) {
  TrainJobOptions o;
  FillRunJobOptions(&o);
  o.num_training_steps = FLAGS_num_training_steps;
  o.summary_frequency = FLAGS_summary_frequency;
  o.num_checkpoints = FLAGS_num_checkpoints;
  o.save_checkpoint_secs = FLAGS_save_checkpoint_secs;
  o.warm_start_checkpoint = FLAGS_warm_start_checkpoint;
  o.warm_start_bundle_file = FLAGS_warm_start_bundle_file;
  o.warm_start_tfjs_dir = FLAGS_warm_start_tfjs_dir;
  o.group = group;
  return o;
}

EvalJobOptions EvalOptionsFromFlags() {
  EvalJobOptions o;
  FillRunJobOptions(&o);
  o.num_eval_examples = FLAGS_num_eval_examples;
  o.eval_interval_secs = FLAGS_eval_interval_secs;
  o.eval_timeout_secs = FLAGS_eval_timeout_secs;
  o.max_evaluations = FLAGS_num_evaluations;
  o.eval_dropout = FLAGS_eval_dropout;
  return o;
}

// Runs the job the flags ask for; returns the exit status. Under mpirun (`group` non-null)
// ranks other than 0 log warnings and errors only, and an error on any rank ends the whole
// job (MPI_Abort) so no rank waits forever in a collective for it.
int RunJob(const char* tool, bool eval, ProcessGroup* group) {
  InstallStopHandlers();
  const bool multi_rank = group != nullptr && group->size() > 1;
  if (multi_rank && group->rank() != 0) FLAGS_minloglevel = std::max(FLAGS_minloglevel, 1);
  try {
    if (eval) {
      MELODY_REQUIRE(!multi_rank) << "the eval job runs in one process; start it without mpirun";
      RunEvalJob(EvalOptionsFromFlags());
      return g_stop_signal.load() != 0 ? 128 + g_stop_signal.load() : 0;
    }
    const TrainJobResult r = RunTrainJob(TrainOptionsFromFlags(group));
    return r.stopped_by_signal != 0 ? 128 + r.stopped_by_signal : 0;
  } catch (const std::exception& e) {
    if (!multi_rank) return ReportToolError(tool, DescribeError(e));
    const int status = ReportToolError(
        tool, "rank " + std::to_string(group->rank()) + " of " + std::to_string(group->size()) +
                  ": " + DescribeError(e) + " (ending every rank)");
    group->Abort(status);
    return status;  // not reached
  }
}

}  // namespace

int MelodyRnnTrainMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "melody_rnn_train";
  main.usage =
      "Trains a Melody RNN model, or with --eval evaluates its checkpoints.\n"
      "  melody_rnn_train --config=CONFIG --run_dir=DIR --sequence_example_file=FILE "
      "[--hparams=...] [--num_training_steps=N] [--eval]";
  main.common_flags = TrainEvalCommonFlags;
  main.run = [](ToolRun& run) {
    auto mpi = std::make_unique<MpiSession>(&run.argc, &run.argv);
    return RunJob("melody_rnn_train", FLAGS_eval, mpi->group());
  };
  return RunToolMain(main, argc, argv);
}

int MelodyRnnEvalMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "melody_rnn_eval";
  main.usage =
      "Evaluates each new checkpoint of a Melody RNN run (melody_rnn_train --eval).\n"
      "  melody_rnn_eval --run_dir=DIR --sequence_example_file=EVAL.tfrecord "
      "[--num_eval_examples=N] [--num_evaluations=N]";
  main.common_flags = TrainEvalCommonFlags;
  main.run = [](ToolRun&) { return RunJob("melody_rnn_eval", true, nullptr); };
  return RunToolMain(main, argc, argv);
}

}  // namespace melody
