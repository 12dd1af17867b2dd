// What the training job and the eval job both take, filled from the same flags once
// (apps/lib/melody_rnn_train.cc) for melody_rnn_train and melody_rnn_eval.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "models/melody_rnn_config.h"

namespace melody {

struct RunJobOptions {
  std::string run_dir;
  std::string sequence_example_file;  // file or glob
  ConfigFlags config_flags;
  std::string device;                 // cpu | cuda | "" (auto)
  int num_threads = 0;
  uint64_t seed = 0;                  // training: init, data order, dropout; eval: dropout
  // Set (to the signal number) by a signal handler: the job stops at the next safe point
  // (training: after the current step, with a final checkpoint).
  const std::atomic<int>* stop_signal = nullptr;
};

}  // namespace melody
