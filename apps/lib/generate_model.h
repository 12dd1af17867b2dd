// The network melody_rnn_generate runs and where its weights came from
// (shared/spec/generation.md §1-§2, §9.3): a Magenta or our own .mag bundle, or a
// checkpoint from --run_dir / --checkpoint_file, resolved to a config, a layout and the
// parameters on the chosen device.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "models/melody_rnn_config.h"
#include "models/parameters.h"

namespace melody {

// Which config a model was built with: a built-in id, or an encoder name (apps.md §2).
struct ConfigSelection {
  std::string config;
  std::string melody_encoder_decoder;
  // "attention_rnn" or "--melody_encoder_decoder=key".
  std::string Describe() const;
};

struct GeneratorModel {
  MelodyRnnConfig config;  // encoder, note range, hparams (as the tool resolved them)
  ConfigSelection selection;
  ModelLayout layout;
  Parameters params;       // on the generation device
  std::string source;      // "bundle X" / "checkpoint X", for messages
  // False for an old Magenta bundle whose graph has no temperature input: Magenta ignores
  // --temperature there; we apply it and say so.
  bool graph_has_temperature = true;
  std::string metagraph;   // the bundle's metagraph bytes ("" when none)
};

// What selects the weights.
struct ModelSource {
  std::string run_dir;          // <run_dir>/train, latest checkpoint
  std::string checkpoint_file;  // a checkpoint prefix (or a directory with a state file)
  std::string bundle_file;      // a .mag file
  std::string tfjs_dir;         // a TF.js MusicRNN checkpoint directory (apps/lib/tfjs_model.h)
};

// Reads a bundle: the config is the built-in one named by the bundle's generator id (or the
// config our tool stored in it), --hparams parsed into it; the network shape comes from the
// tensors (and attn_length from the metagraph). Refuses ids of other model families,
// naming both. Parameters end up on ctx's device.
GeneratorModel LoadGeneratorFromBundle(Context& ctx, const std::string& path,
                                       const std::string& hparams_text);

// From a checkpoint: with source.tfjs_dir, LoadGeneratorFromTfjs (apps/lib/tfjs_model.h).
// Otherwise the config is the run's stored run_config.json plus flags (run_dir) or
// the flags alone; the checkpoint's tensors must match the network the config describes.
GeneratorModel LoadGeneratorFromCheckpoint(Context& ctx, const ModelSource& source,
                                           const ConfigFlags& flags);

// The checkpoint prefix a source names (generation.md §2.2): <run_dir>/train's latest, or
// --checkpoint_file as a prefix or a directory; errors with the reference's messages.
std::string ResolveCheckpointPrefix(const ModelSource& source);

// Sets the shape-affecting hparams (rnn_layer_sizes, attn_length, residual_connections) to
// the network the loaded tensors describe, logging each one the user's --hparams
// (`requested`) asked to differ: it has no effect on a network read from `source`.
void AdoptNetworkShape(const ModelShape& shape, const HParams& requested,
                       const std::string& source, HParams* hparams);

}  // namespace melody
