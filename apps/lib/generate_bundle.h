// melody_rnn_generate --save_generator_bundle (shared/spec/generation.md §9.2) and our
// config record inside bundles (models/generator_bundle.h): the config selection and every
// hyperparameter as JSON, so that a bundle we wrote restores the exact config.
//
// Which of our bundles Magenta can load: none. Magenta imports the bundle's metagraph (a
// TF MetaGraphDef of the generate graph) and we cannot build one without TensorFlow, so we
// write an empty metagraph_file. Everything else (the V1 checkpoint, the generator id) is
// in Magenta's format, and Magenta's protobuf parser skips our record.
#pragma once

#include <optional>
#include <string>

#include "apps/lib/generate_model.h"
#include "models/melody_rnn_config.h"

namespace melody {

// The JSON record (format "melody_rnn.bundle_config.v1").
std::string MakeBundleConfigRecord(const ConfigSelection& selection, const HParams& hparams);
// The config the record describes (hparams restored with their types); `what` names the
// bundle in errors. *selection receives the selection.
MelodyRnnConfig ConfigFromBundleRecord(const std::string& record, const std::string& what,
                                       ConfigSelection* selection);

struct SaveBundleOptions {
  std::string bundle_file;
  std::optional<std::string> bundle_description;  // nullopt: flag absent
  bool has_generator_details = true;  // false: --melody_encoder_decoder without --generator_id
};

// Checks and writes the bundle with the reference's messages and warnings (§9.2): the
// model's variables as a V1 checkpoint, its generator details and our record.
void SaveGeneratorBundle(const GeneratorModel& model, const SaveBundleOptions& options);

}  // namespace melody
