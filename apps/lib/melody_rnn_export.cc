// melody_rnn_export: its flags and main function (flags -> RunExport, apps/lib/export.h).
// Writes a trained Melody RNN (--run_dir, --checkpoint_file or --bundle_file, loaded as
// melody_rnn_generate loads them) as a magenta.js MusicRNN / TF.js checkpoint directory.
#include <gflags/gflags.h>

#include <cstdio>
#include <string>

#include "apps/lib/common_flags.h"
#include "apps/lib/export.h"
#include "apps/lib/tool_mains.h"

DEFINE_string(run_dir, "", "Training run directory; the latest checkpoint of <run_dir>/train "
              "is exported (its run_config.json gives the config).");
DEFINE_string(checkpoint_file, "", "A checkpoint prefix (or a directory with a state file); "
              "needs --config.");
DEFINE_string(bundle_file, "", "A .mag bundle to export.");
DEFINE_string(config, "", "The config of a --checkpoint_file (or to check a run's).");
DEFINE_string(melody_encoder_decoder, "", "Instead of --config: onehot, lookback or key.");
DEFINE_string(hparams, "", "Hyperparameters, as for melody_rnn_generate.");
DEFINE_string(format, "tfjs", "Output format: tfjs (magenta.js MusicRNN checkpoint).");
DEFINE_string(output_dir, "", "Directory to write weights_manifest.json, the shards and "
              "config.json into (created).");
DEFINE_string(quantize, "none", "none, float16 or uint8 (TF.js weight quantization).");
DEFINE_string(log, "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.");

namespace melody {

int MelodyRnnExportMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "melody_rnn_export";
  main.usage =
      "Exports a Melody RNN as a magenta.js MusicRNN checkpoint.\n"
      "  melody_rnn_export --run_dir=DIR | --checkpoint_file=PREFIX --config=CONFIG | "
      "--bundle_file=MODEL.mag --format=tfjs --output_dir=DIR [--quantize=none|float16|uint8]";
  main.common_flags = [] {
    CommonFlags common;
    common.log = FLAGS_log;
    // --config/--hparams are resolved against the run, checkpoint or bundle.
    return common;
  };
  main.run = [](ToolRun&) {
    ExportOptions options;
    options.source.run_dir = FLAGS_run_dir;
    options.source.checkpoint_file = FLAGS_checkpoint_file;
    options.source.bundle_file = FLAGS_bundle_file;
    options.config.config = FLAGS_config;
    options.config.melody_encoder_decoder = FLAGS_melody_encoder_decoder;
    options.config.hparams = FLAGS_hparams;
    options.format = FLAGS_format;
    options.output_dir = FLAGS_output_dir;
    options.quantize = FLAGS_quantize;
    const ExportReport report = RunExport(options);
    for (const std::string& file : report.files) std::printf("%s\n", file.c_str());
    return 0;
  };
  return RunToolMain(main, argc, argv);
}

}  // namespace melody
