// The run directory's stored config (apps/lib/run_config.h): round trip, resolution of
// flags against it, and refusal of shape-changing overrides.
#include "apps/lib/run_config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

ConfigFlags Flags(const std::string& config, const std::string& hparams) {
  ConfigFlags f;
  f.config = config;
  f.hparams = hparams;
  return f;
}

RunConfig StoreAndReload(const ConfigFlags& flags, const std::string& dir) {
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
  WriteRunConfig(dir, RunConfigOf(flags, config));
  auto back = ReadRunConfig(dir);
  EXPECT_TRUE(back.has_value());
  return *back;
}

TEST(RunConfigTest, RoundTripKeepsEveryHParamAndItsType) {
  const std::string dir = testing::MakeTempDir("run_config");
  const ConfigFlags flags =
      Flags("attention_rnn", "batch_size=16,rnn_layer_sizes=[32,48],learning_rate=0.0005,"
                             "dropout_keep_prob=1,residual_connections=true");
  const RunConfig back = StoreAndReload(flags, dir);
  EXPECT_EQ(back.config, "attention_rnn");
  const MelodyRnnConfig expected = MelodyRnnConfigFromFlags(flags);
  ASSERT_EQ(back.hparams.entries().size(), expected.hparams.entries().size());
  for (size_t i = 0; i < expected.hparams.entries().size(); ++i) {
    EXPECT_EQ(back.hparams.entries()[i].first, expected.hparams.entries()[i].first);
    EXPECT_TRUE(back.hparams.entries()[i].second == expected.hparams.entries()[i].second)
        << expected.hparams.entries()[i].first;
  }
  // dropout_keep_prob=1 stays a float (written as 1.0 or 1, read with the config's type).
  EXPECT_EQ(back.hparams.Get("dropout_keep_prob").type, HParamValue::Type::kFloat);
  EXPECT_EQ(back.hparams.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{32, 48}));
}

TEST(RunConfigTest, MissingFileIsNullopt) {
  EXPECT_FALSE(ReadRunConfig(testing::MakeTempDir("run_config_none")).has_value());
}

TEST(RunConfigTest, CorruptFileNamesThePath) {
  const std::string dir = testing::MakeTempDir("run_config_bad");
  WriteFileAtomically(RunConfigPath(dir), "{\"format\": \"something else\"}");
  try {
    ReadRunConfig(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(RunConfigPath(dir)), std::string::npos) << e.what();
  }
  WriteFileAtomically(RunConfigPath(dir), "{not json");
  EXPECT_THROW(ReadRunConfig(dir), Error);
}

TEST(RunConfigTest, ResolveWithoutFlagsUsesTheStoredConfig) {
  const std::string dir = testing::MakeTempDir("run_config_resolve");
  const RunConfig stored = StoreAndReload(Flags("lookback_rnn", "rnn_layer_sizes=[16,16]"), dir);
  const MelodyRnnConfig config = ResolveRunConfig(stored, ConfigFlags{}, "x");
  EXPECT_EQ(config.melody.id, "lookback_rnn");
  EXPECT_EQ(config.hparams.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{16, 16}));
}

TEST(RunConfigTest, NonShapeHParamsMayChange) {
  const std::string dir = testing::MakeTempDir("run_config_lr");
  const RunConfig stored = StoreAndReload(Flags("basic_rnn", "rnn_layer_sizes=[16]"), dir);
  const MelodyRnnConfig config =
      ResolveRunConfig(stored, Flags("", "batch_size=8,learning_rate=0.01"), "x");
  EXPECT_EQ(config.hparams.GetInt("batch_size"), 8);
  EXPECT_DOUBLE_EQ(config.hparams.GetFloat("learning_rate"), 0.01);
  EXPECT_EQ(config.hparams.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{16}));
}

TEST(RunConfigTest, ShapeChangeIsRefusedNamingBothValues) {
  const std::string dir = testing::MakeTempDir("run_config_shape");
  const RunConfig stored = StoreAndReload(Flags("basic_rnn", "rnn_layer_sizes=[16]"), dir);
  try {
    ResolveRunConfig(stored, Flags("basic_rnn", "rnn_layer_sizes=[32]"), "RUNDIR");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("rnn_layer_sizes=[32]"), std::string::npos) << m;
    EXPECT_NE(m.find("rnn_layer_sizes=[16]"), std::string::npos) << m;
    EXPECT_NE(m.find("RUNDIR"), std::string::npos) << m;
  }
}

TEST(RunConfigTest, OtherConfigIsRefused) {
  const std::string dir = testing::MakeTempDir("run_config_other");
  const RunConfig stored = StoreAndReload(Flags("basic_rnn", ""), dir);
  try {
    ResolveRunConfig(stored, Flags("attention_rnn", ""), "RUNDIR");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--config=attention_rnn"), std::string::npos) << m;
    EXPECT_NE(m.find("--config=basic_rnn"), std::string::npos) << m;
  }
}

TEST(RunConfigTest, EncoderDecoderRunRoundTrips) {
  const std::string dir = testing::MakeTempDir("run_config_encdec");
  ConfigFlags flags;
  flags.melody_encoder_decoder = "key";
  const RunConfig stored = StoreAndReload(flags, dir);
  EXPECT_EQ(stored.melody_encoder_decoder, "key");
  const MelodyRnnConfig config = ResolveRunConfig(stored, ConfigFlags{}, "x");
  EXPECT_EQ(config.melody.encoder, MelodyEncoderKind::kKeyMelody);
  EXPECT_EQ(config.hparams.GetInt("batch_size"), 64);  // the base table
}

TEST(RunConfigTest, NoStoredConfigFallsBackToFlags) {
  EXPECT_THROW(ResolveRunConfig(std::nullopt, ConfigFlags{}, "x"), Error);
  EXPECT_EQ(ResolveRunConfig(std::nullopt, Flags("mono_rnn", ""), "x").melody.id, "mono_rnn");
}

}  // namespace
}  // namespace melody
