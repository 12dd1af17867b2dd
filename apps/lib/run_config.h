// What a run directory remembers about itself: the config selection and every
// hyperparameter, stored in <run_dir>/train/run_config.json when training starts.
//
// The reference saves hparams nowhere (shared/spec/apps.md §3: "Train, eval and
// checkpoint-based generation must therefore be given the same shape-affecting hparams"), a
// long-standing complaint of its users. A resumed run, an eval job and generation from
// --run_dir read this file instead, so nobody retypes --hparams; flags that contradict a
// shape-affecting stored hparam are refused with both values named.
#pragma once

#include <optional>
#include <string>

#include "models/hparams.h"
#include "models/melody_rnn_config.h"

namespace melody {

struct RunConfig {
  std::string config;                  // built-in config id, or "" with an encoder_decoder
  std::string melody_encoder_decoder;  // onehot / lookback / key, or ""
  std::string generator_id;            // --generator_id as given ("" = none)
  std::optional<std::string> generator_description;
  HParams hparams;  // every hyperparameter, in the config's order
};

// <train_dir>/run_config.json
std::string RunConfigPath(const std::string& train_dir);

// nullopt when the file does not exist (a run made by the reference, or before training
// started); throws melody::Error naming the file when it exists but cannot be read.
std::optional<RunConfig> ReadRunConfig(const std::string& train_dir);
// Atomic (temporary file + rename).
void WriteRunConfig(const std::string& train_dir, const RunConfig& run_config);

// The RunConfig describing a resolved config and the flags that selected it.
RunConfig RunConfigOf(const ConfigFlags& flags, const MelodyRnnConfig& config);

// What to store after ResolveRunConfig: the stored selection when the flags made none.
RunConfig UpdatedRunConfig(const std::optional<RunConfig>& stored, const ConfigFlags& flags,
                           const MelodyRnnConfig& resolved);

// The hparams that change the variable set (the checkpoint would not load otherwise).
bool IsShapeAffectingHParam(const std::string& name);

// The config for this process: without a stored config, MelodyRnnConfigFromFlags(flags).
// With one, the stored selection and hparams, then flags.hparams on top; a --config or
// --melody_encoder_decoder that differs from the stored one, or a --hparams value that
// changes a shape-affecting stored hparam, throws melody::Error naming both values and
// `what` (the run_config.json path).
MelodyRnnConfig ResolveRunConfig(const std::optional<RunConfig>& stored,
                                 const ConfigFlags& flags, const std::string& what);

}  // namespace melody
