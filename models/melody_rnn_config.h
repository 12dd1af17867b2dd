// A Melody RNN configuration as the tools use it (shared/spec/model.md §1, apps.md §2):
// the melody side (id, description, encoder, note range; data/melody_config.h), the
// hyperparameters (base table merged with the config's own values, then `--hparams`), and
// the encoder sizes the network needs. Plus the typed view of the hyperparameters the
// network is built from, with the reference's validation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/melody_config.h"
#include "models/hparams.h"

namespace melody {

// What the network sees of the encoder (model.md §1.3).
struct EncoderSizes {
  int input_size = 0;
  int num_classes = 0;
  int no_event_label = 0;  // the "no event" class used by event/no-event accuracy
};

struct MelodyRnnConfig {
  MelodyConfig melody;
  HParams hparams;
  EncoderSizes sizes;
  // GeneratorDetails: present for --config, and for --melody_encoder_decoder only with
  // --generator_id.
  bool has_details = true;
};

// The base hyperparameter table, in order (model.md §1.1).
HParams BaseHParams();

// The built-in config with default hyperparameters; throws the reference's
// "`--config` must be one of ..." error for an unknown id.
MelodyRnnConfig DefaultMelodyRnnConfig(const std::string& id);

// Encoder sizes of a melody config (from its encoder).
EncoderSizes EncoderSizesFor(const MelodyConfig& melody);

// config_from_flags (apps.md §2): exactly one of config_id / encoder_decoder non-empty;
// hparams_text parsed over the config's hparams (for --melody_encoder_decoder: into an
// empty set, so any non-empty text fails); generator id/description overrides.
struct ConfigFlags {
  std::string config;
  std::string melody_encoder_decoder;
  std::string generator_id;
  std::optional<std::string> generator_description;
  std::string hparams;
};
MelodyRnnConfig MelodyRnnConfigFromFlags(const ConfigFlags& flags);

// The hyperparameters the network and the optimizer read, typed and validated.
struct ModelHParams {
  int batch_size = 0;
  std::vector<int> rnn_layer_sizes;
  double dropout_keep_prob = 1.0;
  int attn_length = 0;
  double clip_norm = 0;  // an int hparam in every config, read as a number
  double learning_rate = 0.001;
  bool residual_connections = false;
  bool use_cudnn = false;
};
// Throws melody::Error for hparams the reference cannot build a graph from: no layers,
// a layer size < 1, dropout_keep_prob outside (0, 1] (DropoutWrapper's message), a negative
// attn_length ("attn_length should be greater than zero, got <n>"), batch_size < 1.
ModelHParams ModelHParamsFrom(const HParams& hparams);

// The warnings the reference logs while building the graph: with use_cudnn,
// "cuDNN LSTM no longer supported. Using regular LSTM." (the network is unchanged).
std::vector<std::string> GraphConstructionWarnings(const ModelHParams& hparams);

// "hparams = {'batch_size': 128, ...}" (logged at graph construction).
std::string HParamsLogLine(const HParams& hparams);

}  // namespace melody
