// Golden test of the dataset pipeline's middle stages (shared/golden/melody_extraction):
// for every converted source, the NoteSequence decoded from the golden
// note_sequences/<group>/<name>.json goes through the time-change splitter, quantizer,
// transposition stage and melody extractor (pipeline and permissive settings) and the
// basic_rnn encoding; every field the golden file records is compared.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "core/proto_util.h"
#include "data/melody.h"
#include "data/melody_encoder.h"
#include "data/melody_extractor.h"
#include "data/melody_squash.h"
#include "data/python_set_order.h"
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
using testing::LoadJson;
using testing::Sha256Hex;
using testing::SharedPath;

// ---- JSON views of our results, in the golden files' shapes -------------------------

json MelodyToJson(const Melody& melody) {
  return json{{"events", melody.events},
              {"start_step", melody.start_step},
              {"end_step", melody.end_step},
              {"steps_per_bar", melody.steps_per_bar},
              {"steps_per_quarter", melody.steps_per_quarter}};
}

json MelodiesToJson(const std::vector<Melody>& melodies) {
  json out = json::array();
  for (const Melody& melody : melodies) out.push_back(MelodyToJson(melody));
  return out;
}

json QuantizedToJson(const magenta::NoteSequence& ns) {
  json out;
  out["id"] = ns.id();
  out["filename"] = ns.filename();
  out["collection_name"] = ns.collection_name();
  out["ticks_per_quarter"] = ns.ticks_per_quarter();
  out["source_info"] = {{"source_type", static_cast<int>(ns.source_info().source_type())},
                        {"encoding_type", static_cast<int>(ns.source_info().encoding_type())},
                        {"parser", static_cast<int>(ns.source_info().parser())}};
  out["time_signatures"] = json::array();
  for (const auto& ts : ns.time_signatures()) {
    out["time_signatures"].push_back(
        {{"time", ts.time()}, {"numerator", ts.numerator()}, {"denominator", ts.denominator()}});
  }
  out["key_signatures"] = json::array();
  for (const auto& ks : ns.key_signatures()) {
    out["key_signatures"].push_back({{"time", ks.time()},
                                     {"key", static_cast<int>(ks.key())},
                                     {"mode", static_cast<int>(ks.mode())}});
  }
  out["tempos"] = json::array();
  for (const auto& t : ns.tempos()) out["tempos"].push_back({{"time", t.time()}, {"qpm", t.qpm()}});
  out["instrument_infos"] = json::array();
  for (const auto& info : ns.instrument_infos()) {
    out["instrument_infos"].push_back({{"instrument", info.instrument()}, {"name", info.name()}});
  }
  out["notes"] = json::array();
  for (const auto& n : ns.notes()) {
    out["notes"].push_back({{"pitch", n.pitch()},
                            {"velocity", n.velocity()},
                            {"start_time", n.start_time()},
                            {"end_time", n.end_time()},
                            {"instrument", n.instrument()},
                            {"program", n.program()},
                            {"is_drum", n.is_drum()},
                            {"quantized_start_step", n.quantized_start_step()},
                            {"quantized_end_step", n.quantized_end_step()}});
  }
  out["total_time"] = ns.total_time();
  out["quantization_info"] = {{"steps_per_quarter", ns.quantization_info().steps_per_quarter()}};
  out["total_quantized_steps"] = ns.total_quantized_steps();
  out["pitch_bends"] = json::array();
  for (const auto& b : ns.pitch_bends()) {
    out["pitch_bends"].push_back({{"time", b.time()},
                                  {"bend", b.bend()},
                                  {"instrument", b.instrument()},
                                  {"program", b.program()},
                                  {"is_drum", b.is_drum()}});
  }
  out["control_changes"] = json::array();
  for (const auto& cc : ns.control_changes()) {
    out["control_changes"].push_back({{"time", cc.time()},
                                      {"control_number", cc.control_number()},
                                      {"control_value", cc.control_value()},
                                      {"instrument", cc.instrument()},
                                      {"program", cc.program()},
                                      {"is_drum", cc.is_drum()},
                                      {"quantized_step", cc.quantized_step()}});
  }
  out["subsequence_info"] = {{"start_time_offset", ns.subsequence_info().start_time_offset()},
                             {"end_time_offset", ns.subsequence_info().end_time_offset()}};
  const std::string bytes = SerializeDeterministic(ns);
  out["serialized_sha256"] = Sha256Hex(bytes);
  out["serialized_size"] = bytes.size();
  return out;
}

// ---- comparison ------------------------------------------------------------------

bool SameNumber(const json& a, const json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    return a.get<double>() == b.get<double>();  // golden doubles are exact
  }
  if (a.is_number_unsigned() || b.is_number_unsigned()) {
    if (a.get<int64_t>() < 0 || b.get<int64_t>() < 0) return false;
    return a.get<uint64_t>() == b.get<uint64_t>();
  }
  return a.get<int64_t>() == b.get<int64_t>();
}

// The first place where `actual` differs from `expected` ("" when equal), as a path.
std::string FirstDifference(const json& expected, const json& actual, const std::string& path) {
  auto describe = [&](const std::string& what) {
    std::string e = expected.dump(), a = actual.dump();
    if (e.size() > 120) e = e.substr(0, 120) + "...";
    if (a.size() > 120) a = a.substr(0, 120) + "...";
    return path + ": " + what + " (expected " + e + ", got " + a + ")";
  };
  if (expected.is_number() && actual.is_number()) {
    return SameNumber(expected, actual) ? "" : describe("different value");
  }
  if (expected.type() != actual.type()) return describe("different type");
  if (expected.is_array()) {
    if (expected.size() != actual.size()) {
      return describe("length " + std::to_string(actual.size()) + " instead of " +
                      std::to_string(expected.size()));
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string d = FirstDifference(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  if (expected.is_object()) {
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (!actual.contains(it.key())) return path + "." + it.key() + ": missing";
      std::string d = FirstDifference(it.value(), actual[it.key()], path + "." + it.key());
      if (!d.empty()) return d;
    }
    for (auto it = actual.begin(); it != actual.end(); ++it) {
      if (!expected.contains(it.key())) return path + "." + it.key() + ": unexpected";
    }
    return "";
  }
  return expected == actual ? "" : describe("different value");
}

class Report {
 public:
  explicit Report(std::string file) : file_(std::move(file)) {}
  void Compare(const json& expected, const json& actual, const std::string& path) {
    std::string d = FirstDifference(expected, actual, path);
    if (!d.empty()) problems_.push_back(d);
  }
  void Fail(const std::string& what) { problems_.push_back(what); }
  bool ok() const { return problems_.empty(); }
  std::string Text() const {
    std::string text;
    for (const auto& p : problems_) text += "  " + file_ + ": " + p + "\n";
    return text;
  }

 private:
  std::string file_;
  std::vector<std::string> problems_;
};

// ---- the stages, one golden file ---------------------------------------------------

MelodyExtractorOptions PermissiveOptions() {
  MelodyExtractorOptions options;
  options.min_bars = 0;
  options.max_steps_truncate.reset();
  options.min_unique_pitches = 1;
  options.gap_bars = 1.0;
  options.ignore_polyphonic_notes = true;
  options.pad_end = true;
  return options;
}

void CheckQuantizeWhole(const magenta::NoteSequence& sequence, const json& expected,
                        Report* report) {
  json actual;
  try {
    magenta::NoteSequence quantized = QuantizeNoteSequence(sequence, 4);
    actual["ok"] = true;
    actual["total_quantized_steps"] = quantized.total_quantized_steps();
    actual["note_steps"] = json::array();
    for (const auto& note : quantized.notes()) {
      actual["note_steps"].push_back({note.quantized_start_step(), note.quantized_end_step()});
    }
  } catch (const QuantizationError& error) {
    actual["ok"] = false;
    actual["error"] = {{"type", QuantizationErrorTypeName(error.kind())},
                       {"message", error.what()}};
  }
  report->Compare(expected, actual, "quantize_whole_sequence");
}

void CheckEncoded(const std::vector<Melody>& melodies, const json& expected, Report* report) {
  static const auto encoder = MakeOneHotMelodyEncoder(48, 84);
  json actual = json::array();
  for (const Melody& melody : melodies) {
    std::vector<int> events = melody.events;
    const int amount = SquashMelody(&events, 48, 84, 0);
    const EncodedMelody encoded = encoder->Encode(events);
    actual.push_back({{"transpose_amount", amount},
                      {"squashed_events", events},
                      {"labels", encoded.labels},
                      {"inputs_sha256", testing::InputsSha256(encoded.inputs)}});
  }
  report->Compare(expected, actual, "basic_rnn_encoded");
}

void CheckSplit(const magenta::NoteSequence& piece, const json& expected, const std::string& at,
                Report* report) {
  const std::string bytes = SerializeDeterministic(piece);
  report->Compare(expected["subsequence"],
                  json{{"serialized_sha256", Sha256Hex(bytes)},
                       {"serialized_size", bytes.size()},
                       {"num_notes", piece.notes_size()},
                       {"total_time", piece.total_time()},
                       {"subsequence_info",
                        {{"start_time_offset", piece.subsequence_info().start_time_offset()},
                         {"end_time_offset", piece.subsequence_info().end_time_offset()}}}},
                  at + ".subsequence");

  Statistics quantizer_stats;
  std::optional<magenta::NoteSequence> quantized = QuantizeStage(piece, 4, &quantizer_stats);
  report->Compare(expected["quantizer_stats"],
                  StatisticsToJson(quantizer_stats.Prefixed("Quantizer")), at + ".quantizer_stats");
  if (!quantized) {
    if (!expected["quantized"].is_null()) report->Fail(at + ": quantizer rejected the piece");
    return;
  }
  report->Compare(expected["quantized"], QuantizedToJson(*quantized), at + ".quantized");
  report->Compare(expected["steps_per_bar"], StepsPerBar(*quantized), at + ".steps_per_bar");

  Statistics transposition_stats;
  std::vector<magenta::NoteSequence> transposed =
      TransposeStage(*quantized, {0}, &transposition_stats);
  report->Compare(expected["transposition_stats"],
                  StatisticsToJson(transposition_stats.Prefixed("TranspositionPipeline")),
                  at + ".transposition_stats");
  if (transposed.size() != 1) {
    report->Fail(at + ": transposition produced " + std::to_string(transposed.size()) +
                 " pieces");
    return;
  }
  const magenta::NoteSequence& input = transposed[0];
  report->Compare(expected["instrument_iteration_order"], InstrumentIterationOrder(input),
                  at + ".instrument_iteration_order");

  Statistics extractor_stats;
  const std::vector<Melody> melodies =
      MelodyExtractorStage(input, MelodyExtractorOptions(), &extractor_stats);
  report->Compare(expected["pipeline_melodies"], MelodiesToJson(melodies),
                  at + ".pipeline_melodies");
  report->Compare(expected["pipeline_extractor_stats"],
                  StatisticsToJson(extractor_stats.Prefixed("MelodyExtractor")),
                  at + ".pipeline_extractor_stats");

  Statistics permissive_stats;
  if (expected.contains("permissive_error")) {
    try {
      ExtractMelodies(input, PermissiveOptions(), &permissive_stats);
      report->Fail(at + ": permissive extraction did not fail");
    } catch (const NonIntegerStepsPerBarError& error) {
      report->Compare(expected["permissive_error"],
                      json{{"type", "NonIntegerStepsPerBarError"}, {"message", error.what()}},
                      at + ".permissive_error");
    }
  } else {
    const std::vector<Melody> permissive =
        ExtractMelodies(input, PermissiveOptions(), &permissive_stats);
    report->Compare(expected["permissive_melodies"], MelodiesToJson(permissive),
                    at + ".permissive_melodies");
    report->Compare(expected["permissive_stats"], StatisticsToJson(permissive_stats),
                    at + ".permissive_stats");
  }
  CheckEncoded(melodies, expected["basic_rnn_encoded"], report);
}

// Returns "" when every recorded field matches, else the list of differences.
std::string CheckGoldenFile(const std::string& group, const std::filesystem::path& path) {
  const std::string name = path.stem().string();
  Report report(group + "/" + name);
  try {
    const json golden = LoadJson(path.string());
    const json source =
        LoadJson(SharedPath("golden/note_sequences/" + group + "/" + name + ".json"));
    magenta::NoteSequence sequence;
    ParseProtoOrThrow(testing::Base64Decode(source.at("serialized_b64").get<std::string>()),
                      &sequence, group + "/" + name + " serialized_b64");

    CheckQuantizeWhole(sequence, golden.at("quantize_whole_sequence"), &report);
    const std::vector<magenta::NoteSequence> pieces = SplitOnTimeChanges(sequence);
    report.Compare(golden.at("num_splits"), pieces.size(), "num_splits");
    const json& splits = golden.at("splits");
    for (size_t i = 0; i < std::min(pieces.size(), splits.size()); ++i) {
      CheckSplit(pieces[i], splits[i], "splits[" + std::to_string(i) + "]", &report);
    }
  } catch (const std::exception& e) {
    report.Fail(std::string("exception: ") + e.what());
  }
  return report.Text();
}

void CheckGroup(const std::string& group) {
  const std::string dir = SharedPath("golden/melody_extraction/" + group);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no golden files in " << dir;
  size_t matched = 0;
  std::string failures;
  for (const auto& file : files) {
    const std::string problems = CheckGoldenFile(group, file);
    if (problems.empty()) {
      ++matched;
    } else {
      failures += problems;
    }
  }
  std::cout << "melody_extraction/" << group << ": " << matched << " of " << files.size()
            << " files fully matched\n";
  EXPECT_EQ(matched, files.size()) << failures;
}

TEST(MelodyExtractionGolden, TestMidi) {
  MELODY_REQUIRE_SHARED("golden/melody_extraction/testmidi");
  CheckGroup("testmidi");
}

TEST(MelodyExtractionGolden, Edge) {
  MELODY_REQUIRE_SHARED("golden/melody_extraction/edge");
  CheckGroup("edge");
}

TEST(MelodyExtractionGolden, Nottingham) {
  MELODY_REQUIRE_SHARED("golden/melody_extraction/nottingham");
  CheckGroup("nottingham");
}

TEST(MelodyExtractionGolden, SetOrder) {
  MELODY_REQUIRE_SHARED("golden/melody_extraction/set_order.json");
  const json golden = LoadJson(SharedPath("golden/melody_extraction/set_order.json"));
  size_t matched = 0;
  for (const json& c : golden.at("cases")) {
    const auto inserted = c.at("inserted").get<std::vector<int64_t>>();
    const auto expected = c.at("iteration_order").get<std::vector<int64_t>>();
    const auto actual = PythonSetIterationOrder(inserted);
    EXPECT_EQ(actual, expected) << "inserted " << c.at("inserted").dump();
    if (actual == expected) ++matched;
  }
  std::cout << "set_order: " << matched << " of " << golden.at("cases").size()
            << " cases matched\n";
  EXPECT_GT(matched, 0u);
}

}  // namespace
}  // namespace melody
