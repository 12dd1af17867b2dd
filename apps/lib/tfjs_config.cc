#include "apps/lib/tfjs_config.h"

#include <nlohmann/json.hpp>

#include "apps/lib/generate_bundle.h"
#include "core/error.h"

namespace melody {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kRecordKey = "melodyRnn";

std::optional<int> OptionalInt(const Json& object, const char* key, const std::string& what) {
  if (!object.is_object() || !object.contains(key) || object.at(key).is_null())
    return std::nullopt;
  const Json& value = object.at(key);
  MELODY_REQUIRE(value.is_number_integer())
      << what << ": \"" << key << "\" must be an integer, got " << value.dump();
  return value.get<int>();
}

const char* EncoderName(MelodyEncoderKind kind) {
  switch (kind) {
    case MelodyEncoderKind::kOneHot: return "one-hot";
    case MelodyEncoderKind::kLookback: return "lookback";
    case MelodyEncoderKind::kKeyMelody: return "key-melody";
  }
  return "?";
}

}  // namespace

std::string MakeTfjsConfigJson(const GeneratorModel& model) {
  Json spec;
  spec["type"] = "MusicRNN";
  spec["dataConverter"] = {
      {"type", "MelodyConverter"},
      {"args",
       {{"minPitch", model.config.melody.min_note}, {"maxPitch", model.config.melody.max_note - 1}}}};
  if (model.layout.shape.attn_length > 0) spec["attentionLength"] = model.layout.shape.attn_length;
  spec[kRecordKey] =
      Json::parse(MakeBundleConfigRecord(model.selection, model.config.hparams));
  return spec.dump(2) + "\n";
}

TfjsModelSpec ParseTfjsConfigJson(const std::string& text, const std::string& what) {
  const Json spec = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  MELODY_REQUIRE(!spec.is_discarded()) << what << ": not valid JSON";
  MELODY_REQUIRE(spec.is_object()) << what << ": a MusicRNN config is a JSON object";
  TfjsModelSpec out;
  MELODY_REQUIRE(spec.contains("type") && spec.at("type").is_string())
      << what << ": no \"type\" (magenta.js needs \"MusicRNN\")";
  out.type = spec.at("type").get<std::string>();
  MELODY_REQUIRE(out.type == "MusicRNN")
      << what << ": type '" << out.type << "' is not a MusicRNN checkpoint";
  if (spec.contains("dataConverter")) {
    const Json& converter = spec.at("dataConverter");
    MELODY_REQUIRE(converter.is_object()) << what << ": \"dataConverter\" is not an object";
    if (converter.contains("type") && converter.at("type").is_string())
      out.converter_type = converter.at("type").get<std::string>();
    if (converter.contains("args")) {
      out.min_pitch = OptionalInt(converter.at("args"), "minPitch", what + " dataConverter.args");
      out.max_pitch = OptionalInt(converter.at("args"), "maxPitch", what + " dataConverter.args");
    }
  }
  out.attention_length = OptionalInt(spec, "attentionLength", what);
  if (out.attention_length) {
    MELODY_REQUIRE(*out.attention_length >= 1)
        << what << ": attentionLength must be >= 1, got " << *out.attention_length;
  }
  if (spec.contains(kRecordKey)) out.config_record = spec.at(kRecordKey).dump();
  return out;
}

std::vector<std::string> MagentaJsIncompatibilities(const GeneratorModel& model) {
  std::vector<std::string> problems;
  const ModelShape& shape = model.layout.shape;
  if (model.config.melody.encoder != MelodyEncoderKind::kOneHot)
    problems.push_back(
        std::string("magenta.js feeds MusicRNN the one-hot of each melody event; this model's ") +
        EncoderName(model.config.melody.encoder) + " encoder (" +
        std::to_string(shape.input_size) + " inputs a step) is not available there");
  if (shape.attn_length > 0)
    problems.push_back(
        "magenta.js's attention wrapper expects it around the whole layer stack "
        "(rnn/attention_cell_wrapper/...); Magenta's Melody RNN wraps layer 0 only "
        "(rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/...), where magenta.js finds no LSTM");
  if (shape.residual_connections)
    problems.push_back("magenta.js has no residual connections or input projections");
  return problems;
}

}  // namespace melody
