#include "data/melody_config.h"

#include "core/error.h"

namespace melody {
namespace {

std::string PythonKeysList(const std::vector<std::string>& names) {
  std::string out = "dict_keys([";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
  return out + "])";
}

}  // namespace

std::unique_ptr<MelodyEncoder> MelodyConfig::MakeEncoder() const {
  switch (encoder) {
    case MelodyEncoderKind::kOneHot:
      return MakeOneHotMelodyEncoder(min_note, max_note);
    case MelodyEncoderKind::kLookback:
      return MakeLookbackMelodyEncoder(min_note, max_note);
    case MelodyEncoderKind::kKeyMelody:
      return MakeKeyMelodyEncoder(min_note, max_note);
  }
  MELODY_FAIL() << "unknown melody encoder kind";
}

const std::vector<std::string>& MelodyConfigIds() {
  static const std::vector<std::string> ids = {"basic_rnn", "mono_rnn", "lookback_rnn",
                                               "attention_rnn"};
  return ids;
}

const std::vector<std::string>& MelodyEncoderDecoderNames() {
  static const std::vector<std::string> names = {"onehot", "lookback", "key"};
  return names;
}

MelodyConfig MelodyConfigById(const std::string& id) {
  MelodyConfig c;
  c.id = id;
  if (id == "basic_rnn") {
    c.description = "Melody RNN with one-hot encoding.";
    c.encoder = MelodyEncoderKind::kOneHot;
  } else if (id == "mono_rnn") {
    c.description = "Monophonic RNN with one-hot encoding.";
    c.encoder = MelodyEncoderKind::kOneHot;
    c.min_note = 0;
    c.max_note = 128;
    c.transpose_to_key = std::nullopt;
  } else if (id == "lookback_rnn") {
    c.description = "Melody RNN with lookback encoding.";
    c.encoder = MelodyEncoderKind::kLookback;
  } else if (id == "attention_rnn") {
    c.description = "Melody RNN with lookback encoding and attention.";
    c.encoder = MelodyEncoderKind::kKeyMelody;
  } else {
    MELODY_FAIL() << "`--config` must be one of " << PythonKeysList(MelodyConfigIds())
                  << ". Got " << id << ".";
  }
  ValidateMelodyConfig(c);
  return c;
}

MelodyConfig MelodyConfigFromEncoderDecoder(const std::string& name) {
  MelodyConfig c;
  if (name == "onehot") {
    c.encoder = MelodyEncoderKind::kOneHot;
  } else if (name == "lookback") {
    c.encoder = MelodyEncoderKind::kLookback;
  } else if (name == "key") {
    c.encoder = MelodyEncoderKind::kKeyMelody;
  } else {
    MELODY_FAIL() << "`--melody_encoder_decoder` must be one of "
                  << PythonKeysList(MelodyEncoderDecoderNames()) << ". Got " << name << ".";
  }
  ValidateMelodyConfig(c);
  return c;
}

void ValidateMelodyConfig(const MelodyConfig& c) {
  MELODY_REQUIRE(c.min_note >= 0) << "min_note must be >= 0. min_note is " << c.min_note << ".";
  MELODY_REQUIRE(c.max_note <= 128)
      << "max_note must be <= 128. max_note is " << c.max_note << ".";
  MELODY_REQUIRE(c.max_note - c.min_note >= 12)
      << "max_note - min_note must be >= 12. min_note is " << c.min_note << ". max_note is "
      << c.max_note << ". max_note - min_note is " << c.max_note - c.min_note << ".";
  if (c.transpose_to_key) {
    MELODY_REQUIRE(*c.transpose_to_key >= 0 && *c.transpose_to_key <= 11)
        << "transpose_to_key must be >= 0 and <= 11. transpose_to_key is "
        << *c.transpose_to_key << ".";
  }
}

}  // namespace melody
