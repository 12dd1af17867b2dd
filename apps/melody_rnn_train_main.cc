// melody_rnn_train: trains a Melody RNN (or, with --eval, evaluates its checkpoints) over a
// run directory. Flags: apps/train_eval_flags.h; the job: apps/lib/train_job.h, eval_job.h.
// Under mpirun every rank runs this with the same flags (apps/lib/distributed.h).
#include <memory>

#include "apps/lib/distributed.h"
#include "apps/lib/tool_logging.h"
#include "apps/train_eval_flags.h"

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "Trains a Melody RNN model, or with --eval evaluates its checkpoints.\n"
      "  melody_rnn_train --config=CONFIG --run_dir=DIR --sequence_example_file=FILE "
      "[--hparams=...] [--num_training_steps=N] [--eval]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::unique_ptr<melody::MpiSession> mpi;
  try {
    melody::InitToolLogging(argv[0], FLAGS_log);
    mpi = std::make_unique<melody::MpiSession>(&argc, &argv);
  } catch (const std::exception& e) {
    return melody::ReportToolError("melody_rnn_train", e.what());
  }
  return melody::train_flags::RunFromFlags("melody_rnn_train", FLAGS_eval, mpi->group());
}
