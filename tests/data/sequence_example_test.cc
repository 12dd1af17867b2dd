// SequenceExample writer and reader: the golden <config>_sample.tfrecord files byte for
// byte, either map-entry order on reading, and clear errors on malformed examples.
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "data/melody_config.h"
#include "data/sequence_example_io.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using melody::testing::LoadJson;
using melody::testing::MakeTempDir;
using melody::testing::Sha256Hex;
using melody::testing::SharedPath;

class SampleFileTest : public ::testing::TestWithParam<const char*> {};

// Read the 4 golden examples, check them against the sample manifest, write them again
// with our writer and TFRecord framing, and compare the files byte for byte.
TEST_P(SampleFileTest, RewritesByteForByte) {
  MELODY_REQUIRE_SHARED("golden/create_dataset");
  const std::string config_id = GetParam();
  const std::string sample = SharedPath("golden/create_dataset/" + config_id + "_sample.tfrecord");
  const auto manifest = LoadJson(SharedPath("golden/create_dataset/" + config_id + "_sample.json"));
  const int input_size = MelodyConfigById(config_id).MakeEncoder()->input_size();

  const std::vector<EncodedMelody> examples = ReadSequenceExampleFile(sample, input_size);
  ASSERT_EQ(examples.size(), 4u);
  ASSERT_EQ(manifest["records"].size(), 4u);
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& record = manifest["records"][i];
    EXPECT_EQ(examples[i].num_steps(), record["length"].get<size_t>());
    EXPECT_EQ(testing::InputsSha256((examples[i].inputs)), record["inputs_sha256"].get<std::string>());
    EXPECT_EQ(testing::LabelsSha256((examples[i].labels)), record["labels_sha256"].get<std::string>());
    EXPECT_EQ(Sha256Hex(SerializeSequenceExample(examples[i])),
              record["sequence_example_sha256"].get<std::string>());
  }

  const std::string out = MakeTempDir("sequence_example_test") + "/sample.tfrecord";
  TFRecordWriter writer(out);
  for (const EncodedMelody& e : examples) writer.Write(SerializeSequenceExample(e));
  writer.Close();
  EXPECT_EQ(ReadFileToString(out), ReadFileToString(sample));
}

INSTANTIATE_TEST_SUITE_P(Configs, SampleFileTest,
                         ::testing::Values("basic_rnn", "mono_rnn", "lookback_rnn",
                                           "attention_rnn"));

EncodedMelody SmallMelody() {
  EncodedMelody m;
  m.input_size = 3;
  m.inputs = {1, 0, -1, 0, 1, 0};
  m.labels = {2, 300};  // 300 needs a two-byte varint
  return m;
}

// The same message with the "labels" map entry written before "inputs" (the order the
// reference's writer produces in some runs).
std::string LabelsFirst(const EncodedMelody& m) {
  const std::string bytes = SerializeSequenceExample(m);
  tensorflow::SequenceExample parsed;
  ParseProtoOrThrow(bytes, &parsed, "test");
  const auto& lists = parsed.feature_lists().feature_list();
  auto entry = [](const std::string& key, const tensorflow::FeatureList& value) {
    tensorflow::FeatureLists one;
    (*one.mutable_feature_list())[key] = value;
    return SerializeDeterministic(one);  // a FeatureLists with one entry = that entry's field
  };
  std::string feature_lists = entry("labels", lists.at("labels")) + entry("inputs", lists.at("inputs"));
  std::string out;
  out.push_back(0x12);  // SequenceExample.feature_lists (field 2, length-delimited)
  size_t n = feature_lists.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  return out + feature_lists;
}

TEST(SequenceExampleTest, ReaderAcceptsEitherMapOrder) {
  const EncodedMelody m = SmallMelody();
  const std::string labels_first = LabelsFirst(m);
  ASSERT_NE(labels_first, SerializeSequenceExample(m));
  for (const std::string& bytes : {SerializeSequenceExample(m), labels_first}) {
    const EncodedMelody back = ParseSequenceExample(bytes, 3, "test");
    EXPECT_EQ(back.inputs, m.inputs);
    EXPECT_EQ(back.labels, m.labels);
  }
}

TEST(SequenceExampleTest, DirectWriterMatchesProtoLibrary) {
  EncodedMelody empty;
  empty.input_size = 38;
  EXPECT_EQ(SerializeSequenceExample(empty), SerializeDeterministic(MakeSequenceExample(empty)));
  EXPECT_EQ(SerializeSequenceExample(SmallMelody()),
            SerializeDeterministic(MakeSequenceExample(SmallMelody())));
  EncodedMelody wide;  // long rows: multi-byte length prefixes at every level
  wide.input_size = 130;
  for (int step = 0; step < 511; ++step) {
    for (int k = 0; k < 130; ++k) wide.inputs.push_back(k == step % 130 ? 1.0f : 0.0f);
    wide.labels.push_back(step % 130);
  }
  EXPECT_EQ(SerializeSequenceExample(wide), SerializeDeterministic(MakeSequenceExample(wide)));
}

TEST(SequenceExampleTest, WidthMismatchNamesFileAndRecord) {
  const std::string path = MakeTempDir("sequence_example_test") + "/bad.tfrecord";
  WriteTFRecordFile(path, {SerializeSequenceExample(SmallMelody()),
                           SerializeSequenceExample(SmallMelody())});
  EXPECT_EQ(ReadSequenceExampleFile(path, 3).size(), 2u);
  try {
    ReadSequenceExampleFile(path, 38);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path + ": record 0"), std::string::npos) << what;
    EXPECT_NE(what.find("has 3 input values but the configuration's input size is 38"),
              std::string::npos)
        << what;
  }
}

TEST(SequenceExampleTest, RejectsGarbageAndMissingLists) {
  EXPECT_THROW(ParseSequenceExample(std::string("\x12\x05\x0a", 3), 3, "x"), Error);
  tensorflow::SequenceExample only_inputs;
  (*only_inputs.mutable_feature_lists()->mutable_feature_list())["inputs"];
  EXPECT_THROW(ParseSequenceExample(SerializeDeterministic(only_inputs), 3, "x"), Error);
}

}  // namespace
}  // namespace melody
