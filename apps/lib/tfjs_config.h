// The `config.json` of a magenta.js MusicRNN checkpoint (shared/spec/formats.md §11): the
// MusicRNNSpec magenta.js reads ({"type": "MusicRNN", "dataConverter": {"type":
// "MelodyConverter", "args": {"minPitch", "maxPitch"}}, "attentionLength"?}), plus our
// own key "melodyRnn" holding the config record we also put in bundles
// (apps/lib/generate_bundle.h), so that our import restores the config id and every
// hyperparameter exactly. magenta.js ignores keys it does not know.
//
// Which models magenta.js can run (read from its music_rnn/model.ts and attention.ts):
// it feeds the network the one-hot of each melody event (MelodyConverter: index 0 = no
// event, 1 = note off, 2 + pitch - minPitch), so only one-hot encoders (basic_rnn,
// mono_rnn, --melody_encoder_decoder=onehot) fit; and its attention wrapper expects the
// wrapper around the whole layer stack (rnn/attention_cell_wrapper/...), not around layer
// 0 as Magenta's Melody RNN builds it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/lib/generate_model.h"

namespace melody {

constexpr const char* kTfjsConfigFile = "config.json";

// What we read from a config.json.
struct TfjsModelSpec {
  std::string type;            // "MusicRNN" for the checkpoints we read
  std::string converter_type;  // dataConverter.type ("" when absent)
  std::optional<int> min_pitch, max_pitch;  // MelodyConverter args (inclusive)
  std::optional<int> attention_length;
  std::optional<std::string> config_record;  // our "melodyRnn" record, as JSON text
};

// config.json for a model: MelodyConverter with the config's note range (max_note - 1 as
// maxPitch), attentionLength for attention models, our record.
std::string MakeTfjsConfigJson(const GeneratorModel& model);
// Errors name `what`: not JSON, not an object, a type other than MusicRNN, bad args.
TfjsModelSpec ParseTfjsConfigJson(const std::string& text, const std::string& what);

// Why magenta.js's MusicRNN cannot run this model (empty when it can).
std::vector<std::string> MagentaJsIncompatibilities(const GeneratorModel& model);

}  // namespace melody
