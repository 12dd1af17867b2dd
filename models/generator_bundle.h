// Generator bundles (.mag files, shared/spec/formats.md §6, generation.md §9): the
// GeneratorBundle proto with its one embedded TF V1 checkpoint image and the metagraph,
// what can be recovered from a Magenta metagraph without TensorFlow (generation batch size,
// whether temperature is fed, the flattened state shapes and so attn_length), and the
// record our own tool adds so that a bundle it wrote restores our config id and every
// hyperparameter exactly.
//
// Our record: GeneratorBundle field 15 (unused by generator.proto; protobuf readers,
// Python's included, skip unknown fields), a length-delimited UTF-8 JSON object
//   {"format": "melody_rnn.bundle_config.v1", "config": "<id or ''>",
//    "melody_encoder_decoder": "<name or ''>", "hparams": {"batch_size": 64, ...}}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace melody {

// Field number of our config record inside GeneratorBundle.
constexpr int kBundleConfigRecordField = 15;

struct GeneratorBundleContents {
  std::string generator_id;
  std::string generator_description;
  std::optional<std::string> bundle_description;  // field 4 present only when set
  std::string checkpoint_v1;                      // checkpoint_file[0]
  std::string metagraph;                          // metagraph_file ("" when we wrote none)
  std::optional<std::string> config_record;       // our JSON record (field 15)
};

// Parses bundle bytes; `what` names the file in errors. Refuses what is not a bundle (an
// HTML page, a truncated download, a TFRecord ...), a bundle without a generator id and
// one without a checkpoint. A bundle with more than one checkpoint element uses the first
// (as Magenta does); *extra_checkpoints (when given) receives how many were ignored.
GeneratorBundleContents ParseGeneratorBundle(std::string_view bytes, const std::string& what,
                                             int* extra_checkpoints = nullptr);
GeneratorBundleContents ReadGeneratorBundle(const std::string& path,
                                            int* extra_checkpoints = nullptr);

// Serialized bundle: fields 1, 2, 3, then 4 when bundle_description is set, then our
// record when config_record is set.
std::string SerializeGeneratorBundle(const GeneratorBundleContents& bundle);

// What a Magenta generate-graph MetaGraphDef says about the graph (formats.md §6).
struct MetagraphFacts {
  bool parsed = false;                     // false: empty or not a MetaGraphDef
  std::optional<int64_t> batch_size;       // first dim of the `inputs` placeholder
  std::optional<int64_t> input_size;       // its last dim
  bool has_temperature = false;            // the `temperature` collection is non-empty
  // Shapes of the `initial_state` tensors in collection order (empty shape: unknown).
  std::vector<std::vector<int64_t>> initial_state_shapes;
  std::string tensorflow_version;
};
// Never throws: a metagraph that cannot be read gives parsed = false.
MetagraphFacts InspectMetagraph(std::string_view metagraph);

// attn_length from the attention window state (flattened state index 3, [B, Lw·A], with
// A = layer 0 size); nullopt when the metagraph does not say.
std::optional<int> AttnLengthFromMetagraph(const MetagraphFacts& facts, int layer0_size);

}  // namespace melody
