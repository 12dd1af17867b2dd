// Importing a magenta.js / TF.js MusicRNN checkpoint directory (weights_manifest.json,
// its shards and config.json; shared/spec/formats.md §11) as a Melody RNN: what
// `melody_rnn_generate --tfjs_dir` and `melody_rnn_train --warm_start_tfjs_dir` load.
// Only the model's variables are taken; other tensors in the manifest (Adam slots,
// global_step, beta powers of a converted training checkpoint) are ignored.
#pragma once

#include <string>

#include "apps/lib/generate_model.h"
#include "core/context.h"
#include "core/tf_checkpoint.h"
#include "models/melody_rnn_config.h"

namespace melody {

// Every tensor of the directory's manifest, dequantized, legacy names canonicalized.
TensorMap ReadTfjsCheckpointTensors(const std::string& dir);

// The config is, in order: our record in config.json (written by melody_rnn_export), else
// --config / --melody_encoder_decoder from `flags`, else the one built-in config whose
// encoder sizes and attention match the tensors (an error asking for --config when none or
// several do). The network shape comes from the tensors; attn_length from config.json's
// attentionLength, else the config's. --hparams must parse against the config; those that
// would change the network are reported as having no effect, as for bundles.
GeneratorModel LoadGeneratorFromTfjs(Context& ctx, const std::string& dir,
                                     const ConfigFlags& flags);

}  // namespace melody
