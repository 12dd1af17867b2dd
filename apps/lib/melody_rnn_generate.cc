// melody_rnn_generate: its flags and main function (flags -> GenerateFlags ->
// RunGenerateTool, apps/lib/generate_run.h). Flags as in the reference
// (shared/spec/apps.md §6) plus --seed, --device, --num_threads and --score; unlike the
// reference, every bad value and every failure exits with status 1 and a message naming
// the flag or file.
#include <gflags/gflags.h>

#include <string>

#include "apps/lib/common_flags.h"
#include "apps/lib/device_select.h"
#include "apps/lib/generate_flags.h"
#include "apps/lib/generate_run.h"
#include "apps/lib/tool_mains.h"

DEFINE_string(config, "", "Which config to use: basic_rnn, mono_rnn, lookback_rnn or attention_rnn.");
DEFINE_string(melody_encoder_decoder, "",
              "Instead of --config: onehot, lookback or key (note range [48, 84)).");
DEFINE_string(generator_id, "", "A unique ID for the generator, overriding the config's.");
DEFINE_string(generator_description, "", "A description of the generator, overriding the config's.");
DEFINE_string(hparams, "", "Comma-separated list of name=value pairs overriding the config's hyperparameters.");
DEFINE_string(run_dir, "", "Training run directory; the latest checkpoint of <run_dir>/train is used.");
DEFINE_string(checkpoint_file, "", "A checkpoint prefix (used when --run_dir is not given).");
DEFINE_string(bundle_file, "", "A .mag bundle to generate from, or the bundle to write with --save_generator_bundle.");
DEFINE_string(tfjs_dir, "", "A magenta.js / TF.js MusicRNN checkpoint directory (weights_manifest.json, "
              "shards, config.json) to generate from, e.g. one melody_rnn_export wrote.");
DEFINE_bool(save_generator_bundle, false, "Write a bundle from the checkpoint to --bundle_file instead of generating.");
DEFINE_string(bundle_description, "", "A short description stored in the bundle.");
DEFINE_string(output_dir, "/tmp/melody_rnn/generated", "Where the generated MIDI files go (created).");
DEFINE_int64(num_outputs, 10, "Melodies to generate (per primer file with a directory of primers).");
DEFINE_int64(num_steps, 128, "Length of the output in 16th-note steps, primer included, counted from time 0.");
DEFINE_string(primer_melody, "", "A melody as a list of events, e.g. \"[60, -2, 60, -2, 67, -2, 67, -2]\".");
DEFINE_string(primer_midi, "", "A MIDI file whose melody primes generation; or a directory or glob of them.");
DEFINE_double(qpm, 0, "Tempo of the output (a primer MIDI file's tempo wins); 0 = 120.");
DEFINE_double(temperature, 1.0, "Randomness: logits are divided by it (> 0; 1 = the model's distribution).");
DEFINE_int64(beam_size, 1, "Beam width.");
DEFINE_int64(branch_factor, 1, "Samples per beam entry per iteration.");
DEFINE_int64(steps_per_iteration, 1, "Steps generated between pruning points.");
DEFINE_uint64(seed, 0, "Random seed; the same seed gives the same files on any device thread count.");
DEFINE_string(device, "cpu", "cpu, cuda, or auto (the GPU when there is one).");
DEFINE_int32(num_threads, 0, "CPU threads (0 = all cores). The output does not depend on it.");
DEFINE_string(score, "",
              "Instead of generating: print the log-likelihood of each melody in this MIDI file, "
              "directory of MIDI files or SequenceExample TFRecord.");
DEFINE_string(log, "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.");

namespace melody {
namespace {

GenerateFlags GenerateFlagsFromFlags() {
  GenerateFlags flags;
  flags.config.config = FLAGS_config;
  flags.config.melody_encoder_decoder = FLAGS_melody_encoder_decoder;
  flags.config.generator_id = FLAGS_generator_id;
  flags.config.generator_description = GivenStringFlag("generator_description", FLAGS_generator_description);
  flags.config.hparams = FLAGS_hparams;
  flags.run_dir = FLAGS_run_dir;
  flags.checkpoint_file = FLAGS_checkpoint_file;
  flags.bundle_file = FLAGS_bundle_file;
  flags.tfjs_dir = FLAGS_tfjs_dir;
  flags.save_generator_bundle = FLAGS_save_generator_bundle;
  flags.bundle_description = GivenStringFlag("bundle_description", FLAGS_bundle_description);
  flags.output_dir = FLAGS_output_dir;
  flags.num_outputs = FLAGS_num_outputs;
  flags.num_steps = FLAGS_num_steps;
  flags.primer_melody = FLAGS_primer_melody;
  flags.primer_midi = FLAGS_primer_midi;
  if (FlagGiven("qpm")) flags.qpm = FLAGS_qpm;
  flags.temperature = FLAGS_temperature;
  flags.beam_size = FLAGS_beam_size;
  flags.branch_factor = FLAGS_branch_factor;
  flags.steps_per_iteration = FLAGS_steps_per_iteration;
  flags.seed = FLAGS_seed;
  flags.seed_given = FlagGiven("seed");
  flags.device = FLAGS_device;
  flags.num_threads = FLAGS_num_threads;
  flags.score = FLAGS_score;
  return flags;
}

}  // namespace

int MelodyRnnGenerateMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "melody_rnn_generate";
  main.usage =
      "Generates melodies with a Melody RNN.\n"
      "  melody_rnn_generate --bundle_file=MODEL.mag --output_dir=DIR [--num_outputs=10] "
      "[--num_steps=128] [--primer_melody=\"[60]\" | --primer_midi=FILE|DIR|GLOB] [--seed=N]\n"
      "  melody_rnn_generate --config=CONFIG --run_dir=DIR --output_dir=DIR ...\n"
      "  melody_rnn_generate --config=CONFIG --run_dir=DIR --save_generator_bundle "
      "--bundle_file=OUT.mag";
  main.common_flags = [] {
    CommonFlags common;
    common.log = FLAGS_log;
    common.num_threads = FLAGS_num_threads;
    common.max_threads = kMaxToolThreads;
    common.device = FLAGS_device;
    // --config/--hparams are resolved against the checkpoint's run or the bundle.
    return common;
  };
  main.run = [](ToolRun&) {
    RunGenerateTool(GenerateFlagsFromFlags());
    return 0;
  };
  return RunToolMain(main, argc, argv);
}

}  // namespace melody
