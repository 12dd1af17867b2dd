// melody_rnn_create_dataset: flags -> CreateDataset (apps/lib/create_dataset.h). Flags as
// in the reference (shared/spec/apps.md §2, §4) plus --seed, --num_threads and --report;
// unlike the reference, a missing required flag exits with status 1, and --eval_ratio must
// be in [0, 1]. SIGINT/SIGTERM/SIGHUP remove the partly written outputs.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <optional>
#include <string>

#include "apps/lib/create_dataset.h"
#include "apps/lib/tool_logging.h"
#include "core/error.h"
#include "core/temp_files.h"
#include "models/melody_rnn_config.h"

DEFINE_string(config, "", "Which config to use: basic_rnn, mono_rnn, lookback_rnn or attention_rnn.");
DEFINE_string(melody_encoder_decoder, "",
              "Instead of --config: onehot, lookback or key (note range [48, 84)).");
DEFINE_string(generator_id, "", "A unique ID for the generator, overriding the config's.");
DEFINE_string(generator_description, "", "A description of the generator, overriding the config's.");
DEFINE_string(hparams, "",
              "Comma-separated list of name=value pairs overriding the config's "
              "hyperparameters (parsed and checked; they do not affect the dataset).");
DEFINE_string(input, "", "TFRecord to read NoteSequence protos from.");
DEFINE_string(output_dir, "",
              "Directory to write training and eval TFRecord files. The TFRecord files are "
              "populated with SequenceExample protos.");
DEFINE_double(eval_ratio, 0.1, "Fraction of input to set aside for eval set. Partition is randomly selected.");
DEFINE_string(log, "INFO",
              "The threshold for what messages will be logged: DEBUG, INFO, WARN, ERROR, "
              "or FATAL (also WARNING, CRITICAL).");
DEFINE_uint64(seed, 0, "Seed of the train/eval partition draws (one per input NoteSequence).");
DEFINE_int32(num_threads, 0,
             "Worker threads (0 = all cores; at most 256). The output does not depend on it.");
DEFINE_string(report, "",
              "Optional path of a tab-separated report: per input NoteSequence, its pieces, "
              "examples and the reasons pieces or melodies were discarded.");

namespace {

int Fail(const std::string& message) {
  return melody::ReportToolError("melody_rnn_create_dataset", message);
}

// A string flag's value, or nullopt when it was not given on the command line.
std::optional<std::string> GivenFlag(const char* name, const std::string& value) {
  if (gflags::GetCommandLineFlagInfoOrDie(name).is_default) return std::nullopt;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "Creates SequenceExample TFRecords (training and eval) from NoteSequences.\n"
      "  melody_rnn_create_dataset --config=CONFIG --input=NOTESEQUENCES.tfrecord "
      "--output_dir=DIR [--eval_ratio=0.1] [--seed=N] [--num_threads=N] [--report=FILE]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  // Ctrl-C, kill and a closed terminal remove the partly written outputs.
  melody::InstallTempFileCleanupOnSignals();
  try {
    melody::InitToolLogging(argv[0], FLAGS_log);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  if (FLAGS_num_threads < 0 || FLAGS_num_threads > melody::kMaxDatasetThreads)
    return Fail("--num_threads must be between 0 (all cores) and " +
                std::to_string(melody::kMaxDatasetThreads) + ", got " + std::to_string(FLAGS_num_threads));

  try {
    melody::CreateDatasetOptions options;
    // The shared config resolution (apps.md §2), --hparams parsing included.
    melody::ConfigFlags flags;
    flags.config = FLAGS_config;
    flags.melody_encoder_decoder = FLAGS_melody_encoder_decoder;
    flags.generator_id = FLAGS_generator_id;
    flags.generator_description = GivenFlag("generator_description", FLAGS_generator_description);
    flags.hparams = FLAGS_hparams;
    options.config = melody::MelodyRnnConfigFromFlags(flags).melody;
    options.eval_ratio = FLAGS_eval_ratio;
    options.seed = FLAGS_seed;
    options.num_threads = FLAGS_num_threads;
    melody::CreateDatasetFiles files;
    files.input = FLAGS_input;
    files.output_dir = FLAGS_output_dir;
    files.report_path = FLAGS_report;
    melody::CreateDataset(files, options);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}
