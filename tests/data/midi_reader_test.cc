// MIDI -> NoteSequence against the reference: every golden note_sequences/*.json
// (shared/golden/README.md) field by field and byte for byte, plus hand-made files for
// the byte-level error paths and pretty_midi quirks of shared/spec/data-pipeline.md §1-§4.
#include <dirent.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "data/midi_reader.h"
#include "tests/data/midi_bytes.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using testing::Bytes;
using testing::Chunk;
using testing::EndOfTrack;
using testing::Header;
using testing::Track;
using testing::Vlq;

std::vector<std::string> SortedJsonFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".json") names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// golden "source" (testmidi/X, nottingham/X, edge/X) -> path of the MIDI file.
std::string SourcePathFor(const std::string& source) {
  size_t slash = source.find('/');
  std::string group = source.substr(0, slash);
  std::string rest = source.substr(slash + 1);
  if (group == "edge") return testing::SharedPath("golden/midi/edge/" + rest);
  return testing::SharedPath("data/" + group + "/" + rest);
}

// Collects field mismatches between our NoteSequence and the golden JSON.
class Comparer {
 public:
  template <typename A, typename B>
  void Equal(const std::string& field, const A& ours, const B& golden) {
    if (ours == golden) return;
    std::ostringstream s;
    s.precision(17);
    s << field << ": ours " << ours << ", golden " << golden;
    mismatches_.push_back(s.str());
  }
  void Size(const std::string& field, int ours, const nlohmann::json& golden) {
    Equal(field + ".size", static_cast<size_t>(ours), golden.size());
  }
  bool ok() const { return mismatches_.empty(); }
  std::string Report() const {
    std::string out;
    for (size_t i = 0; i < mismatches_.size() && i < 10; ++i) out += "  " + mismatches_[i] + "\n";
    return out;
  }

 private:
  std::vector<std::string> mismatches_;
};

void CompareFields(const magenta::NoteSequence& ns, const nlohmann::json& g, Comparer* c) {
  c->Equal("id", ns.id(), g.at("id").get<std::string>());
  c->Equal("filename", ns.filename(), g.at("filename").get<std::string>());
  c->Equal("collection_name", ns.collection_name(), g.at("collection_name").get<std::string>());
  c->Equal("ticks_per_quarter", ns.ticks_per_quarter(), g.at("ticks_per_quarter").get<int>());
  const auto& si = g.at("source_info");
  c->Equal("source_info.source_type", static_cast<int>(ns.source_info().source_type()),
           si.at("source_type").get<int>());
  c->Equal("source_info.encoding_type", static_cast<int>(ns.source_info().encoding_type()),
           si.at("encoding_type").get<int>());
  c->Equal("source_info.parser", static_cast<int>(ns.source_info().parser()),
           si.at("parser").get<int>());

  const auto& ts = g.at("time_signatures");
  c->Size("time_signatures", ns.time_signatures_size(), ts);
  for (int i = 0; i < ns.time_signatures_size() && i < static_cast<int>(ts.size()); ++i) {
    std::string f = "time_signatures[" + std::to_string(i) + "].";
    c->Equal(f + "time", ns.time_signatures(i).time(), ts[i].at("time").get<double>());
    c->Equal(f + "numerator", ns.time_signatures(i).numerator(), ts[i].at("numerator").get<int>());
    c->Equal(f + "denominator", ns.time_signatures(i).denominator(),
             ts[i].at("denominator").get<int>());
  }
  const auto& ks = g.at("key_signatures");
  c->Size("key_signatures", ns.key_signatures_size(), ks);
  for (int i = 0; i < ns.key_signatures_size() && i < static_cast<int>(ks.size()); ++i) {
    std::string f = "key_signatures[" + std::to_string(i) + "].";
    c->Equal(f + "time", ns.key_signatures(i).time(), ks[i].at("time").get<double>());
    c->Equal(f + "key", static_cast<int>(ns.key_signatures(i).key()), ks[i].at("key").get<int>());
    c->Equal(f + "mode", static_cast<int>(ns.key_signatures(i).mode()), ks[i].at("mode").get<int>());
  }
  const auto& tempos = g.at("tempos");
  c->Size("tempos", ns.tempos_size(), tempos);
  for (int i = 0; i < ns.tempos_size() && i < static_cast<int>(tempos.size()); ++i) {
    std::string f = "tempos[" + std::to_string(i) + "].";
    c->Equal(f + "time", ns.tempos(i).time(), tempos[i].at("time").get<double>());
    c->Equal(f + "qpm", ns.tempos(i).qpm(), tempos[i].at("qpm").get<double>());
  }
  const auto& infos = g.at("instrument_infos");
  c->Size("instrument_infos", ns.instrument_infos_size(), infos);
  for (int i = 0; i < ns.instrument_infos_size() && i < static_cast<int>(infos.size()); ++i) {
    std::string f = "instrument_infos[" + std::to_string(i) + "].";
    c->Equal(f + "instrument", ns.instrument_infos(i).instrument(),
             infos[i].at("instrument").get<int>());
    c->Equal(f + "name", ns.instrument_infos(i).name(), infos[i].at("name").get<std::string>());
  }
  const auto& notes = g.at("notes");
  c->Size("notes", ns.notes_size(), notes);
  for (int i = 0; i < ns.notes_size() && i < static_cast<int>(notes.size()); ++i) {
    const auto& n = ns.notes(i);
    const auto& gn = notes[i];
    std::string f = "notes[" + std::to_string(i) + "].";
    c->Equal(f + "pitch", n.pitch(), gn.at("pitch").get<int>());
    c->Equal(f + "velocity", n.velocity(), gn.at("velocity").get<int>());
    c->Equal(f + "start_time", n.start_time(), gn.at("start_time").get<double>());
    c->Equal(f + "end_time", n.end_time(), gn.at("end_time").get<double>());
    c->Equal(f + "instrument", n.instrument(), gn.at("instrument").get<int>());
    c->Equal(f + "program", n.program(), gn.at("program").get<int>());
    c->Equal(f + "is_drum", n.is_drum(), gn.at("is_drum").get<bool>());
  }
  c->Equal("total_time", ns.total_time(), g.at("total_time").get<double>());
  const auto& bends = g.at("pitch_bends");
  c->Size("pitch_bends", ns.pitch_bends_size(), bends);
  for (int i = 0; i < ns.pitch_bends_size() && i < static_cast<int>(bends.size()); ++i) {
    const auto& b = ns.pitch_bends(i);
    std::string f = "pitch_bends[" + std::to_string(i) + "].";
    c->Equal(f + "time", b.time(), bends[i].at("time").get<double>());
    c->Equal(f + "bend", b.bend(), bends[i].at("bend").get<int>());
    c->Equal(f + "instrument", b.instrument(), bends[i].at("instrument").get<int>());
    c->Equal(f + "program", b.program(), bends[i].at("program").get<int>());
    c->Equal(f + "is_drum", b.is_drum(), bends[i].at("is_drum").get<bool>());
  }
  const auto& ccs = g.at("control_changes");
  c->Size("control_changes", ns.control_changes_size(), ccs);
  for (int i = 0; i < ns.control_changes_size() && i < static_cast<int>(ccs.size()); ++i) {
    const auto& cc = ns.control_changes(i);
    std::string f = "control_changes[" + std::to_string(i) + "].";
    c->Equal(f + "time", cc.time(), ccs[i].at("time").get<double>());
    c->Equal(f + "control_number", cc.control_number(), ccs[i].at("control_number").get<int>());
    c->Equal(f + "control_value", cc.control_value(), ccs[i].at("control_value").get<int>());
    c->Equal(f + "instrument", cc.instrument(), ccs[i].at("instrument").get<int>());
    c->Equal(f + "program", cc.program(), ccs[i].at("program").get<int>());
    c->Equal(f + "is_drum", cc.is_drum(), ccs[i].at("is_drum").get<bool>());
  }
}

// Returns "" when the golden file matches, else what differs.
std::string CheckGoldenFile(const std::string& json_path) {
  nlohmann::json golden = testing::LoadJson(json_path);
  std::string source = golden.at("source").get<std::string>();
  std::string bytes = ReadFileToString(SourcePathFor(source));
  if (golden.contains("error")) {
    try {
      MidiToNoteSequence(bytes);
    } catch (const MidiConversionError&) {
      return "";
    }
    return "converted, but the reference rejects it: " + golden["error"].dump();
  }
  magenta::NoteSequence ns;
  try {
    ns = MidiToNoteSequence(bytes);
  } catch (const MidiConversionError& e) {
    return std::string("rejected (") + e.what() + "), but the reference converts it";
  }
  Comparer comparer;
  CompareFields(ns, golden, &comparer);
  std::string serialized = SerializeDeterministic(ns);
  std::string expected = testing::Base64Decode(golden.at("serialized_b64").get<std::string>());
  comparer.Equal("serialized_size", serialized.size(), golden.at("serialized_size").get<size_t>());
  comparer.Equal("serialized bytes equal", serialized == expected, true);
  comparer.Equal("serialized_sha256", testing::Sha256Hex(serialized),
                 golden.at("serialized_sha256").get<std::string>());
  return comparer.ok() ? "" : "fields differ:\n" + comparer.Report();
}

TEST(MidiReaderGolden, EveryGoldenNoteSequenceMatches) {
  MELODY_REQUIRE_SHARED("golden/note_sequences");
  int total = 0, matched = 0, rejected = 0;
  for (const std::string group : {"testmidi", "edge", "nottingham"}) {
    std::string dir = testing::SharedPath("golden/note_sequences/" + group);
    for (const std::string& name : SortedJsonFiles(dir)) {
      ++total;
      std::string path = dir + "/" + name;
      std::string problem = CheckGoldenFile(path);
      if (problem.empty()) {
        ++matched;
        if (testing::LoadJson(path).contains("error")) ++rejected;
      } else {
        ADD_FAILURE() << group << "/" << name << ": " << problem;
      }
    }
  }
  std::printf("[ golden   ] %d of %d golden note_sequences matched (%d of them rejected as by "
              "the reference)\n", matched, total, rejected);
  EXPECT_GT(total, 0);
  EXPECT_EQ(matched, total);
}

// The directory tool's records for all 1034 Nottingham files (golden/convert_dir): our
// NoteSequence plus the identity fields the tool sets must hash to the same bytes.
TEST(MidiReaderGolden, AllNottinghamFilesMatchTheConvertDirIndex) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/nottingham_index.json");
  MELODY_REQUIRE_SHARED("data/nottingham");
  nlohmann::json index = testing::LoadJson(
      testing::SharedPath("golden/convert_dir/nottingham_index.json"));
  const std::string collection = index.at("collection_name").get<std::string>();
  int total = 0, matched = 0;
  for (const auto& record : index.at("records")) {
    ++total;
    const std::string filename = record.at("filename").get<std::string>();
    magenta::NoteSequence ns;
    try {
      ns = MidiToNoteSequence(ReadFileToString(testing::SharedPath("data/nottingham/" + filename)));
    } catch (const MidiConversionError& e) {
      ADD_FAILURE() << filename << ": rejected: " << e.what();
      continue;
    }
    ns.set_id("/id/midi/" + collection + "/" + testing::Sha1Hex(filename));
    ns.set_filename(filename);
    ns.set_collection_name(collection);
    std::string bytes = SerializeDeterministic(ns);
    bool same = ns.id() == record.at("id").get<std::string>() &&
                ns.notes_size() == record.at("num_notes").get<int>() &&
                ns.total_time() == record.at("total_time").get<double>() &&
                bytes.size() == record.at("serialized_size").get<size_t>() &&
                testing::Sha256Hex(bytes) == record.at("serialized_sha256").get<std::string>();
    if (same)
      ++matched;
    else
      ADD_FAILURE() << filename << ": differs from the reference's record";
  }
  std::printf("[ golden   ] %d of %d Nottingham records of convert_dir match byte for byte\n",
              matched, total);
  EXPECT_GT(total, 0);
  EXPECT_EQ(matched, total);
}

// Real files from a user's 2019 Magenta run (data/compat/README.md §1): Magenta 1.0 wrote
// no instrument_infos; without them every byte of its records must match ours.
TEST(MidiReaderCompat, UserNoteSequencesFrom2019MatchWithoutInstrumentInfos) {
  const std::string dir = "data/compat/attention_rnn_pipeline_2019/";
  MELODY_REQUIRE_SHARED(dir + "notesequences.tfrecord");
  std::vector<std::string> records =
      ReadTFRecordFile(testing::SharedPath(dir + "notesequences.tfrecord"));
  ASSERT_FALSE(records.empty());
  int matched = 0;
  for (const std::string& record : records) {
    magenta::NoteSequence theirs;
    ParseProtoOrThrow(record, &theirs, "notesequences.tfrecord");
    magenta::NoteSequence ours = MidiToNoteSequence(
        ReadFileToString(testing::SharedPath(dir + "raw_midi/" + theirs.filename())));
    ours.set_id(theirs.id());
    ours.set_filename(theirs.filename());
    ours.set_collection_name(theirs.collection_name());
    ours.clear_instrument_infos();
    EXPECT_EQ(ours.notes_size(), theirs.notes_size()) << theirs.filename();
    if (SerializeDeterministic(ours) == record)
      ++matched;
    else
      ADD_FAILURE() << theirs.filename() << ": bytes differ from Magenta's 2019 record";
  }
  std::printf("[ compat   ] %d of %zu NoteSequences of the 2019 run match byte for byte\n",
              matched, records.size());
  EXPECT_EQ(matched, static_cast<int>(records.size()));
}

// ---- hand-made files --------------------------------------------------------------------

std::string OneTrackFile(const std::string& events, int division = 480) {
  return Header(0, 1, division) + Track(events + EndOfTrack());
}

void ExpectRejected(const std::string& bytes, const std::string& why) {
  EXPECT_THROW(MidiToNoteSequence(bytes), MidiConversionError) << why;
}

const std::string kNote = Bytes({0x00, 0x90, 60, 100, 0x83, 0x60, 0x80, 60, 0});  // 480 ticks

TEST(MidiReader, SmallValidFile) {
  magenta::NoteSequence ns = MidiToNoteSequence(testing::SmallValidMidi());
  EXPECT_EQ(ns.ticks_per_quarter(), 480);
  ASSERT_EQ(ns.notes_size(), 3);
  EXPECT_EQ(ns.notes(0).pitch(), 60);
  EXPECT_EQ(ns.notes(0).program(), 5);
  EXPECT_EQ(ns.notes(0).start_time(), 0.0);
  EXPECT_EQ(ns.notes(0).end_time(), 0.5);
  EXPECT_EQ(ns.notes(2).end_time(), 2.0);
  EXPECT_EQ(ns.total_time(), 2.0);
  ASSERT_EQ(ns.instrument_infos_size(), 1);
  EXPECT_EQ(ns.instrument_infos(0).name(), "Lead");
  ASSERT_EQ(ns.control_changes_size(), 1);
  EXPECT_EQ(ns.control_changes(0).control_number(), 64);
  ASSERT_EQ(ns.pitch_bends_size(), 1);
  EXPECT_EQ(ns.pitch_bends(0).bend(), 0x50 * 128 - 8192);
  ASSERT_EQ(ns.time_signatures_size(), 1);
  ASSERT_EQ(ns.tempos_size(), 1);
  EXPECT_EQ(ns.tempos(0).qpm(), 120.0);
}

TEST(MidiReader, ByteLevelErrors) {
  ExpectRejected("", "empty file");
  ExpectRejected(std::string("MThd\0\0\0", 7), "short chunk header");
  ExpectRejected("RIFF" + testing::BigEndian32(6) + Bytes({0, 0, 0, 1, 1, 0xe0}), "not MThd");
  ExpectRejected(Chunk("MThd", Bytes({0, 0, 0, 1, 1})), "header shorter than 6 bytes");
  ExpectRejected(Header(0, 1, 480), "declared track missing");
  ExpectRejected(Header(0, 0, 480), "zero tracks");
  ExpectRejected(Header(0, -1, 480) + Track(kNote + EndOfTrack()), "negative track count");
  ExpectRejected(Header(0, 1, 480) + Chunk("XFIH", kNote + EndOfTrack()), "unknown chunk");
  ExpectRejected(Header(0, 2, 480) + Track(kNote + EndOfTrack()) + Track(""), "empty track");
  ExpectRejected(Header(0, 1, 480) + Track(kNote + EndOfTrack()).substr(0, 14), "truncated");
  std::string events = kNote + EndOfTrack();
  ExpectRejected(Header(0, 1, 480) + Chunk("MTrk", events, events.size() - 2),
                 "event straddles the declared track end");
  ExpectRejected(Header(0, 1, 480) + Chunk("MTrk", events, events.size() + 1),
                 "declared track longer than the file");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0x3c, 0x40})), "running status without status");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xf4})), "undefined status f4");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xfd})), "undefined status fd");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0x90, 0x3c, 0x90})), "data byte > 127");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xf8, 0x00, 0x10})),
                 "running status on a one-byte system message");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xf0, 0x03, 0x01, 0x85, 0xf7})),
                 "sysex data byte > 127");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x01}) + Vlq(1000001) + std::string(1000001, 'a')),
                 "meta message over 1,000,000 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xf0}) + Vlq(1000001) + std::string(1000001, 'a')),
                 "sysex over 1,000,000 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x01}) + Vlq(uint64_t{1} << 62)),
                 "huge meta length");
}

TEST(MidiReader, MetaEventErrors) {
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x00, 0x01, 0x05})), "sequence number, 1 byte");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x20, 0x00})), "channel prefix, 0 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x54, 0x05, 0x01, 60, 0, 0, 0})),
                 "SMPTE offset minutes 60");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x54, 0x05, 0x01, 0, 60, 0, 0})),
                 "SMPTE offset seconds 60");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x54, 0x05, 0x01, 0, 0, 0, 100})),
                 "SMPTE offset sub-frames 100");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x54, 0x04, 0x01, 0, 0, 0})),
                 "SMPTE offset, 4 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x51, 0x02, 0x07, 0xa1})), "tempo, 2 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x51, 0x03, 0, 0, 0})), "tempo 0");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x58, 0x03, 4, 2, 24})), "time sig, 3 bytes");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x58, 0x04, 0, 2, 24, 8})), "numerator 0");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x58, 0x04, 4, 29, 24, 8})), "2**29");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x58, 0x04, 4, 31, 24, 8})), "2**31");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x58, 0x04, 4, 32, 24, 8})), "2**32 > int32");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x59, 0x01, 0})), "key sig, 1 byte");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x59, 0x02, 8, 0})), "8 sharps");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x59, 0x02, 0xf8, 0})), "8 flats");
  ExpectRejected(OneTrackFile(Bytes({0x00, 0xff, 0x59, 0x02, 0, 2})), "mode 2");
  ExpectRejected(OneTrackFile(kNote, 0), "division 0");
  ExpectRejected(OneTrackFile(kNote, -6000), "SMPTE division: a closed note ends before it starts");
}

TEST(MidiReader, AcceptedOddities) {
  // Sequence number with 0 bytes, SMPTE offset at the limits, unknown meta, port, F1-F3
  // and one-byte system messages, sysex framed with F0 ... F7, escape (F7) sysex.
  std::string events = Bytes({0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0x54, 0x05, 0xff, 59, 59,
                              255, 99, 0x00, 0xff, 0x60, 0x01, 0xff, 0x00, 0xff, 0x21, 0x00,
                              0x00, 0xf1, 0x7f, 0x00, 0xf2, 0x01, 0x02, 0x00, 0xf3, 0x05,
                              0x00, 0xf6, 0x00, 0xfe, 0x00, 0xf0, 0x04, 0xf0, 0x7e, 0x01,
                              0xf7, 0x00, 0xf7, 0x02, 0x43, 0x12}) + kNote;
  magenta::NoteSequence ns = MidiToNoteSequence(OneTrackFile(events));
  EXPECT_EQ(ns.notes_size(), 1);
  // Running status after a sysex re-reads a sysex: the data byte is dropped, then a length.
  std::string after_sysex = Bytes({0x00, 0xf0, 0x01, 0x7e, 0x00, 0x55, 0x01, 0x10}) + kNote;
  EXPECT_EQ(MidiToNoteSequence(OneTrackFile(after_sysex)).notes_size(), 1);
  // Running status after F1/F3 reads one more data byte.
  std::string after_f1 = Bytes({0x00, 0xf1, 0x01, 0x00, 0x02}) + kNote;
  EXPECT_EQ(MidiToNoteSequence(OneTrackFile(after_f1)).notes_size(), 1);
  // Meta events do not change running status.
  std::string meta_between = Bytes({0x00, 0x90, 60, 100, 0x00, 0xff, 0x01, 0x00, 0x83, 0x60,
                                    60, 0x00});
  ns = MidiToNoteSequence(OneTrackFile(meta_between));
  ASSERT_EQ(ns.notes_size(), 1);
  EXPECT_EQ(ns.notes(0).end_time(), 0.5);
  // Extra header bytes and junk after the declared tracks are skipped.
  std::string long_header = Chunk("MThd", Bytes({0, 0, 0, 1, 0x01, 0xe0, 0xaa, 0xbb}));
  EXPECT_EQ(MidiToNoteSequence(long_header + Track(kNote + EndOfTrack()) + "junk").notes_size(), 1);
  // A header chunk longer than the file still reads its first 6 bytes, then fails on tracks.
  ExpectRejected(Chunk("MThd", Bytes({0, 0, 0, 1, 0x01, 0xe0}), 100), "header past the end");
}

TEST(MidiReader, OnlyTrackZeroSignaturesAreInterpreted) {
  // On other tracks mido still validates them, but pretty_midi ignores them: numerator 0,
  // tempo 0, and a denominator 2**31 that passes mido's check all load there.
  std::string odd = Bytes({0x00, 0xff, 0x58, 0x04, 0, 2, 24, 8, 0x00, 0xff, 0x51, 0x03, 0, 0, 0,
                           0x00, 0xff, 0x58, 0x04, 4, 33, 24, 8});
  std::string file = Header(1, 2, 480) + Track(kNote + EndOfTrack()) + Track(odd + kNote + EndOfTrack());
  magenta::NoteSequence ns = MidiToNoteSequence(file);
  EXPECT_EQ(ns.notes_size(), 2);
  EXPECT_EQ(ns.time_signatures_size(), 0);
  EXPECT_EQ(ns.tempos_size(), 1);
  // ... but mido's own checks still reject, on any track.
  std::string bad = Bytes({0x00, 0xff, 0x58, 0x04, 4, 29, 24, 8});
  ExpectRejected(Header(1, 2, 480) + Track(kNote + EndOfTrack()) + Track(bad + EndOfTrack()),
                 "2**29 on track 1");
  std::string bad_key = Bytes({0x00, 0xff, 0x59, 0x02, 9, 0});
  ExpectRejected(Header(1, 2, 480) + Track(kNote + EndOfTrack()) + Track(bad_key + EndOfTrack()),
                 "9 sharps on track 1");
}

TEST(MidiReader, MidoDenominatorCheck) {
  // data-pipeline.md §1.3: exponents 0..28 and 30 load; these fail mido's float check.
  std::vector<int> failing;
  for (int e = 0; e <= 62; ++e)
    if (!MidoAcceptsDenominatorExponent(e)) failing.push_back(e);
  EXPECT_EQ(failing, (std::vector<int>{29, 31, 39, 47, 51, 55, 58, 59, 62}));
}

TEST(MidiReader, LargestTickLimit) {
  // 1e10 - 1 is the largest tick allowed (largest tick + 1 must not exceed 1e10).
  std::string at_limit = Vlq(9999999999ULL - 480) + Bytes({0x90, 60, 100}) + Vlq(480) +
                         Bytes({0x80, 60, 0}) + Bytes({0x00, 0xff, 0x2f, 0x00});
  magenta::NoteSequence ns = MidiToNoteSequence(Header(0, 1, 480) + Track(at_limit));
  ASSERT_EQ(ns.notes_size(), 1);
  EXPECT_EQ(ns.notes(0).end_time(), (60.0 / (120.0 * 480)) * 9999999999.0);
  std::string over = Vlq(10000000000ULL) + Bytes({0xff, 0x2f, 0x00});
  ExpectRejected(Header(0, 1, 480) + Track(over), "tick 1e10");
  // A 300-byte delta is astronomically large: rejected without allocating.
  std::string huge = std::string(300, '\xff') + Bytes({0x7f, 0xff, 0x2f, 0x00});
  ExpectRejected(Header(0, 1, 480) + Track(huge), "huge delta");
  // Leading 0x80 bytes add nothing: a 300-byte delta of value 5 is fine.
  std::string padded = std::string(300, '\x80') + Bytes({0x05, 0xff, 0x2f, 0x00});
  EXPECT_EQ(MidiToNoteSequence(Header(0, 1, 480) + Track(kNote + padded)).notes_size(), 1);
}

TEST(MidiReader, SequencesBeyondProtobufsLimitAreRejectedBeforeBuilding) {
  // A 1,000,000-byte track name copied into 2048 instruments (16 channels x 128 programs)
  // would make a NoteSequence of about 4 GB from a 1 MB file.
  std::string events = Bytes({0x00, 0xff, 0x03}) + Vlq(1000000) + std::string(1000000, '\xe9');
  for (int channel = 0; channel < 16; ++channel)
    for (int program = 0; program < 128; ++program)
      events += Bytes({0x00, 0xc0 | channel, program, 0x00, 0x90 | channel, 60, 1, 0x01,
                       0x80 | channel, 60, 0});
  ExpectRejected(Header(0, 1, 480) + Track(events + EndOfTrack()), "2 GiB limit");
}

TEST(MidiReader, TempoMapAndSeconds) {
  // Tempos at tick 0 replace each other; a repeated tempo is dropped; two different tempos
  // on one tick both stay; qpm is recomputed from the tick scale.
  std::string conductor = Bytes({0x00, 0xff, 0x51, 0x03, 0x0f, 0x42, 0x40,   // 1000000 at 0
                                 0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,   // 500000 at 0
                                 0x83, 0x60, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,  // repeat
                                 0x83, 0x60, 0xff, 0x51, 0x03, 0x0a, 0x2c, 0x2b,  // 666667
                                 0x00, 0xff, 0x51, 0x03, 0x03, 0xd0, 0x90}) +     // 250000
                          EndOfTrack();
  std::string melody = Bytes({0x00, 0x90, 60, 100, 0x8b, 0x20, 0x80, 60, 0}) + EndOfTrack();
  magenta::NoteSequence ns =
      MidiToNoteSequence(Header(1, 2, 480) + Track(conductor) + Track(melody));
  ASSERT_EQ(ns.tempos_size(), 3);
  const double s0 = 60.0 / (120.0 * 480);
  const double s1 = 60.0 / ((6e7 / 666667) * 480);
  const double s2 = 60.0 / ((6e7 / 250000) * 480);
  const double t1 = 0.0 + s0 * 960.0;
  EXPECT_EQ(ns.tempos(0).time(), 0.0);
  EXPECT_EQ(ns.tempos(0).qpm(), 120.0);
  EXPECT_EQ(ns.tempos(1).time(), t1);
  EXPECT_EQ(ns.tempos(1).qpm(), 60.0 / (s1 * 480));
  EXPECT_EQ(ns.tempos(1).qpm(), 89.9999550000225);  // data-pipeline.md §2.4
  EXPECT_EQ(ns.tempos(2).time(), t1);
  EXPECT_EQ(ns.tempos(2).qpm(), 60.0 / (s2 * 480));
  ASSERT_EQ(ns.notes_size(), 1);
  // Tick 1440: 960 ticks at 120 qpm, then 480 ticks at 240 qpm.
  EXPECT_EQ(ns.notes(0).end_time(), t1 + s2 * 480.0);
}

TEST(MidiReader, NotePairingAndInstruments) {
  // Channel 0: two note-ons of pitch 60 closed by one note-off; note-off + note-on on one
  // tick; a zero-length note; a note-off with no note-on; a note never closed.
  std::string t = Bytes({0x00, 0xff, 0x03, 0x02, 'A', 0xe9,       // name "Aé" (Latin-1)
                         0x00, 0x90, 60, 10, 0x10, 0x90, 60, 20,   // on 0, on 16
                         0x10, 0x80, 60, 0,                        // off 32: closes both
                         0x00, 0x90, 62, 30, 0x20, 0x80, 62, 0,    // on 32, off 64
                         0x00, 0x90, 62, 40,                       // on 64 (same tick)
                         0x20, 0x90, 62, 0,                        // off 96 (vel 0)
                         0x00, 0x90, 64, 50, 0x00, 0x80, 64, 0,    // zero length: dropped
                         0x00, 0x80, 65, 0,                        // spurious note-off
                         0x00, 0x99, 36, 90, 0x10, 0x89, 36, 0,    // drum channel
                         0x00, 0xc0, 7,                            // program 7 ...
                         0x00, 0x90, 67, 60}) +                    // never closed
                  EndOfTrack();
  magenta::NoteSequence ns = MidiToNoteSequence(Header(0, 1, 480) + Track(t));
  ASSERT_EQ(ns.notes_size(), 5);
  EXPECT_EQ(ns.notes(0).velocity(), 10);
  EXPECT_EQ(ns.notes(1).velocity(), 20);
  EXPECT_EQ(ns.notes(2).velocity(), 30);
  EXPECT_EQ(ns.notes(3).velocity(), 40);
  EXPECT_EQ(ns.notes(4).pitch(), 36);
  EXPECT_TRUE(ns.notes(4).is_drum());
  EXPECT_EQ(ns.notes(4).instrument(), 1);
  ASSERT_EQ(ns.instrument_infos_size(), 2);
  EXPECT_EQ(ns.instrument_infos(0).name(), "A\xc3\xa9");
}

TEST(MidiReader, NoteOnAndOffSameTickWithoutOlderNoteIsDropped) {
  // on 0 / off 10 / on 10 / off 10: the second note-off finds only a same-tick note-on,
  // so it is dropped rather than kept.
  std::string t = Bytes({0x00, 0x90, 60, 10, 0x0a, 0x80, 60, 0, 0x00, 0x90, 60, 20, 0x00, 0x80,
                         60, 0, 0x0a, 0x80, 60, 0}) + EndOfTrack();
  magenta::NoteSequence ns = MidiToNoteSequence(Header(0, 1, 480) + Track(t));
  ASSERT_EQ(ns.notes_size(), 1);
  EXPECT_EQ(ns.notes(0).velocity(), 10);
  // on 0 / on 10 / off 10 / off 20: the first note-off closes the older note and keeps
  // the same-tick one, which the second closes.
  std::string kept = Bytes({0x00, 0x90, 60, 10, 0x0a, 0x90, 60, 20, 0x00, 0x80, 60, 0, 0x0a,
                            0x80, 60, 0}) + EndOfTrack();
  ns = MidiToNoteSequence(Header(0, 1, 480) + Track(kept));
  ASSERT_EQ(ns.notes_size(), 2);
  EXPECT_EQ(ns.notes(1).velocity(), 20);
  EXPECT_EQ(ns.notes(1).start_time(), ns.notes(0).end_time());
}

TEST(MidiReader, StragglerListsAreSharedAcrossLaterInstruments) {
  // Program 0 note creates instrument 0 (own lists). Then program 5: a CC with no
  // instrument goes to the holding list; notes on programs 5 and 6 create instruments 1
  // and 2, both holding that list; a CC under program 9 (no instrument) also lands there.
  std::string t = Bytes({0x00, 0x90, 60, 100, 0x10, 0x80, 60, 0,   // instrument 0
                         0x00, 0xb0, 1, 11,                        // CC under program 0
                         0x00, 0xc0, 5, 0x00, 0xb0, 7, 70,         // straggler CC
                         0x00, 0x90, 62, 100, 0x10, 0x80, 62, 0,   // instrument 1 (prog 5)
                         0x00, 0xc0, 6, 0x00, 0x90, 64, 100, 0x10, 0x80, 64, 0,  // instrument 2
                         0x00, 0xc0, 9, 0x00, 0xe0, 0, 0x60,       // bend, no instrument
                         0x00, 0xc0, 5, 0x00, 0xb0, 10, 5}) +      // CC to instrument 1
                  EndOfTrack();
  magenta::NoteSequence ns = MidiToNoteSequence(Header(0, 1, 480) + Track(t));
  ASSERT_EQ(ns.notes_size(), 3);
  ASSERT_EQ(ns.control_changes_size(), 1 + 2 + 2);
  EXPECT_EQ(ns.control_changes(0).instrument(), 0);
  EXPECT_EQ(ns.control_changes(0).control_number(), 1);
  for (int i : {1, 3}) {
    EXPECT_EQ(ns.control_changes(i).control_number(), 7);
    EXPECT_EQ(ns.control_changes(i + 1).control_number(), 10);
  }
  EXPECT_EQ(ns.control_changes(1).instrument(), 1);
  EXPECT_EQ(ns.control_changes(3).instrument(), 2);
  EXPECT_EQ(ns.control_changes(3).program(), 6);
  ASSERT_EQ(ns.pitch_bends_size(), 2);
  EXPECT_EQ(ns.pitch_bends(0).instrument(), 1);
  EXPECT_EQ(ns.pitch_bends(1).instrument(), 2);
}

TEST(MidiReader, ProgramStateResetsPerTrackAndNamesFollowTheTrack) {
  std::string t1 = Bytes({0x00, 0xc0, 40, 0x00, 0xff, 0x03, 0x01, 'X'}) + kNote + EndOfTrack();
  std::string t2 = kNote + Bytes({0x00, 0xff, 0x03, 0x01, 'Y', 0x00, 0x91, 60, 1, 0x01, 0x81,
                                  60, 0}) + EndOfTrack();
  magenta::NoteSequence ns = MidiToNoteSequence(Header(1, 2, 480) + Track(t1) + Track(t2));
  ASSERT_EQ(ns.notes_size(), 3);
  EXPECT_EQ(ns.notes(0).program(), 40);
  EXPECT_EQ(ns.notes(1).program(), 0);  // program changes never carry over to a new track
  ASSERT_EQ(ns.instrument_infos_size(), 2);
  EXPECT_EQ(ns.instrument_infos(0).instrument(), 0);
  EXPECT_EQ(ns.instrument_infos(0).name(), "X");
  // Instrument 1 was created before track 2's name event: it has no name.
  EXPECT_EQ(ns.instrument_infos(1).instrument(), 2);
  EXPECT_EQ(ns.instrument_infos(1).name(), "Y");
}

TEST(MidiReader, NegativeDivisionWithoutNotesLoads) {
  // A SMPTE-style division is just a negative ticks-per-quarter; with nothing to close the
  // file loads (times only go negative).
  std::string t = Bytes({0x00, 0xff, 0x58, 0x04, 3, 2, 24, 8, 0x10, 0x90, 60, 100});
  magenta::NoteSequence ns = MidiToNoteSequence(OneTrackFile(t, -6000 & 0xffff));
  EXPECT_EQ(ns.ticks_per_quarter(), static_cast<int16_t>(-6000 & 0xffff));
  EXPECT_EQ(ns.notes_size(), 0);
  ASSERT_EQ(ns.time_signatures_size(), 1);
  EXPECT_EQ(ns.total_time(), 0.0);
  // A time signature after tick 0 would have a negative time: pretty_midi rejects it.
  ExpectRejected(OneTrackFile(Bytes({0x10, 0xff, 0x58, 0x04, 3, 2, 24, 8}), -6000 & 0xffff),
                 "time signature at negative time");
}

}  // namespace
}  // namespace melody
