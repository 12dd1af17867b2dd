// The pipeline's no-copy stage forms (pieces on an arena, quantization and the
// transposition range check in place) against the copying stage functions: the same
// messages byte for byte and the same statistics, on hand-made sequences and on all
// Nottingham files.
#include <gtest/gtest.h>

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "data/midi_reader.h"
#include "data/quantize.h"
#include "data/sequence_split.h"
#include "data/transposition.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using magenta::NoteSequence;

void AddNote(NoteSequence* ns, int pitch, double start, double end, bool is_drum = false) {
  auto* note = ns->add_notes();
  note->set_pitch(pitch);
  note->set_velocity(90);
  note->set_start_time(start);
  note->set_end_time(end);
  note->set_is_drum(is_drum);
  ns->set_total_time(std::max(ns->total_time(), end));
}

// A sequence with every NoteSequence field set, two time changes and a field this build
// does not know (number 99).
NoteSequence FullSequence() {
  NoteSequence ns;
  ns.set_id("/id/test");
  ns.set_filename("test.mid");
  ns.set_reference_number(7);
  ns.set_collection_name("tests");
  ns.set_ticks_per_quarter(480);
  ns.set_total_quantized_steps(3);
  ns.add_part_infos()->set_name("melody");
  ns.mutable_source_info()->set_parser(magenta::NoteSequence::SourceInfo::PRETTY_MIDI);
  ns.add_section_annotations()->set_time(0.5);
  ns.add_section_groups()->set_num_times(2);
  ns.mutable_quantization_info()->set_steps_per_quarter(0);
  ns.mutable_subsequence_info()->set_start_time_offset(9.0);
  ns.mutable_sequence_metadata()->set_title("a tune");
  ns.add_instrument_infos()->set_name("flute");
  ns.GetReflection()->MutableUnknownFields(&ns)->AddVarint(99, 5);
  auto* tempo = ns.add_tempos();
  tempo->set_qpm(120.0);
  tempo = ns.add_tempos();
  tempo->set_time(2.0);
  tempo->set_qpm(90.0);
  auto* ts = ns.add_time_signatures();
  ts->set_numerator(3);
  ts->set_denominator(4);
  ts = ns.add_time_signatures();
  ts->set_time(3.0);
  ts->set_numerator(6);
  ts->set_denominator(8);
  ns.add_key_signatures()->set_time(1.0);
  auto* chord = ns.add_text_annotations();
  chord->set_time(0.25);
  chord->set_text("C");
  chord->set_annotation_type(NoteSequence::TextAnnotation::CHORD_SYMBOL);
  auto* beat = ns.add_text_annotations();
  beat->set_time(2.5);
  beat->set_annotation_type(NoteSequence::TextAnnotation::BEAT);
  auto* pedal = ns.add_control_changes();
  pedal->set_time(1.5);
  pedal->set_control_number(64);
  pedal->set_control_value(100);
  ns.add_pitch_bends()->set_time(0.5);
  AddNote(&ns, 60, 0.0, 1.0);
  AddNote(&ns, 64, 1.5, 2.5);  // cut at 2.0
  AddNote(&ns, 67, 2.25, 4.0);
  AddNote(&ns, 36, 3.5, 4.5, /*is_drum=*/true);
  return ns;
}

std::vector<std::string> Serialized(const std::vector<NoteSequence>& pieces) {
  std::vector<std::string> out;
  for (const NoteSequence& piece : pieces) out.push_back(SerializeDeterministic(piece));
  return out;
}

std::vector<std::string> Serialized(const std::vector<NoteSequence*>& pieces) {
  std::vector<std::string> out;
  for (const NoteSequence* piece : pieces) out.push_back(SerializeDeterministic(*piece));
  return out;
}

// The fields cut by time; the splitter copies every other field into each piece.
const std::set<int> kTimedFields = {5, 6, 7, 8, 9, 10, 11, 14};
const std::set<int> kUntimedFields = {1, 2, 3, 4, 12, 13, 15, 16, 17, 18, 19, 20, 21, 23};

TEST(SplitOnTimeChangesOnArena, EveryNoteSequenceFieldIsKnownToTheSplitter) {
  // A field added to proto/music.proto must be added to CopyUntimedFields (or to the
  // timed fields) in data/sequence_split.cc, and here.
  const google::protobuf::Descriptor* descriptor = NoteSequence::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const int number = descriptor->field(i)->number();
    EXPECT_TRUE(kTimedFields.count(number) + kUntimedFields.count(number) == 1)
        << "NoteSequence field " << descriptor->field(i)->name() << " (" << number
        << ") is not handled by the splitter";
  }
  EXPECT_EQ(static_cast<size_t>(descriptor->field_count()),
            kTimedFields.size() + kUntimedFields.size());
}

TEST(SplitOnTimeChangesOnArena, SameBytesAsTheCopyingSplitter) {
  const NoteSequence ns = FullSequence();
  google::protobuf::Arena arena;
  const std::vector<NoteSequence*> on_arena = SplitOnTimeChanges(ns, &arena);
  const std::vector<NoteSequence> copied = SplitOnTimeChanges(ns);
  ASSERT_EQ(copied.size(), 3u);  // cuts at 2.0 (tempo) and 3.0 (time signature)
  EXPECT_EQ(Serialized(on_arena), Serialized(copied));
  for (const NoteSequence* piece : on_arena) EXPECT_EQ(piece->GetArena(), &arena);
}

TEST(SplitOnTimeChangesOnArena, PiecesKeepEveryUntimedFieldOfTheInput) {
  // Each piece is the input without its timed content, plus that content cut to the
  // piece: clearing the timed fields of both sides must leave the same bytes.
  const NoteSequence ns = FullSequence();
  NoteSequence expected = ns;
  auto clear_timed = [](NoteSequence* s) {
    s->clear_time_signatures();
    s->clear_key_signatures();
    s->clear_tempos();
    s->clear_notes();
    s->clear_total_time();
    s->clear_pitch_bends();
    s->clear_control_changes();
    s->clear_text_annotations();
    s->mutable_subsequence_info()->clear_start_time_offset();
    s->mutable_subsequence_info()->clear_end_time_offset();
  };
  clear_timed(&expected);
  google::protobuf::Arena arena;
  for (NoteSequence* piece : SplitOnTimeChanges(ns, &arena)) {
    EXPECT_EQ(piece->GetReflection()->GetUnknownFields(*piece).field_count(), 1);
    clear_timed(piece);
    EXPECT_EQ(SerializeDeterministic(*piece), SerializeDeterministic(expected));
  }
}

TEST(SplitOnTimeChangesOnArena, EmptyAndErrorCasesAsTheCopyingSplitter) {
  google::protobuf::Arena arena;
  NoteSequence empty;
  EXPECT_TRUE(SplitOnTimeChanges(empty, &arena).empty());
  NoteSequence quantized = FullSequence();
  quantized.mutable_quantization_info()->set_steps_per_quarter(4);
  EXPECT_THROW(SplitOnTimeChanges(quantized, &arena), Error);
  EXPECT_THROW(SplitOnTimeChanges(FullSequence(), nullptr), Error);
}

TEST(QuantizeStageInPlace, SameResultAndStatisticsAsQuantizeStage) {
  google::protobuf::Arena arena;
  for (NoteSequence* piece : SplitOnTimeChanges(FullSequence(), &arena)) {
    Statistics copy_stats, in_place_stats;
    const auto copied = QuantizeStage(*piece, 4, &copy_stats);
    const bool kept = QuantizeStageInPlace(piece, 4, &in_place_stats);
    ASSERT_EQ(kept, copied.has_value());
    EXPECT_EQ(in_place_stats, copy_stats);
    if (kept) {
      EXPECT_EQ(SerializeDeterministic(*piece), SerializeDeterministic(*copied));
    }
  }
  // A discarded piece: a time-signature change inside it.
  NoteSequence two_signatures = FullSequence();
  two_signatures.clear_tempos();
  two_signatures.mutable_time_signatures(1)->set_time(1.0);
  Statistics copy_stats, in_place_stats;
  EXPECT_FALSE(QuantizeStage(two_signatures, 4, &copy_stats).has_value());
  EXPECT_FALSE(QuantizeStageInPlace(&two_signatures, 4, &in_place_stats));
  EXPECT_EQ(in_place_stats, copy_stats);
  EXPECT_EQ(in_place_stats.counter("sequences_discarded_because_multiple_time_signatures"), 1);
}

TEST(TransposeStageInPlace, SameResultAndStatisticsAsTransposeStage) {
  NoteSequence ns;
  AddNote(&ns, 60, 0.0, 0.5);
  AddNote(&ns, 127, 0.5, 1.0, /*is_drum=*/true);
  const NoteSequence quantized = QuantizeNoteSequence(ns, 4);
  for (int amount : {0, 5, -60, -61, 67, 68}) {
    Statistics copy_stats, in_place_stats;
    const std::vector<NoteSequence> copied = TransposeStage(quantized, {amount}, &copy_stats);
    NoteSequence piece = quantized;
    const bool kept = TransposeStageInPlace(&piece, amount, &in_place_stats);
    ASSERT_EQ(kept, copied.size() == 1) << "amount " << amount;
    EXPECT_EQ(in_place_stats, copy_stats) << "amount " << amount;
    const NoteSequence& expected = kept ? copied[0] : quantized;  // unchanged when dropped
    EXPECT_EQ(SerializeDeterministic(piece), SerializeDeterministic(expected))
        << "amount " << amount;
  }
}

TEST(InPlaceStages, NottinghamPiecesMatchTheCopyingStages) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  std::vector<std::string> paths;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SharedPath("data/nottingham"))) {
    if (entry.path().extension() == ".mid") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_FALSE(paths.empty());
  int64_t pieces_checked = 0;
  for (const std::string& path : paths) {
    const NoteSequence ns = MidiToNoteSequence(ReadFileToString(path));
    google::protobuf::Arena arena;
    const std::vector<NoteSequence*> on_arena = SplitOnTimeChanges(ns, &arena);
    const std::vector<NoteSequence> copied = SplitOnTimeChanges(ns);
    ASSERT_EQ(Serialized(on_arena), Serialized(copied)) << path;
    for (size_t i = 0; i < copied.size(); ++i) {
      Statistics copy_stats, in_place_stats;
      const auto quantized = QuantizeStage(copied[i], 4, &copy_stats);
      const bool kept = QuantizeStageInPlace(on_arena[i], 4, &in_place_stats);
      ASSERT_EQ(kept, quantized.has_value()) << path;
      ASSERT_EQ(in_place_stats, copy_stats) << path;
      if (!kept) continue;
      ASSERT_EQ(SerializeDeterministic(*on_arena[i]), SerializeDeterministic(*quantized))
          << path;
      Statistics transpose_copy_stats, transpose_in_place_stats;
      const auto transposed = TransposeStage(*quantized, {0}, &transpose_copy_stats);
      const bool in_range = TransposeStageInPlace(on_arena[i], 0, &transpose_in_place_stats);
      ASSERT_EQ(in_range, transposed.size() == 1) << path;
      ASSERT_EQ(transpose_in_place_stats, transpose_copy_stats) << path;
      ++pieces_checked;
    }
  }
  EXPECT_GE(pieces_checked, static_cast<int64_t>(paths.size()));
}

}  // namespace
}  // namespace melody
