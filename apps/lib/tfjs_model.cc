#include "apps/lib/tfjs_model.h"

#include <glog/logging.h>

#include <optional>

#include "apps/lib/generate_bundle.h"
#include "apps/lib/generate_model.h"
#include "apps/lib/tfjs_config.h"
#include "apps/lib/tfjs_weights.h"
#include "core/error.h"
#include "core/file_util.h"
#include "data/melody_config.h"
#include "models/model_checkpoint.h"

namespace melody {

namespace {

bool HasAttentionTensors(const TensorMap& tensors) {
  for (const auto& [name, tensor] : tensors)
    if (name.find("attention_cell_wrapper") != std::string::npos) return true;
  return false;
}

std::optional<TfjsModelSpec> ReadSpec(const std::string& dir) {
  const std::string path = JoinPath(dir, kTfjsConfigFile);
  if (!PathExists(path)) {
    LOG(WARNING) << dir << ": no " << kTfjsConfigFile << "; the config comes from the flags "
                 << "or the tensors";
    return std::nullopt;
  }
  return ParseTfjsConfigJson(ReadFileToString(path), path);
}

// The built-in config whose network inputs, classes and attention match the tensors.
std::string InferConfigId(const ModelShape& shape, bool attention, const std::string& dir) {
  std::vector<std::string> matches;
  for (const std::string& id : MelodyConfigIds()) {
    const MelodyRnnConfig c = DefaultMelodyRnnConfig(id);
    if (c.sizes.input_size == shape.input_size && c.sizes.num_classes == shape.num_classes &&
        (c.hparams.GetInt("attn_length") > 0) == attention)
      matches.push_back(id);
  }
  MELODY_REQUIRE(matches.size() == 1)
      << dir << ": the network takes " << shape.input_size << " inputs and has "
      << shape.num_classes << " classes" << (attention ? " with attention" : "") << "; "
      << (matches.empty() ? "no built-in config matches"
                          : "several built-in configs match (" + matches[0] + ", " +
                                matches[1] + ")")
      << ": give --config or --melody_encoder_decoder";
  return matches[0];
}

}  // namespace

TensorMap ReadTfjsCheckpointTensors(const std::string& dir) {
  return CanonicalizeCheckpointTensors(ReadTfjsWeights(dir));
}

GeneratorModel LoadGeneratorFromTfjs(Context& ctx, const std::string& dir,
                                     const ConfigFlags& flags) {
  const TensorMap tensors = ReadTfjsCheckpointTensors(dir);
  const std::optional<TfjsModelSpec> spec = ReadSpec(dir);
  const bool attention = HasAttentionTensors(tensors);
  // attn_length is not in the weights (formats.md §6); 1 is a placeholder until it is known.
  ModelShape shape = InferModelShape(tensors, attention ? 1 : 0);

  GeneratorModel model;
  model.source = "checkpoint " + dir + " (TF.js MusicRNN)";
  const bool flags_select = !flags.config.empty() || !flags.melody_encoder_decoder.empty();
  if (spec && spec->config_record) {
    model.config = ConfigFromBundleRecord(*spec->config_record, JoinPath(dir, kTfjsConfigFile),
                                          &model.selection);
    if (flags_select)
      LOG(WARNING) << "--config/--melody_encoder_decoder ignored: " << dir << "/"
                   << kTfjsConfigFile << " records the config ("
                   << model.selection.Describe() << ")";
  } else if (flags_select) {
    if (!flags.config.empty()) {
      model.config = DefaultMelodyRnnConfig(flags.config);
    } else {  // the encoder's config over the base hparams, as our bundle records restore it
      model.config.melody = MelodyConfigFromEncoderDecoder(flags.melody_encoder_decoder);
      model.config.hparams = BaseHParams();
      model.config.sizes = EncoderSizesFor(model.config.melody);
    }
    model.selection.config = flags.config;
    model.selection.melody_encoder_decoder = flags.melody_encoder_decoder;
  } else {
    model.selection.config = InferConfigId(shape, attention, dir);
    model.config = DefaultMelodyRnnConfig(model.selection.config);
    LOG(INFO) << dir << ": using --config=" << model.selection.config
              << " (the one config whose inputs, classes and attention match the tensors)";
  }
  HParams requested = model.config.hparams;
  requested.Parse(flags.hparams);

  if (attention) {
    if (spec && spec->attention_length) {
      shape.attn_length = *spec->attention_length;
    } else {
      shape.attn_length = static_cast<int>(requested.GetInt("attn_length"));
      MELODY_REQUIRE(shape.attn_length >= 1)
          << dir << ": the model has attention but neither config.json (attentionLength) nor "
          << "the config gives attn_length; set it with --hparams=attn_length=N";
      if (!(spec && spec->config_record))
        LOG(WARNING) << dir << ": config.json has no attentionLength; using attn_length="
                     << shape.attn_length;
    }
  }
  MELODY_REQUIRE(shape.input_size == model.config.sizes.input_size &&
                 shape.num_classes == model.config.sizes.num_classes)
      << dir << ": the network takes " << shape.input_size << " inputs and has "
      << shape.num_classes << " classes, but the " << model.selection.Describe()
      << " encoder gives " << model.config.sizes.input_size << " and "
      << model.config.sizes.num_classes;
  if (spec && spec->min_pitch && spec->max_pitch &&
      (*spec->min_pitch != model.config.melody.min_note ||
       *spec->max_pitch != model.config.melody.max_note - 1))
    LOG(WARNING) << dir << ": config.json's MelodyConverter range " << *spec->min_pitch << ".."
                 << *spec->max_pitch << " differs from the " << model.selection.Describe()
                 << " note range " << model.config.melody.min_note << ".."
                 << model.config.melody.max_note - 1 << "; using the config's";

  AdoptNetworkShape(shape, requested, "the TF.js checkpoint's network", &model.config.hparams);
  model.layout = ModelLayout::Build(shape);
  Parameters host(model.layout);
  LoadParameters(tensors, &host, dir);
  model.params = ctx.is_cpu() ? host : host.CopyTo(ctx);
  return model;
}

}  // namespace melody
