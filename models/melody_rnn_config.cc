#include "models/melody_rnn_config.h"

#include <cmath>

#include "core/error.h"

namespace melody {

HParams BaseHParams() {
  HParams h;
  h.Add("batch_size", HParamValue::Int(64));
  h.Add("rnn_layer_sizes", HParamValue::IntList({128, 128}));
  h.Add("dropout_keep_prob", HParamValue::Float(1.0));
  h.Add("attn_length", HParamValue::Int(0));
  h.Add("clip_norm", HParamValue::Int(3));
  h.Add("learning_rate", HParamValue::Float(0.001));
  h.Add("residual_connections", HParamValue::Bool(false));
  h.Add("use_cudnn", HParamValue::Bool(false));
  return h;
}

EncoderSizes EncoderSizesFor(const MelodyConfig& melody) {
  auto encoder = melody.MakeEncoder();
  EncoderSizes sizes;
  sizes.input_size = encoder->input_size();
  sizes.num_classes = encoder->num_classes();
  sizes.no_event_label = encoder->default_event_label();
  return sizes;
}

MelodyRnnConfig DefaultMelodyRnnConfig(const std::string& id) {
  MelodyRnnConfig config;
  config.melody = MelodyConfigById(id);  // validates the id
  // Each config's own values, merged over the base table (model.md §1.2).
  config.hparams = BaseHParams();
  config.hparams.Set("batch_size", HParamValue::Int(128));
  config.hparams.Set("rnn_layer_sizes", HParamValue::IntList({128, 128}));
  config.hparams.Set("dropout_keep_prob", HParamValue::Float(0.5));
  if (id == "attention_rnn") {
    config.hparams.Set("attn_length", HParamValue::Int(40));
    config.hparams.Set("clip_norm", HParamValue::Int(3));
  } else {
    config.hparams.Set("clip_norm", HParamValue::Int(5));
  }
  config.hparams.Set("learning_rate", HParamValue::Float(0.001));
  config.sizes = EncoderSizesFor(config.melody);
  return config;
}

MelodyRnnConfig MelodyRnnConfigFromFlags(const ConfigFlags& flags) {
  if (flags.config.empty() == flags.melody_encoder_decoder.empty())
    MELODY_FAIL() << "Exactly one of `--config` or `--melody_encoder_decoder` must be supplied.";
  MelodyRnnConfig config;
  if (!flags.config.empty()) {
    config = DefaultMelodyRnnConfig(flags.config);
    config.hparams.Parse(flags.hparams);
    if (!flags.generator_id.empty()) config.melody.id = flags.generator_id;
    if (flags.generator_description) config.melody.description = *flags.generator_description;
  } else {
    config.melody = MelodyConfigFromEncoderDecoder(flags.melody_encoder_decoder);
    HParams parsed;  // empty: any assignment is an unknown name
    parsed.Parse(flags.hparams);
    config.hparams = BaseHParams();
    config.sizes = EncoderSizesFor(config.melody);
    config.has_details = !flags.generator_id.empty();
    config.melody.id = flags.generator_id;
    config.melody.description =
        config.has_details ? flags.generator_description.value_or("") : "";
  }
  return config;
}

ModelHParams ModelHParamsFrom(const HParams& h) {
  ModelHParams m;
  const int64_t batch_size = h.GetInt("batch_size");
  MELODY_REQUIRE(batch_size >= 1) << "hparams: batch_size must be >= 1, got " << batch_size;
  m.batch_size = static_cast<int>(batch_size);
  const auto& sizes = h.GetIntList("rnn_layer_sizes");
  MELODY_REQUIRE(!sizes.empty()) << "hparams: rnn_layer_sizes is empty; the network needs at "
                                    "least one layer";
  for (int64_t s : sizes) {
    MELODY_REQUIRE(s >= 1 && s <= (1 << 20))
        << "hparams: every rnn_layer_sizes entry must be a positive width, got " << s;
    m.rnn_layer_sizes.push_back(static_cast<int>(s));
  }
  m.dropout_keep_prob = h.GetFloat("dropout_keep_prob");
  // DropoutWrapper rejects values outside [0, 1] with a message formatted by Python's %d,
  // which prints the value truncated to an integer (1.5 -> "1"); the dropout op then
  // rejects exactly 0.
  MELODY_REQUIRE(m.dropout_keep_prob >= 0.0 && m.dropout_keep_prob <= 1.0)
      << "Parameter output_keep_prob must be between 0 and 1: "
      << (std::isfinite(m.dropout_keep_prob)
              ? std::to_string(static_cast<long long>(std::trunc(m.dropout_keep_prob)))
              : PythonFloatRepr(m.dropout_keep_prob));
  MELODY_REQUIRE(m.dropout_keep_prob > 0.0)
      << "hparams: dropout_keep_prob 0.0 (dropout rate 1) is rejected by the dropout op";
  const int64_t attn_length = h.GetInt("attn_length");
  MELODY_REQUIRE(attn_length >= 0)
      << "attn_length should be greater than zero, got " << attn_length;
  m.attn_length = static_cast<int>(attn_length);
  const HParamValue& clip = h.Get("clip_norm");
  m.clip_norm = clip.type == HParamValue::Type::kFloat ? clip.float_value
                                                       : static_cast<double>(clip.int_value);
  m.learning_rate = h.GetFloat("learning_rate");
  m.residual_connections = h.GetBool("residual_connections");
  m.use_cudnn = h.GetBool("use_cudnn");
  return m;
}

std::vector<std::string> GraphConstructionWarnings(const ModelHParams& hparams) {
  std::vector<std::string> warnings;
  if (hparams.use_cudnn) warnings.push_back("cuDNN LSTM no longer supported. Using regular LSTM.");
  return warnings;
}

std::string HParamsLogLine(const HParams& hparams) {
  return "hparams = " + hparams.PythonDictRepr();
}

}  // namespace melody
