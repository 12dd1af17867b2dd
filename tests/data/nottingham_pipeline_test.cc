// The split -> quantize -> transpose -> extract stages over all 1034 Nottingham files,
// checked against the reference's create_dataset run (shared/golden/create_dataset/
// basic_rnn_summary.json): the merged statistics with their DAGPipeline_* names, the
// number of melodies, and each melody's source, length and basic_rnn encoding hashes in
// output order. This exercises the stages' composition, independent of the app.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "data/melody_encoder.h"
#include "data/melody_extractor.h"
#include "data/melody_squash.h"
#include "data/midi_reader.h"
#include "data/quantize.h"
#include "data/sequence_split.h"
#include "data/statistics.h"
#include "data/transposition.h"
#include "tests/data/statistics_json.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using nlohmann::json;
using testing::StatisticsToJson;

TEST(NottinghamPipeline, StatisticsAndMelodiesMatchTheReferenceRun) {
  MELODY_REQUIRE_SHARED("golden/create_dataset/basic_rnn_summary.json");
  MELODY_REQUIRE_SHARED("data/nottingham");
  const json summary =
      testing::LoadJson(testing::SharedPath("golden/create_dataset/basic_rnn_summary.json"));

  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SharedPath("data/nottingham"))) {
    if (entry.path().extension() == ".mid") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());  // byte-wise, as the golden run
  ASSERT_EQ(names.size(), summary.at("inputs_processed").get<size_t>());

  const auto encoder = MakeOneHotMelodyEncoder(48, 84);
  Statistics total;
  json examples = json::array();
  int64_t total_steps = 0;
  for (const std::string& name : names) {
    const magenta::NoteSequence sequence = MidiToNoteSequence(
        ReadFileToString(testing::SharedPath("data/nottingham/" + name)));
    Statistics stats;
    stats.Increment("RandomPartition_training_melodies_count");
    for (const magenta::NoteSequence& piece : SplitOnTimeChanges(sequence)) {
      Statistics quantizer_stats, transposition_stats, extractor_stats;
      const auto quantized = QuantizeStage(piece, 4, &quantizer_stats);
      stats.Merge(quantizer_stats.Prefixed("Quantizer_training"));
      if (!quantized) continue;
      for (const auto& transposed : TransposeStage(*quantized, {0}, &transposition_stats)) {
        for (const Melody& melody :
             MelodyExtractorStage(transposed, MelodyExtractorOptions(), &extractor_stats)) {
          std::vector<int> events = melody.events;
          SquashMelody(&events, 48, 84, 0);
          const EncodedMelody encoded = encoder->Encode(events);
          total_steps += static_cast<int64_t>(encoded.num_steps());
          examples.push_back({{"source", name},
                              {"length", encoded.num_steps()},
                              {"inputs_sha256", testing::InputsSha256(encoded.inputs)},
                              {"labels_sha256", testing::LabelsSha256(encoded.labels)}});
        }
      }
      stats.Merge(transposition_stats.Prefixed("TranspositionPipeline_training"));
      stats.Merge(extractor_stats.Prefixed("MelodyExtractor_training"));
    }
    total.Merge(stats.Prefixed("DAGPipeline"));
  }

  EXPECT_EQ(StatisticsToJson(total), summary.at("stats"));
  EXPECT_EQ(total_steps, summary.at("total_steps").get<int64_t>());
  const json& expected = summary.at("examples");
  ASSERT_EQ(examples.size(), expected.size());
  size_t matched = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    json reference = expected[i];
    reference.erase("sequence_example_sha256");  // the SequenceExample writer's business
    if (reference == examples[i]) {
      ++matched;
    } else if (matched + 5 > i) {
      ADD_FAILURE() << "example " << i << ": expected " << reference.dump() << ", got "
                    << examples[i].dump();
    }
  }
  std::cout << "nottingham pipeline: " << matched << " of " << expected.size()
            << " melodies match in order\n";
  EXPECT_EQ(matched, expected.size());
}

}  // namespace
}  // namespace melody
