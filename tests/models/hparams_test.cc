// --hparams grammar, types and every error message of shared/spec/apps.md §3, the Python
// dict repr of the log line, and the config defaults of model.md §1.
#include "models/hparams.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/melody_rnn_config.h"

namespace melody {
namespace {

// The error message of parsing `text` into the basic_rnn hparams ("" if it parsed).
std::string ParseError(const std::string& text, HParams h = DefaultMelodyRnnConfig("basic_rnn").hparams) {
  try {
    h.Parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

HParams Parsed(const std::string& text) {
  HParams h = DefaultMelodyRnnConfig("basic_rnn").hparams;
  h.Parse(text);
  return h;
}

TEST(HParamsTest, DefaultsAndLogLine) {
  EXPECT_EQ(HParamsLogLine(DefaultMelodyRnnConfig("attention_rnn").hparams),
            "hparams = {'batch_size': 128, 'rnn_layer_sizes': [128, 128], "
            "'dropout_keep_prob': 0.5, 'attn_length': 40, 'clip_norm': 3, "
            "'learning_rate': 0.001, 'residual_connections': False, 'use_cudnn': False}");
  for (const char* id : {"basic_rnn", "mono_rnn", "lookback_rnn"}) {
    EXPECT_EQ(DefaultMelodyRnnConfig(id).hparams.PythonDictRepr(),
              "{'batch_size': 128, 'rnn_layer_sizes': [128, 128], 'dropout_keep_prob': 0.5, "
              "'attn_length': 0, 'clip_norm': 5, 'learning_rate': 0.001, "
              "'residual_connections': False, 'use_cudnn': False}")
        << id;
  }
  EXPECT_EQ(BaseHParams().PythonDictRepr(),
            "{'batch_size': 64, 'rnn_layer_sizes': [128, 128], 'dropout_keep_prob': 1.0, "
            "'attn_length': 0, 'clip_norm': 3, 'learning_rate': 0.001, "
            "'residual_connections': False, 'use_cudnn': False}");
  // clip_norm is an int hparam everywhere.
  EXPECT_EQ(DefaultMelodyRnnConfig("attention_rnn").hparams.Get("clip_norm").type,
            HParamValue::Type::kInt);
}

TEST(HParamsTest, ConfigsAndEncoderSizes) {
  struct Want {
    const char* id;
    const char* description;
    int input_size, num_classes, no_event;
  };
  for (const Want& w : {Want{"basic_rnn", "Melody RNN with one-hot encoding.", 38, 38, 0},
                        Want{"mono_rnn", "Monophonic RNN with one-hot encoding.", 130, 130, 0},
                        Want{"lookback_rnn", "Melody RNN with lookback encoding.", 121, 40, 0},
                        Want{"attention_rnn", "Melody RNN with lookback encoding and attention.",
                             74, 40, 36}}) {
    MelodyRnnConfig c = DefaultMelodyRnnConfig(w.id);
    EXPECT_EQ(c.melody.id, w.id);
    EXPECT_EQ(c.melody.description, w.description);
    EXPECT_EQ(c.sizes.input_size, w.input_size) << w.id;
    EXPECT_EQ(c.sizes.num_classes, w.num_classes) << w.id;
    EXPECT_EQ(c.sizes.no_event_label, w.no_event) << w.id;
    EXPECT_TRUE(c.has_details);
  }
}

TEST(HParamsTest, FlagResolution) {
  ConfigFlags f;
  EXPECT_THROW(MelodyRnnConfigFromFlags(f), Error);
  f.config = "basic_rnn";
  f.melody_encoder_decoder = "onehot";
  try {
    MelodyRnnConfigFromFlags(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "Exactly one of `--config` or `--melody_encoder_decoder` must be supplied.");
  }
  f = ConfigFlags{};
  f.config = "jazz_rnn";
  try {
    MelodyRnnConfigFromFlags(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "`--config` must be one of dict_keys(['basic_rnn', 'mono_rnn', "
                           "'lookback_rnn', 'attention_rnn']). Got jazz_rnn.");
  }
  f.config = "attention_rnn";
  f.hparams = "batch_size=64,rnn_layer_sizes=[64,64]";
  f.generator_id = "my_id";
  f.generator_description = "mine";
  MelodyRnnConfig c = MelodyRnnConfigFromFlags(f);
  EXPECT_EQ(c.melody.id, "my_id");
  EXPECT_EQ(c.melody.description, "mine");
  EXPECT_EQ(c.hparams.GetInt("batch_size"), 64);
  EXPECT_EQ(c.hparams.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.hparams.GetInt("attn_length"), 40);

  // --melody_encoder_decoder: base hparams, no attention even for key, no details.
  f = ConfigFlags{};
  f.melody_encoder_decoder = "key";
  c = MelodyRnnConfigFromFlags(f);
  EXPECT_EQ(c.hparams.PythonDictRepr(), BaseHParams().PythonDictRepr());
  EXPECT_EQ(c.sizes.input_size, 74);
  EXPECT_EQ(c.sizes.num_classes, 40);
  EXPECT_EQ(c.sizes.no_event_label, 36);
  EXPECT_FALSE(c.has_details);
  f.melody_encoder_decoder = "lookback";
  f.generator_id = "g";
  c = MelodyRnnConfigFromFlags(f);
  EXPECT_TRUE(c.has_details);
  EXPECT_EQ(c.sizes.input_size, 121);
  f.hparams = "batch_size=32";
  try {
    MelodyRnnConfigFromFlags(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Unknown hyperparameter type for batch_size");
  }
  f.melody_encoder_decoder = "polyphony";
  try {
    MelodyRnnConfigFromFlags(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "`--melody_encoder_decoder` must be one of dict_keys(['onehot', "
                           "'lookback', 'key']). Got polyphony.");
  }
}

TEST(HParamsTest, AcceptedValues) {
  HParams h = Parsed("batch_size=64,rnn_layer_sizes=[64,64]");
  EXPECT_EQ(h.GetInt("batch_size"), 64);
  EXPECT_EQ(h.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{64, 64}));
  h = Parsed("learning_rate=0.0005, dropout_keep_prob=0.8");
  EXPECT_EQ(h.GetFloat("learning_rate"), 0.0005);
  EXPECT_EQ(h.GetFloat("dropout_keep_prob"), 0.8);
  EXPECT_EQ(Parsed("rnn_layer_sizes=[256 256 256]").GetIntList("rnn_layer_sizes"),
            (std::vector<int64_t>{256, 256, 256}));
  EXPECT_EQ(Parsed("rnn_layer_sizes=[ 32,, 16 ,]").GetIntList("rnn_layer_sizes"),
            (std::vector<int64_t>{32, 16}));
  EXPECT_TRUE(Parsed("rnn_layer_sizes=[]").GetIntList("rnn_layer_sizes").empty());
  EXPECT_EQ(Parsed("dropout_keep_prob=1").GetFloat("dropout_keep_prob"), 1.0);
  EXPECT_EQ(Parsed("dropout_keep_prob=1").Get("dropout_keep_prob").PythonRepr(), "1.0");
  EXPECT_EQ(Parsed("learning_rate=1e-3").GetFloat("learning_rate"), 1e-3);
  EXPECT_EQ(Parsed("attn_length=40").GetInt("attn_length"), 40);
  EXPECT_EQ(Parsed("clip_norm=5").GetInt("clip_norm"), 5);
  for (const char* t : {"true", "True", "1", "-3", " 7 "})
    EXPECT_TRUE(Parsed(std::string("residual_connections=") + t).GetBool("residual_connections")) << t;
  for (const char* t : {"false", "False", "0", "00"})
    EXPECT_FALSE(Parsed(std::string("residual_connections=") + t).GetBool("residual_connections")) << t;
  EXPECT_TRUE(Parsed("use_cudnn=True").GetBool("use_cudnn"));
  // Python int()/float() forms: surrounding spaces, underscores, signs.
  EXPECT_EQ(Parsed("batch_size=64 ").GetInt("batch_size"), 64);
  EXPECT_EQ(Parsed("batch_size = 1_000").GetInt("batch_size"), 1000);
  EXPECT_EQ(Parsed("batch_size=+8").GetInt("batch_size"), 8);
  EXPECT_EQ(Parsed("learning_rate=.5").GetFloat("learning_rate"), 0.5);
  EXPECT_EQ(Parsed("learning_rate=5.").GetFloat("learning_rate"), 5.0);
  EXPECT_EQ(Parsed("learning_rate=1_0.2_5").GetFloat("learning_rate"), 10.25);
  // Empty string: nothing changes.
  EXPECT_EQ(Parsed("").PythonDictRepr(), DefaultMelodyRnnConfig("basic_rnn").hparams.PythonDictRepr());
  // Spaces after commas.
  EXPECT_EQ(Parsed("batch_size=2,   clip_norm=1").GetInt("clip_norm"), 1);
}

// Every row of the apps.md §3 error table.
TEST(HParamsTest, ErrorTable) {
  // text not matching the grammar
  EXPECT_EQ(ParseError("batch_size"), "Malformed hyperparameter value: batch_size");
  EXPECT_EQ(ParseError("batch_size=64,,clip_norm=2"),
            "Malformed hyperparameter value: ,clip_norm=2");
  EXPECT_EQ(ParseError(" batch_size=64"), "Malformed hyperparameter value:  batch_size=64");
  EXPECT_EQ(ParseError("rnn_layer_sizes=[64]x"), "Malformed hyperparameter value: rnn_layer_sizes=[64]x");
  EXPECT_EQ(ParseError("batch_size=64,1x=2"), "Malformed hyperparameter value: 1x=2");
  EXPECT_EQ(ParseError("batch_size=6[4]"), "Malformed hyperparameter value: batch_size=6[4]");
  EXPECT_EQ(ParseError("rnn_layer_sizes=[64"), "Malformed hyperparameter value: rnn_layer_sizes=[64");
  // unknown name
  EXPECT_EQ(ParseError("batch=64"), "Unknown hyperparameter type for batch");
  EXPECT_EQ(ParseError("batch_size=64,foo.bar=1"), "Unknown hyperparameter type for foo.bar");
  // value not parsable with the type
  EXPECT_EQ(ParseError("batch_size=64.0"),
            "Could not parse hparam 'batch_size' of type 'int' with value '64.0' in batch_size=64.0");
  EXPECT_EQ(ParseError("clip_norm=2.5"),
            "Could not parse hparam 'clip_norm' of type 'int' with value '2.5' in clip_norm=2.5");
  EXPECT_EQ(ParseError("residual_connections=yes"),
            "Could not parse hparam 'residual_connections' of type 'bool' with value 'yes' in "
            "residual_connections=yes");
  EXPECT_EQ(ParseError("learning_rate=fast,batch_size=1"),
            "Could not parse hparam 'learning_rate' of type 'float' with value 'fast' in "
            "learning_rate=fast,batch_size=1");
  EXPECT_EQ(ParseError("batch_size="),
            "Could not parse hparam 'batch_size' of type 'int' with value '' in batch_size=");
  EXPECT_EQ(ParseError("rnn_layer_sizes=[64, x]"),
            "Could not parse hparam 'rnn_layer_sizes' of type 'int' with value '64, x' in "
            "rnn_layer_sizes=[64, x]");
  EXPECT_EQ(ParseError("batch_size=0x10"),
            "Could not parse hparam 'batch_size' of type 'int' with value '0x10' in batch_size=0x10");
  EXPECT_EQ(ParseError("batch_size=1__0"),
            "Could not parse hparam 'batch_size' of type 'int' with value '1__0' in batch_size=1__0");
  // same name twice
  EXPECT_EQ(ParseError("batch_size=1,batch_size=2"),
            "Multiple assignments to variable 'batch_size' in batch_size=1,batch_size=2");
  EXPECT_EQ(ParseError("rnn_layer_sizes=[1],rnn_layer_sizes=[2]"),
            "Multiple assignments to variable 'rnn_layer_sizes' in rnn_layer_sizes=[1],rnn_layer_sizes=[2]");
  EXPECT_EQ(ParseError("batch_size[0]=1,batch_size[0]=2"),
            "Multiple assignments to variable 'batch_size[0]' in batch_size[0]=1,batch_size[0]=2");
  EXPECT_EQ(ParseError("batch_size=1,batch_size[0]=2"),
            "Multiple assignments to variable 'batch_size' in batch_size=1,batch_size[0]=2");
  // scalar given for a list hparam (also the index form on a list hparam)
  EXPECT_EQ(ParseError("rnn_layer_sizes=64"),
            "Must pass a list for multi-valued parameter: rnn_layer_sizes.");
  EXPECT_EQ(ParseError("rnn_layer_sizes[0]=64"),
            "Must pass a list for multi-valued parameter: rnn_layer_sizes.");
  // list given for a scalar hparam
  EXPECT_EQ(ParseError("batch_size=[64]"),
            "Must not pass a list for single-valued parameter: batch_size");
  EXPECT_EQ(ParseError("learning_rate=[0.1, 0.2]"),
            "Must not pass a list for single-valued parameter: learning_rate");
  // index form on a scalar hparam
  EXPECT_EQ(ParseError("batch_size[0]=5"),
            "Could not cast hparam 'batch_size' of type '<class 'int'>' from value {0: 5}");
  EXPECT_EQ(ParseError("dropout_keep_prob[ 2 ]=1,dropout_keep_prob[0]=0.25"),
            "Could not cast hparam 'dropout_keep_prob' of type '<class 'float'>' from value "
            "{2: 1.0, 0: 0.25}");
  EXPECT_EQ(ParseError("use_cudnn[1]=true"),
            "Could not cast hparam 'use_cudnn' of type '<class 'bool'>' from value {1: True}");
  // list assigned to an index
  EXPECT_EQ(ParseError("rnn_layer_sizes[0]=[1]"), "Assignment of a list to a list index.");
  // Parse errors come before apply errors, whatever their order in the string.
  EXPECT_EQ(ParseError("batch_size=[1],clip_norm=x"),
            "Could not parse hparam 'clip_norm' of type 'int' with value 'x' in batch_size=[1],clip_norm=x");
}

TEST(HParamsTest, FailedParseChangesNothing) {
  HParams h = DefaultMelodyRnnConfig("basic_rnn").hparams;
  const std::string before = h.PythonDictRepr();
  EXPECT_THROW(h.Parse("batch_size=7,rnn_layer_sizes=3"), Error);
  EXPECT_EQ(h.PythonDictRepr(), before);
}

TEST(HParamsTest, PythonFloatRepr) {
  EXPECT_EQ(PythonFloatRepr(0.001), "0.001");
  EXPECT_EQ(PythonFloatRepr(0.5), "0.5");
  EXPECT_EQ(PythonFloatRepr(1.0), "1.0");
  EXPECT_EQ(PythonFloatRepr(1e-5), "1e-05");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(PythonFloatRepr(123.456), "123.456");
  EXPECT_EQ(PythonFloatRepr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(PythonFloatRepr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(PythonFloatRepr(1.5e300), "1.5e+300");
}

TEST(HParamsTest, ModelHParamsValidation) {
  ModelHParams m = ModelHParamsFrom(DefaultMelodyRnnConfig("attention_rnn").hparams);
  EXPECT_EQ(m.batch_size, 128);
  EXPECT_EQ(m.rnn_layer_sizes, (std::vector<int>{128, 128}));
  EXPECT_EQ(m.dropout_keep_prob, 0.5);
  EXPECT_EQ(m.attn_length, 40);
  EXPECT_EQ(m.clip_norm, 3.0);
  auto error = [](const std::string& text) {
    HParams h = DefaultMelodyRnnConfig("basic_rnn").hparams;
    h.Parse(text);
    try {
      ModelHParamsFrom(h);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("rnn_layer_sizes=[]"), "");
  EXPECT_EQ(error("attn_length=-2"), "attn_length should be greater than zero, got -2");
  // TF formats the value with %d.
  EXPECT_EQ(error("dropout_keep_prob=1.5"), "Parameter output_keep_prob must be between 0 and 1: 1");
  EXPECT_EQ(error("dropout_keep_prob=-0.5"), "Parameter output_keep_prob must be between 0 and 1: 0");
  EXPECT_EQ(error("dropout_keep_prob=2.5e3"), "Parameter output_keep_prob must be between 0 and 1: 2500");
  EXPECT_NE(error("dropout_keep_prob=0"), "");
  EXPECT_NE(error("batch_size=0"), "");
  EXPECT_EQ(error("dropout_keep_prob=1"), "");
  EXPECT_TRUE(GraphConstructionWarnings(m).empty());
  HParams h = DefaultMelodyRnnConfig("basic_rnn").hparams;
  h.Parse("use_cudnn=true");
  EXPECT_EQ(GraphConstructionWarnings(ModelHParamsFrom(h)),
            std::vector<std::string>{"cuDNN LSTM no longer supported. Using regular LSTM."});
}

}  // namespace
}  // namespace melody
