// melody_rnn_train without --eval (shared/spec/training.md §1-§6, apps.md §5): the training
// job over a run directory, with the reference's log lines, summaries, checkpoints and
// retention, plus what the reference lacks: a stored run config, a seeded reproducible
// data order, progress with rates and ETA, strict resume, SIGINT/SIGTERM handling, and
// data-parallel training over a process group (apps/lib/distributed.h: only rank 0 writes).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "apps/lib/job_options.h"
#include "models/melody_rnn_config.h"
#include "kernels/softmax_cross_entropy.h"

namespace melody {

class ProcessGroup;

struct TrainJobOptions : RunJobOptions {
  int64_t num_training_steps = 0;     // counted from the session's starting step; 0 = forever
  int summary_frequency = 10;
  int num_checkpoints = 10;
  double save_checkpoint_secs = 60;   // 0 = after every step
  double keep_checkpoint_every_n_hours = 1;
  std::string warm_start_checkpoint;  // V2 prefix, or a directory with a state file
  std::string warm_start_bundle_file; // .mag
  std::string warm_start_tfjs_dir;    // a TF.js MusicRNN checkpoint directory (tfjs_model.h)
  int prefetch_batches = 3;
  // The ranks of a data-parallel job (every rank calls RunTrainJob with the same options);
  // null or a group of one: one process, exactly as without MPI.
  ProcessGroup* group = nullptr;
};

struct TrainJobResult {
  int64_t start_step = 0;
  int64_t final_step = 0;
  int64_t steps_run = 0;
  int stopped_by_signal = 0;
  double seconds = 0;
  double input_wait_seconds = 0;
  int num_ranks = 1;
  double gradient_reduce_seconds = 0;  // summing gradients over ranks (0 for one rank)
  TrainMetrics last_metrics;
  std::string last_checkpoint;  // resolved prefix
};

// Throws melody::Error with the reference's message (or ours, naming the file) for every
// failure: bad flags, no matching file, a bad record, a checkpoint that does not load, a
// non-finite loss (with the step), an I/O error while saving.
TrainJobResult RunTrainJob(const TrainJobOptions& options);

// The reference's console line (training.md §4.2, §7.4), tags in alphabetical order and
// values printed as numpy float32 `str`: "Accuracy = 0.5703125, Global Step = 1230,
// Loss = 1.4234589, Perplexity = 4.151" (the trainer appends " (x.xxx sec)").
std::string MetricsConsoleLine(float accuracy, int64_t global_step, float loss,
                               float perplexity);

// "<run_dir>/train" after ~ expansion (every tool agrees on it).
std::string TrainDirOf(const std::string& run_dir);

}  // namespace melody
