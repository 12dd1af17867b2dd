// Generator bundles: the real 2019 Magenta bundle parses with the facts its README records,
// re-serializes byte for byte, and its metagraph gives attn_length 40; our record round
// trips; what is not a bundle (HTML, truncation, other files) is a clear error.
#include "models/generator_bundle.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

constexpr const char* kBundle = "data/compat/attention_rnn_pipeline_2019/my_model.mag";

std::string ErrorOf(const std::string& bytes) {
  try {
    ParseGeneratorBundle(bytes, "x.mag");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GeneratorBundleTest, Magenta2019BundleFacts) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string bytes = ReadFileToString(testing::SharedPath(kBundle));
  int extra = -1;
  const GeneratorBundleContents b = ParseGeneratorBundle(bytes, "my_model.mag", &extra);
  EXPECT_EQ(b.generator_id, "attention_rnn");
  EXPECT_EQ(b.generator_description, "Melody RNN with lookback encoding and attention.");
  EXPECT_FALSE(b.bundle_description.has_value());
  EXPECT_FALSE(b.config_record.has_value());
  EXPECT_EQ(extra, 0);
  EXPECT_EQ(b.checkpoint_v1.size(), 411379u);
  EXPECT_EQ(b.metagraph.size(), 125100u);
  // formats.md §12: an encoder following §6 reproduces the real bundle.
  EXPECT_EQ(SerializeGeneratorBundle(b), bytes);

  const MetagraphFacts facts = InspectMetagraph(b.metagraph);
  ASSERT_TRUE(facts.parsed);
  EXPECT_EQ(facts.tensorflow_version, "1.12.0");
  EXPECT_EQ(facts.batch_size, 64);
  EXPECT_EQ(facts.input_size, 74);
  EXPECT_TRUE(facts.has_temperature);
  ASSERT_EQ(facts.initial_state_shapes.size(), 6u);
  EXPECT_EQ(facts.initial_state_shapes[0], (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(facts.initial_state_shapes[3], (std::vector<int64_t>{64, 2560}));
  EXPECT_EQ(AttnLengthFromMetagraph(facts, 64), 40);
}

TEST(GeneratorBundleTest, TruncatedRealBundleIsAnError) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string bytes = ReadFileToString(testing::SharedPath(kBundle));
  for (size_t cut : {size_t{1}, size_t{100}, size_t{5000}, bytes.size() / 2, bytes.size() - 1}) {
    const std::string message = ErrorOf(bytes.substr(0, cut));
    EXPECT_NE(message.find("x.mag"), std::string::npos) << cut << ": " << message;
  }
}

TEST(GeneratorBundleTest, RecordAndDescriptionRoundTrip) {
  GeneratorBundleContents b;
  b.generator_id = "basic_rnn";
  b.generator_description = "Melody RNN with one-hot encoding.";
  b.bundle_description = "mine";
  b.checkpoint_v1 = std::string("\x00\x01\x02", 3);
  b.config_record = R"({"format":"x"})";
  const std::string bytes = SerializeGeneratorBundle(b);
  const GeneratorBundleContents back = ParseGeneratorBundle(bytes, "b.mag");
  EXPECT_EQ(back.generator_id, b.generator_id);
  EXPECT_EQ(back.generator_description, b.generator_description);
  EXPECT_EQ(back.bundle_description, b.bundle_description);
  EXPECT_EQ(back.checkpoint_v1, b.checkpoint_v1);
  EXPECT_EQ(back.metagraph, "");
  EXPECT_EQ(back.config_record, b.config_record);
  // Field 15, length-delimited, after field 4.
  const size_t tag = bytes.rfind(static_cast<char>((kBundleConfigRecordField << 3) | 2));
  EXPECT_EQ(bytes.substr(tag + 2), *b.config_record);
  EXPECT_FALSE(InspectMetagraph(back.metagraph).parsed);
}

TEST(GeneratorBundleTest, NotABundle) {
  EXPECT_NE(ErrorOf("").find("empty"), std::string::npos);
  EXPECT_NE(ErrorOf("<!DOCTYPE html><html><body>404</body></html>").find("HTML"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\x0b\x00\x00\x00\x00\x00\x00\x00\x86\x15\xf5\x04hello world").find("x.mag"),
            std::string::npos);
  // A valid proto without a checkpoint, and one without an id.
  GeneratorBundleContents b;
  b.generator_id = "attention_rnn";
  std::string no_checkpoint = SerializeGeneratorBundle(b);
  EXPECT_NE(ErrorOf(no_checkpoint).find("empty checkpoint"), std::string::npos)
      << ErrorOf(no_checkpoint);
  b.generator_id = "";
  b.checkpoint_v1 = "abc";
  EXPECT_NE(ErrorOf(SerializeGeneratorBundle(b)).find("generator_details.id"), std::string::npos);
}

}  // namespace
}  // namespace melody
