// The melody configurations (shared/spec/model.md §1.2, encodings.md §4): which encoder,
// note range and transposition key each config uses, and the --config /
// --melody_encoder_decoder names.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/melody_encoder.h"

namespace melody {

enum class MelodyEncoderKind { kOneHot, kLookback, kKeyMelody };

struct MelodyConfig {
  std::string id;           // basic_rnn, ... ("" for a --melody_encoder_decoder config)
  std::string description;  // GeneratorDetails.description ("" when none)
  MelodyEncoderKind encoder = MelodyEncoderKind::kOneHot;
  int min_note = 48;
  int max_note = 84;  // exclusive
  std::optional<int> transpose_to_key = 0;
  int steps_per_quarter = 4;

  std::unique_ptr<MelodyEncoder> MakeEncoder() const;
};

// basic_rnn, mono_rnn, lookback_rnn, attention_rnn (in that order).
const std::vector<std::string>& MelodyConfigIds();
// onehot, lookback, key.
const std::vector<std::string>& MelodyEncoderDecoderNames();

// The built-in config; throws melody::Error
// "`--config` must be one of dict_keys([...]). Got X." for an unknown id.
MelodyConfig MelodyConfigById(const std::string& id);
// The config --melody_encoder_decoder builds (range [48, 84), key 0); throws
// "`--melody_encoder_decoder` must be one of dict_keys([...]). Got X." for an unknown name.
MelodyConfig MelodyConfigFromEncoderDecoder(const std::string& name);

// Throws melody::Error with the reference's texts when min_note < 0, max_note > 128,
// max_note - min_note < 12 or transpose_to_key outside 0..11.
void ValidateMelodyConfig(const MelodyConfig& config);

}  // namespace melody
