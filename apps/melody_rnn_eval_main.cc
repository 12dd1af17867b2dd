// melody_rnn_eval: the evaluation job, i.e. `melody_rnn_train --eval` (same flags, same
// library: apps/lib/eval_job.h), as its own binary.
#include "apps/lib/tool_logging.h"
#include "apps/train_eval_flags.h"

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "Evaluates each new checkpoint of a Melody RNN run (melody_rnn_train --eval).\n"
      "  melody_rnn_eval --run_dir=DIR --sequence_example_file=EVAL.tfrecord "
      "[--num_eval_examples=N] [--num_evaluations=N]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  try {
    melody::InitToolLogging(argv[0], FLAGS_log);
  } catch (const std::exception& e) {
    return melody::ReportToolError("melody_rnn_eval", e.what());
  }
  return melody::train_flags::RunFromFlags("melody_rnn_eval", true);
}
