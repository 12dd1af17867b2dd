// melody_rnn_train --eval, also built as melody_rnn_eval (shared/spec/training.md §7): waits
// for each new checkpoint in <run_dir>/train, evaluates it over a fixed set of batches with
// the streaming metrics of model.md §5.2, and writes one summary per evaluation to
// <run_dir>/eval. It only reads checkpoints the state file names (complete by
// construction), takes no lock, and never writes into train/, so it runs beside a training
// job and beside other eval jobs on the same run directory.
//
// Decisions: dropout stays active at dropout_keep_prob by default, as in the reference, so
// curves stay comparable with runs made by Magenta (eval_dropout = false evaluates the
// deterministic network instead); its masks are keyed by (seed, batch), so re-evaluating a
// checkpoint gives the same numbers. Batches take the records in file order from the first
// one at every evaluation.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "apps/lib/job_options.h"
#include "models/eval_metrics.h"
#include "models/melody_rnn_config.h"

namespace melody {

struct EvalJobOptions : RunJobOptions {
  int64_t num_eval_examples = 0;  // 0 = every record (counted)
  double eval_interval_secs = 60;
  double eval_timeout_secs = 300;
  int max_evaluations = 0;        // 0 = until the timeout; N = stop after N evaluations
  bool eval_dropout = true;
  double poll_secs = 1.0;
};

struct EvalResult {
  std::string checkpoint;
  int64_t global_step = 0;
  EvalMetrics metrics;
  int64_t num_batches = 0;
};

// Runs until the timeout (exit status 0 in the tool), max_evaluations, or a stop signal.
// Throws melody::Error for bad flags, no matching file, too few records
// ("`num_batches` must be greater than 0. ..."), a bad record or a checkpoint that does
// not fit the model.
std::vector<EvalResult> RunEvalJob(const EvalJobOptions& options);

// "<run_dir>/eval".
std::string EvalDirOf(const std::string& run_dir);

}  // namespace melody
