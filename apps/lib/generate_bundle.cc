#include "apps/lib/generate_bundle.h"

#include <glog/logging.h>

#include <nlohmann/json.hpp>

#include "apps/lib/hparams_json.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "models/generator_bundle.h"

namespace melody {

namespace {

constexpr const char* kRecordFormat = "melody_rnn.bundle_config.v1";

}  // namespace

std::string MakeBundleConfigRecord(const ConfigSelection& selection, const HParams& hparams) {
  nlohmann::ordered_json record;
  record["format"] = kRecordFormat;
  record["config"] = selection.config;
  record["melody_encoder_decoder"] = selection.melody_encoder_decoder;
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  for (const auto& [name, value] : hparams.entries()) values[name] = HParamToJson(value);
  record["hparams"] = values;
  return record.dump();
}

MelodyRnnConfig ConfigFromBundleRecord(const std::string& record, const std::string& what,
                                       ConfigSelection* selection) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(record);
  } catch (const std::exception& e) {
    MELODY_FAIL() << what << ": the melody_rnn config record is not valid JSON: " << e.what();
  }
  MELODY_REQUIRE(j.is_object() && j.value("format", "") == kRecordFormat)
      << what << ": unknown melody_rnn config record format (expected " << kRecordFormat << ")";
  selection->config = j.value("config", "");
  selection->melody_encoder_decoder = j.value("melody_encoder_decoder", "");
  MelodyRnnConfig config;
  if (!selection->config.empty()) {
    config = DefaultMelodyRnnConfig(selection->config);
  } else {
    config.melody = MelodyConfigFromEncoderDecoder(selection->melody_encoder_decoder);
    config.hparams = BaseHParams();
    config.sizes = EncoderSizesFor(config.melody);
  }
  MELODY_REQUIRE(j.contains("hparams") && j["hparams"].is_object())
      << what << ": the melody_rnn config record has no hparams";
  for (const auto& [name, value] : j["hparams"].items()) {
    const HParamValue* like = config.hparams.Has(name) ? &config.hparams.Get(name) : nullptr;
    config.hparams.Set(name, HParamFromJson(value, like, what + ": hparam " + name));
  }
  return config;
}

void SaveGeneratorBundle(const GeneratorModel& model, const SaveBundleOptions& options) {
  if (!options.bundle_description) LOG(WARNING) << "No bundle description provided.";
  LOG(INFO) << "Saving generator bundle to " << options.bundle_file;
  MELODY_REQUIRE(!options.bundle_file.empty()) << "Bundle file location not specified.";
  MELODY_REQUIRE(options.has_generator_details)
      << "--save_generator_bundle with --melody_encoder_decoder needs --generator_id (the "
      << "bundle's generator id)";
  MELODY_REQUIRE(!model.config.melody.id.empty())
      << "Generator id must be included in GeneratorDetails when creating a bundle file.";
  if (model.config.melody.description.empty())
    LOG(WARNING) << "Writing bundle file with no generator description.";
  if (!options.bundle_description || options.bundle_description->empty())
    LOG(WARNING) << "Writing bundle file with no bundle description.";

  TensorMap tensors;
  for (size_t i = 0; i < model.params.size(); ++i)
    tensors[model.params.name(i)] = model.params.at(i).CopyTo(Device::CPU());
  GeneratorBundleContents bundle;
  bundle.generator_id = model.config.melody.id;
  bundle.generator_description = model.config.melody.description;
  if (options.bundle_description && !options.bundle_description->empty())
    bundle.bundle_description = *options.bundle_description;
  bundle.checkpoint_v1 = SerializeCheckpointV1(tensors);
  bundle.metagraph = model.metagraph;  // "" unless the model came with a Magenta graph
  bundle.config_record = MakeBundleConfigRecord(model.selection, model.config.hparams);
  WriteFileAtomically(ExpandUser(options.bundle_file), SerializeGeneratorBundle(bundle));
  if (bundle.metagraph.empty())
    LOG(INFO) << "The bundle has no TensorFlow graph (metagraph_file is empty): this tool "
              << "reads it back, Magenta's melody_rnn_generate cannot load it";
}

}  // namespace melody
