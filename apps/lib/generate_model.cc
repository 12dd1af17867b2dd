#include "apps/lib/generate_model.h"

#include <glog/logging.h>

#include <algorithm>

#include "apps/lib/generate_bundle.h"
#include "apps/lib/run_config.h"
#include "apps/lib/tfjs_model.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "data/melody_config.h"
#include "models/generator_bundle.h"
#include "models/model_checkpoint.h"

namespace melody {

namespace {

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

bool HasAttentionTensors(const TensorMap& tensors) {
  for (const auto& [name, tensor] : tensors)
    if (name.find("attention_cell_wrapper") != std::string::npos) return true;
  return false;
}

// Builds the parameters of `shape` from checkpoint tensors on ctx's device.
Parameters LoadOntoDevice(Context& ctx, const ModelLayout& layout, const TensorMap& tensors,
                          const std::string& what) {
  Parameters host(layout);
  LoadParameters(tensors, &host, what);
  return ctx.is_cpu() ? host : host.CopyTo(ctx);
}

}  // namespace

void AdoptNetworkShape(const ModelShape& shape, const HParams& requested,
                       const std::string& source, HParams* hparams) {
  std::vector<int64_t> sizes(shape.layer_sizes.begin(), shape.layer_sizes.end());
  hparams->Set("rnn_layer_sizes", HParamValue::IntList(sizes));
  hparams->Set("attn_length", HParamValue::Int(shape.attn_length));
  hparams->Set("residual_connections", HParamValue::Bool(shape.residual_connections));
  for (const char* name : {"rnn_layer_sizes", "attn_length", "residual_connections"}) {
    if (!(requested.Get(name) == hparams->Get(name)))
      LOG(WARNING) << "--hparams " << name << "=" << requested.Get(name).PythonRepr()
                   << " has no effect: " << source << " has " << name << "="
                   << hparams->Get(name).PythonRepr();
  }
}

GeneratorModel LoadGeneratorFromBundle(Context& ctx, const std::string& path,
                                       const std::string& hparams_text) {
  int extra = 0;
  const GeneratorBundleContents bundle = ReadGeneratorBundle(path, &extra);
  if (extra > 0)
    LOG(WARNING) << path << ": the bundle holds " << extra + 1
                 << " checkpoints; using the first, as Magenta does";
  GeneratorModel model;
  model.source = "bundle " + path;
  ConfigSelection selection;
  if (bundle.config_record) {
    model.config = ConfigFromBundleRecord(*bundle.config_record, path, &selection);
  } else {
    const auto& ids = MelodyConfigIds();
    MELODY_REQUIRE(std::find(ids.begin(), ids.end(), bundle.generator_id) != ids.end())
        << path << ": generator id in bundle ('" << bundle.generator_id
        << "') is not a Melody RNN generator id (" << JoinIds(ids)
        << "); this bundle belongs to another model";
    model.config = DefaultMelodyRnnConfig(bundle.generator_id);
    selection.config = bundle.generator_id;
  }
  model.config.melody.id = bundle.generator_id;
  model.config.melody.description = bundle.generator_description;
  model.selection = selection;
  // --hparams must parse against the config, but the bundle's tensors fix the network.
  HParams requested = model.config.hparams;
  requested.Parse(hparams_text);

  const TensorMap tensors = CanonicalizeCheckpointTensors(
      ParseCheckpointV1(bundle.checkpoint_v1, path + ": checkpoint_file[0]"));
  const MetagraphFacts facts = InspectMetagraph(bundle.metagraph);
  model.metagraph = bundle.metagraph;
  model.graph_has_temperature = !facts.parsed || facts.has_temperature;
  const bool attention = HasAttentionTensors(tensors);
  const int64_t stored_attn = model.config.hparams.GetInt("attn_length");
  ModelShape shape =
      InferModelShape(tensors, attention ? static_cast<int>(std::max<int64_t>(stored_attn, 1)) : 0);
  if (attention && !bundle.config_record) {
    // Magenta bundles store attn_length only in the graph (formats.md §6).
    if (auto from_graph = AttnLengthFromMetagraph(facts, shape.layer_sizes.at(0))) {
      shape.attn_length = *from_graph;
    } else {
      shape.attn_length = static_cast<int>(requested.GetInt("attn_length"));
      LOG(WARNING) << path << ": the metagraph does not give attn_length; using "
                   << shape.attn_length << " (set it with --hparams=attn_length=N)";
    }
  }
  MELODY_REQUIRE(shape.input_size == model.config.sizes.input_size &&
                 shape.num_classes == model.config.sizes.num_classes)
      << path << ": the bundle's network takes " << shape.input_size << " inputs and has "
      << shape.num_classes << " classes, but the " << selection.Describe() << " encoder gives "
      << model.config.sizes.input_size << " and " << model.config.sizes.num_classes;
  // Record the network the tensors describe, so logs and re-saved bundles say the truth.
  AdoptNetworkShape(shape, requested, "the bundle's network", &model.config.hparams);
  model.layout = ModelLayout::Build(shape);
  model.params = LoadOntoDevice(ctx, model.layout, tensors, path);
  return model;
}

std::string ResolveCheckpointPrefix(const ModelSource& source) {
  const std::string given = !source.run_dir.empty()
                                ? JoinPath(ExpandUser(source.run_dir), "train")
                                : ExpandUser(source.checkpoint_file);
  MELODY_REQUIRE(PathExists(given) || PathExists(given + ".index"))
      << "Checkpoint path does not exist: " << given;
  std::string prefix = given;
  if (IsDirectory(given)) {
    prefix = LatestCheckpoint(given);
    MELODY_REQUIRE(!prefix.empty()) << "No checkpoint file found in directory: " << given;
    MELODY_REQUIRE(!IsDirectory(prefix))
        << "Checkpoint path is not a file: " << prefix << " (supplied path: " << given << ")";
  }
  return prefix;
}

GeneratorModel LoadGeneratorFromCheckpoint(Context& ctx, const ModelSource& source,
                                           const ConfigFlags& flags) {
  if (!source.tfjs_dir.empty()) return LoadGeneratorFromTfjs(ctx, ExpandUser(source.tfjs_dir), flags);
  GeneratorModel model;
  if (!source.run_dir.empty()) {
    const std::string train_dir = JoinPath(ExpandUser(source.run_dir), "train");
    const std::optional<RunConfig> stored =
        IsDirectory(train_dir) ? ReadRunConfig(train_dir) : std::nullopt;
    model.config = ResolveRunConfig(stored, flags, RunConfigPath(train_dir));
    if (stored) {
      model.selection.config = stored->config;
      model.selection.melody_encoder_decoder = stored->melody_encoder_decoder;
    }
  } else {
    model.config = MelodyRnnConfigFromFlags(flags);
  }
  if (model.selection.config.empty() && model.selection.melody_encoder_decoder.empty()) {
    model.selection.config = flags.config;
    model.selection.melody_encoder_decoder = flags.melody_encoder_decoder;
  }
  const std::string prefix = ResolveCheckpointPrefix(source);
  model.source = "checkpoint " + prefix;
  const ModelHParams hparams = ModelHParamsFrom(model.config.hparams);
  model.layout = ModelLayout::Build(ModelShape::From(model.config.sizes, hparams));
  const TensorMap tensors = CanonicalizeCheckpointTensors(ReadCheckpointV2(prefix));
  model.params = LoadOntoDevice(ctx, model.layout, tensors, prefix);
  return model;
}

}  // namespace melody

namespace melody {

std::string ConfigSelection::Describe() const {
  return !config.empty() ? config : "--melody_encoder_decoder=" + melody_encoder_decoder;
}

}  // namespace melody
