// melody_rnn_generate's flags as plain values (shared/spec/apps.md §6, plus --seed,
// --device, --num_threads, --score) and their checks, done before any work: every bad value
// is refused with a message naming the flag, including the values the reference crashes on
// (generation.md §11).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/melody_rnn_config.h"

namespace melody {

struct GenerateFlags {
  ConfigFlags config;  // --config, --melody_encoder_decoder, --generator_id/description, --hparams
  std::string run_dir, checkpoint_file, bundle_file;
  std::string tfjs_dir;  // a magenta.js / TF.js MusicRNN checkpoint directory (apps/lib/tfjs_model.h)
  bool save_generator_bundle = false;
  std::optional<std::string> bundle_description;
  std::string output_dir = "/tmp/melody_rnn/generated";
  int64_t num_outputs = 10;
  int64_t num_steps = 128;
  std::string primer_melody, primer_midi;
  std::optional<double> qpm;
  double temperature = 1.0;
  int64_t beam_size = 1, branch_factor = 1, steps_per_iteration = 1;
  uint64_t seed = 0;
  bool seed_given = false;  // without --seed a seed is drawn from the clock (and logged)
  std::string device = "cpu";
  int num_threads = 0;
  std::string score;  // --score=FILE: print log-likelihoods instead of generating
};

// Throws melody::Error naming the flag for any value that cannot work.
void ValidateGenerateFlags(const GenerateFlags& flags);

// "Cannot specify both ..." / "Either checkpoint or bundle must be set" (generation.md §2.1).
void ValidateWeightSource(const GenerateFlags& flags);

}  // namespace melody
