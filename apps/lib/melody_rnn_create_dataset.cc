// melody_rnn_create_dataset: its flags and main function (flags -> CreateDataset,
// apps/lib/create_dataset.h). Flags as in the reference (shared/spec/apps.md §2, §4) plus
// --seed, --num_threads and --report; unlike the reference, a missing required flag exits
// with status 1, and --eval_ratio must be in [0, 1]. SIGINT/SIGTERM/SIGHUP remove the
// partly written outputs.
#include <gflags/gflags.h>

#include <string>

#include "apps/lib/common_flags.h"
#include "apps/lib/create_dataset.h"
#include "apps/lib/tool_mains.h"
#include "core/temp_files.h"

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

namespace melody {

int MelodyRnnCreateDatasetMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "melody_rnn_create_dataset";
  main.usage =
      "Creates SequenceExample TFRecords (training and eval) from NoteSequences.\n"
      "  melody_rnn_create_dataset --config=CONFIG --input=NOTESEQUENCES.tfrecord "
      "--output_dir=DIR [--eval_ratio=0.1] [--seed=N] [--num_threads=N] [--report=FILE]";
  // Ctrl-C, kill and a closed terminal remove the partly written outputs.
  main.setup = [] { InstallTempFileCleanupOnSignals(); };
  main.common_flags = [] {
    CommonFlags common;
    common.log = FLAGS_log;
    common.num_threads = FLAGS_num_threads;
    common.max_threads = kMaxDatasetThreads;
    // The shared config resolution (apps.md §2), --hparams parsing included.
    ConfigFlags config;
    config.config = FLAGS_config;
    config.melody_encoder_decoder = FLAGS_melody_encoder_decoder;
    config.generator_id = FLAGS_generator_id;
    config.generator_description = GivenStringFlag("generator_description", FLAGS_generator_description);
    config.hparams = FLAGS_hparams;
    common.config = config;
    return common;
  };
  main.run = [](ToolRun& run) {
    CreateDatasetOptions options;
    options.config = run.config->melody;
    options.eval_ratio = FLAGS_eval_ratio;
    options.seed = FLAGS_seed;
    options.num_threads = FLAGS_num_threads;
    CreateDatasetFiles files;
    files.input = FLAGS_input;
    files.output_dir = FLAGS_output_dir;
    files.report_path = FLAGS_report;
    CreateDataset(files, options);
    return 0;
  };
  return RunToolMain(main, argc, argv);
}

}  // namespace melody
