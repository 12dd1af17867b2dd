// Melody squash and encoders against the reference's vectors: every case and generation
// entry of shared/golden/encodings/<config>.json, the worked example of
// shared/spec/encodings.md §10 and the squash examples of §2.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/proto_util.h"
#include "data/melody_config.h"
#include "data/melody_encoder.h"
#include "data/melody_squash.h"
#include "data/sequence_example_io.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using melody::testing::LoadJson;
using melody::testing::Sha256Hex;
using melody::testing::SharedPath;

std::vector<float> FlattenRows(const nlohmann::json& rows) {
  std::vector<float> out;
  for (const auto& row : rows)
    for (const auto& v : row) out.push_back(v.get<float>());
  return out;
}

const char* const kConfigs[] = {"basic_rnn", "mono_rnn", "lookback_rnn", "attention_rnn"};

class GoldenEncodingTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenEncodingTest, HeaderMatchesConfig) {
  MELODY_REQUIRE_SHARED("golden/encodings");
  const std::string config_id = GetParam();
  const auto golden = LoadJson(SharedPath("golden/encodings/" + config_id + ".json"));
  const MelodyConfig config = MelodyConfigById(config_id);
  const auto encoder = config.MakeEncoder();
  EXPECT_EQ(encoder->input_size(), golden["input_size"].get<int>());
  EXPECT_EQ(encoder->num_classes(), golden["num_classes"].get<int>());
  EXPECT_EQ(encoder->default_event_label(), golden["default_event_label"].get<int>());
  EXPECT_EQ(config.min_note, golden["min_note"].get<int>());
  EXPECT_EQ(config.max_note, golden["max_note"].get<int>());
  EXPECT_EQ(config.steps_per_quarter, golden["steps_per_quarter"].get<int>());
  if (golden["transpose_to_key"].is_null())
    EXPECT_FALSE(config.transpose_to_key.has_value());
  else
    EXPECT_EQ(config.transpose_to_key, golden["transpose_to_key"].get<int>());
}

TEST_P(GoldenEncodingTest, EveryCaseMatches) {
  MELODY_REQUIRE_SHARED("golden/encodings");
  const std::string config_id = GetParam();
  const auto golden = LoadJson(SharedPath("golden/encodings/" + config_id + ".json"));
  const MelodyConfig config = MelodyConfigById(config_id);
  const auto encoder = config.MakeEncoder();
  ASSERT_GE(golden["cases"].size(), 9u);
  for (const auto& c : golden["cases"]) {
    SCOPED_TRACE(config_id + " " + c["source"].get<std::string>());
    std::vector<int> events = c["events"].get<std::vector<int>>();
    const int amount = SquashMelody(&events, config.min_note, config.max_note,
                                    config.transpose_to_key);
    EXPECT_EQ(amount, c["transpose_amount"].get<int>());
    ASSERT_EQ(events, c["squashed_events"].get<std::vector<int>>());

    const EncodedMelody encoded = encoder->Encode(events);
    ASSERT_EQ(encoded.num_steps(), c["num_steps"].get<size_t>());
    EXPECT_EQ(encoded.inputs, FlattenRows(c["inputs"]));
    EXPECT_EQ(encoded.labels, c["labels"].get<std::vector<int64_t>>());
    EXPECT_EQ(testing::InputsSha256((encoded.inputs)), c["inputs_sha256"].get<std::string>());
    EXPECT_EQ(testing::LabelsSha256((encoded.labels)), c["labels_sha256"].get<std::string>());

    const std::string bytes = SerializeSequenceExample(encoded);
    EXPECT_EQ(Sha256Hex(bytes), c["sequence_example_sha256"].get<std::string>());
    // The direct writer and the proto library agree byte for byte.
    EXPECT_EQ(bytes, SerializeDeterministic(MakeSequenceExample(encoded)));
  }
}

TEST_P(GoldenEncodingTest, EveryGenerationEntryMatches) {
  MELODY_REQUIRE_SHARED("golden/encodings");
  const std::string config_id = GetParam();
  const auto golden = LoadJson(SharedPath("golden/encodings/" + config_id + ".json"));
  const auto encoder = MelodyConfigById(config_id).MakeEncoder();
  ASSERT_FALSE(golden["generation"].empty());
  for (const auto& g : golden["generation"]) {
    SCOPED_TRACE(config_id + " " + g["source"].get<std::string>());
    const std::vector<int> events = g["events"].get<std::vector<int>>();
    EXPECT_EQ(encoder->InputsForAllPositions(events), FlattenRows(g["full_length_inputs"]));
    EXPECT_EQ(encoder->InputsForLastPosition(events), FlattenRows(g["last_inputs"]));
    // Position-by-position encoding agrees with the linear pass.
    std::vector<float> row(encoder->input_size());
    const std::vector<float> all = encoder->InputsForAllPositions(events);
    for (size_t i = 0; i < events.size(); ++i) {
      encoder->EncodeInput(events, i, row.data());
      EXPECT_TRUE(std::equal(row.begin(), row.end(), all.begin() + i * row.size()))
          << "position " << i;
    }
    const auto expected = g["class_index_to_event"].get<std::vector<int>>();
    ASSERT_EQ(expected.size(), static_cast<size_t>(encoder->num_classes()));
    for (int cls = 0; cls < encoder->num_classes(); ++cls)
      EXPECT_EQ(encoder->ClassToEvent(cls, events), expected[cls]) << "class " << cls;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, GoldenEncodingTest, ::testing::ValuesIn(kConfigs));

// encodings.md §10: non-zero entries of selected input rows and all labels.
using Entries = std::vector<std::pair<int, float>>;

Entries NonZero(const std::vector<float>& rows, int width, int position) {
  Entries out;
  for (int k = 0; k < width; ++k) {
    float v = rows[static_cast<size_t>(position) * width + k];
    if (v != 0.0f) out.emplace_back(k, v);
  }
  return out;
}

Entries Ones(std::initializer_list<int> indices) {
  Entries out;
  for (int k : indices) out.emplace_back(k, 1.0f);
  return out;
}

Entries Concat(std::initializer_list<Entries> parts) {
  Entries out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<int> kWorkedMelody = {-2, 67, -2, 69, -1, 71, -2, -2, 67, -2, 69, -1};

TEST(WorkedExampleTest, BasicRnn) {
  const MelodyConfig config = MelodyConfigById("basic_rnn");
  std::vector<int> events = kWorkedMelody;
  EXPECT_EQ(SquashMelody(&events, config.min_note, config.max_note, config.transpose_to_key), 0);
  const EncodedMelody e = config.MakeEncoder()->Encode(events);
  EXPECT_EQ(e.labels, (std::vector<int64_t>{21, 0, 23, 1, 25, 0, 0, 21, 0, 23, 1}));
  const int hot[] = {0, 21, 0, 23, 1, 25, 0, 0, 21, 0, 23};
  for (int i = 0; i < 11; ++i) EXPECT_EQ(NonZero(e.inputs, 38, i), Ones({hot[i]})) << i;
}

TEST(WorkedExampleTest, LookbackRnn) {
  const MelodyConfig config = MelodyConfigById("lookback_rnn");
  std::vector<int> events = kWorkedMelody;
  EXPECT_EQ(SquashMelody(&events, config.min_note, config.max_note, config.transpose_to_key), 0);
  const EncodedMelody e = config.MakeEncoder()->Encode(events);
  EXPECT_EQ(e.labels, (std::vector<int64_t>{21, 39, 23, 1, 25, 39, 39, 21, 39, 23, 1}));
  EXPECT_EQ(NonZero(e.inputs, 121, 0),
            Concat({Ones({0, 38, 76, 114}), {{115, -1}, {116, -1}, {117, -1}, {118, -1}}}));
  EXPECT_EQ(NonZero(e.inputs, 121, 1),
            Concat({Ones({21, 38, 76, 115}), {{114, -1}, {116, -1}, {117, -1}, {118, -1}}}));
  EXPECT_EQ(NonZero(e.inputs, 121, 4),
            Concat({Ones({1, 38, 76, 114, 116}), {{115, -1}, {117, -1}, {118, -1}}}));
}

Entries Minus(int from, int to) {
  Entries out;
  for (int k = from; k <= to; ++k) out.emplace_back(k, -1.0f);
  return out;
}

TEST(WorkedExampleTest, AttentionRnn) {
  const MelodyConfig config = MelodyConfigById("attention_rnn");
  std::vector<int> events = kWorkedMelody;
  EXPECT_EQ(SquashMelody(&events, config.min_note, config.max_note, config.transpose_to_key), 0);
  const EncodedMelody e = config.MakeEncoder()->Encode(events);
  EXPECT_EQ(e.labels, (std::vector<int64_t>{19, 39, 21, 37, 23, 39, 39, 19, 39, 21, 37}));
  Entries all_keys;
  for (int k = 50; k <= 73; ++k) all_keys.emplace_back(k, 1.0f);
  EXPECT_EQ(NonZero(e.inputs, 74, 0), Concat({Ones({37, 42}), Minus(43, 48), all_keys}));
  EXPECT_EQ(NonZero(e.inputs, 74, 1),
            Concat({Ones({19, 36, 38, 43, 50, 52, 53, 55, 57, 58, 60, 62, 64, 65, 67, 69, 70, 72}),
                    Minus(42, 42), Minus(44, 48)}));
  EXPECT_EQ(NonZero(e.inputs, 74, 4),
            Concat({Ones({37, 38, 39, 42, 44, 50, 52, 55, 57, 60, 62, 64, 67, 69, 72}),
                    Minus(43, 43), Minus(45, 48)}));
  EXPECT_EQ(NonZero(e.inputs, 74, 8),
            Concat({Ones({19, 36, 38, 42, 45, 50, 52, 57, 62, 64, 69}), Minus(39, 39),
                    Minus(43, 44), Minus(46, 48)}));
}

TEST(SquashTest, ReferenceExamples) {
  struct Case {
    std::vector<int> before;
    int amount;
    std::vector<int> after;
  };
  const Case cases[] = {
      {{30, -2, 100}, -2, {52, -2, 74}},
      {{71, 73, 75, 76, 78, 80, 82, 83}, -11, {60, 62, 64, 65, 67, 69, 71, 72}},
      {{60, 66}, -1, {59, 65}},
      {{54, 60}, 11, {65, 71}},
  };
  for (const Case& c : cases) {
    std::vector<int> events = c.before;
    EXPECT_EQ(SquashMelody(&events, 48, 84, 0), c.amount);
    EXPECT_EQ(events, c.after);
  }
}

TEST(SquashTest, NoTranspositionKeyOnlyFolds) {
  std::vector<int> events = {5, -1, 127, -2};
  EXPECT_EQ(SquashMelody(&events, 0, 128, std::nullopt), 0);
  EXPECT_EQ(events, (std::vector<int>{5, -1, 127, -2}));
  std::vector<int> silent = {-2, -1, -2};
  EXPECT_EQ(SquashMelody(&silent, 48, 84, 0), 0);
  EXPECT_EQ(silent, (std::vector<int>{-2, -1, -2}));
}

TEST(SquashTest, TiesRoundToEven) {
  // C major melodies (key 0, so key_diff 0) whose center puts d = 65.5 - center on an odd
  // multiple of 6: d / 12 = 0.5, -0.5, 2.5 must round to 0, 0, 2 (Python's round).
  std::vector<int> d_plus_6 = {48, 71, 60, 62, 64, 65, 67, 69};  // center 59.5
  EXPECT_EQ(SquashMelody(&d_plus_6, 48, 84, 0), 0);
  std::vector<int> d_minus_6 = {60, 83, 62, 64, 65, 67, 69, 71};  // center 71.5
  EXPECT_EQ(SquashMelody(&d_minus_6, 48, 84, 0), 0);
  std::vector<int> d_plus_30 = {24, 47, 26, 28, 29, 31, 33, 35};  // center 35.5
  EXPECT_EQ(SquashMelody(&d_plus_30, 48, 84, 0), 24);
  EXPECT_EQ(d_plus_30, (std::vector<int>{48, 71, 50, 52, 53, 55, 57, 59}));
}

TEST(HistogramTest, KeysAndTies) {
  EXPECT_EQ(MajorKey({}), 0);
  EXPECT_EQ(MajorKey({-2, -1}), 0);
  // D major scale notes only: D(2) is the unique best key.
  EXPECT_EQ(MajorKey({62, 64, 66, 67, 69, 71, 73}), 2);
  // A single C is in the scales of C, F, G, ... lowest index wins.
  EXPECT_EQ(MajorKey({60}), 0);
  const PitchClassCounts h = NoteHistogram({60, 60, 61, -1, -2, 72});
  EXPECT_EQ(h[0], 3);
  EXPECT_EQ(h[1], 1);
  const PitchClassCounts k = MajorKeyHistogram(h);
  EXPECT_EQ(k[0], 3);  // C major holds C, not C#
  EXPECT_EQ(k[1], 4);  // C# major holds C (as B#) and C#
}

TEST(EncoderTest, RejectsUnrepresentableEvents) {
  const auto onehot = MakeOneHotMelodyEncoder(48, 84);
  EXPECT_THROW(onehot->Encode({60, 90}), Error);
  EXPECT_THROW(onehot->Encode({60, -3}), Error);
  const auto key = MakeKeyMelodyEncoder(48, 84);
  EXPECT_THROW(key->Encode({60, 30}), Error);
  EXPECT_THROW(key->ClassToEvent(40, {60}), Error);
  EXPECT_THROW(CleanMelodyEvents({60, 128}), Error);
  EXPECT_EQ(CleanMelodyEvents({-1, -2, -1, 60, -1}), (std::vector<int>{-2, -2, -2, 60, -1}));
}

TEST(MelodyConfigTest, ErrorTexts) {
  try {
    MelodyConfigById("foo");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "`--config` must be one of dict_keys(['basic_rnn', 'mono_rnn', "
                 "'lookback_rnn', 'attention_rnn']). Got foo.");
  }
  try {
    MelodyConfigFromEncoderDecoder("bar");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "`--melody_encoder_decoder` must be one of dict_keys(['onehot', 'lookback', "
                 "'key']). Got bar.");
  }
  MelodyConfig c = MelodyConfigById("basic_rnn");
  c.min_note = 60;
  c.max_note = 70;
  try {
    ValidateMelodyConfig(c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "max_note - min_note must be >= 12. min_note is 60. max_note is 70. "
                 "max_note - min_note is 10.");
  }
  c = MelodyConfigById("basic_rnn");
  c.transpose_to_key = 12;
  EXPECT_THROW(ValidateMelodyConfig(c), Error);
  c.transpose_to_key = 0;
  c.min_note = -1;
  EXPECT_THROW(ValidateMelodyConfig(c), Error);
  c.min_note = 0;
  c.max_note = 129;
  EXPECT_THROW(ValidateMelodyConfig(c), Error);
}

TEST(MelodyConfigTest, EncoderDecoderVariants) {
  EXPECT_EQ(MelodyConfigFromEncoderDecoder("onehot").MakeEncoder()->input_size(), 38);
  EXPECT_EQ(MelodyConfigFromEncoderDecoder("lookback").MakeEncoder()->input_size(), 121);
  const auto key = MelodyConfigFromEncoderDecoder("key").MakeEncoder();
  EXPECT_EQ(key->input_size(), 74);
  EXPECT_EQ(key->default_event_label(), 36);
  EXPECT_EQ(MelodyConfigById("mono_rnn").MakeEncoder()->num_classes(), 130);
}

}  // namespace
}  // namespace melody
