// Unit tests of the dataset pipeline stages on small hand-made sequences: quantizer,
// time-change splitter, melodies, extractor, transposition, CPython set order
// (shared/spec/data-pipeline.md §7.4-§7.8, appendix A; encodings.md §1).
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/melody.h"
#include "data/melody_extractor.h"
#include "data/python_set_order.h"
#include "data/quantize.h"
#include "data/sequence_split.h"
#include "data/transposition.h"

namespace melody {
namespace {

using magenta::NoteSequence;

// At 120 qpm and 4 steps per quarter a step lasts 0.125 s.
constexpr double kStep = 0.125;

void AddNote(NoteSequence* ns, int pitch, double start_step, double end_step,
             int instrument = 0, bool is_drum = false, int velocity = 100) {
  auto* note = ns->add_notes();
  note->set_pitch(pitch);
  note->set_velocity(velocity);
  note->set_start_time(start_step * kStep);
  note->set_end_time(end_step * kStep);
  note->set_instrument(instrument);
  note->set_is_drum(is_drum);
  ns->set_total_time(std::max(ns->total_time(), end_step * kStep));
}

void AddTimeSignature(NoteSequence* ns, double time, int numerator, int denominator) {
  auto* ts = ns->add_time_signatures();
  ts->set_time(time);
  ts->set_numerator(numerator);
  ts->set_denominator(denominator);
}

void AddTempo(NoteSequence* ns, double time, double qpm) {
  auto* tempo = ns->add_tempos();
  tempo->set_time(time);
  tempo->set_qpm(qpm);
}

QuantizationErrorKind QuantizeErrorKind(const NoteSequence& ns) {
  try {
    QuantizeNoteSequence(ns, 4);
  } catch (const QuantizationError& error) {
    return error.kind();
  }
  ADD_FAILURE() << "quantization did not fail";
  return QuantizationErrorKind::kNegativeTime;
}

// ---- quantizer -----------------------------------------------------------------------

TEST(Quantize, RoundsHalfUpAndNeverGivesZeroLength) {
  NoteSequence ns;
  AddNote(&ns, 60, 0.48, 0.5);   // steps 0 and 1 (0.5 rounds up)
  AddNote(&ns, 62, 3.2, 3.3);    // both round to 3: end becomes 4
  AddNote(&ns, 64, 10.0, 12.49);
  ns.set_total_time(20.4 * kStep);
  const NoteSequence q = QuantizeNoteSequence(ns, 4);
  EXPECT_EQ(q.quantization_info().steps_per_quarter(), 4);
  EXPECT_EQ(q.notes(0).quantized_start_step(), 0);
  EXPECT_EQ(q.notes(0).quantized_end_step(), 1);
  EXPECT_EQ(q.notes(1).quantized_start_step(), 3);
  EXPECT_EQ(q.notes(1).quantized_end_step(), 4);
  EXPECT_EQ(q.notes(2).quantized_end_step(), 12);
  EXPECT_EQ(q.total_quantized_steps(), 20);
  // Defaults are added: 4/4 and 120 qpm at time 0.
  ASSERT_EQ(q.time_signatures_size(), 1);
  EXPECT_EQ(q.time_signatures(0).numerator(), 4);
  ASSERT_EQ(q.tempos_size(), 1);
  EXPECT_EQ(q.tempos(0).qpm(), 120.0);
  EXPECT_DOUBLE_EQ(q.notes(2).start_time(), 10.0 * kStep);  // seconds are kept
}

TEST(Quantize, TotalStepsGrowToTheLastNoteEnd) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 8);
  ns.set_total_time(2 * kStep);  // inconsistent on purpose
  EXPECT_EQ(QuantizeNoteSequence(ns, 4).total_quantized_steps(), 8);
}

TEST(Quantize, TimeSignatureErrors) {
  NoteSequence late_change;
  AddNote(&late_change, 60, 0, 64);
  AddTimeSignature(&late_change, 1.0, 3, 4);  // implicit 4/4 before it
  EXPECT_EQ(QuantizeErrorKind(late_change), QuantizationErrorKind::kMultipleTimeSignature);

  NoteSequence late_same = late_change;
  late_same.mutable_time_signatures(0)->set_numerator(4);  // 4/4 later: no change
  EXPECT_NO_THROW(QuantizeNoteSequence(late_same, 4));

  NoteSequence two;
  AddNote(&two, 60, 0, 64);
  AddTimeSignature(&two, 0.0, 3, 4);
  AddTimeSignature(&two, 2.0, 4, 4);
  EXPECT_EQ(QuantizeErrorKind(two), QuantizationErrorKind::kMultipleTimeSignature);

  NoteSequence bad_denominator;
  AddNote(&bad_denominator, 60, 0, 8);
  AddTimeSignature(&bad_denominator, 0.0, 3, 3);
  EXPECT_EQ(QuantizeErrorKind(bad_denominator), QuantizationErrorKind::kBadTimeSignature);

  NoteSequence zero_numerator;
  AddNote(&zero_numerator, 60, 0, 8);
  AddTimeSignature(&zero_numerator, 0.0, 0, 4);
  EXPECT_EQ(QuantizeErrorKind(zero_numerator), QuantizationErrorKind::kBadTimeSignature);
}

TEST(Quantize, LaterSignaturesAreComparedWithTheFirstListed) {
  // Listed first: 4/4 at 2 s; earliest: 4/4 at 0. Equal, so no error; the first listed
  // one is kept and moved to time 0.
  NoteSequence ns;
  AddNote(&ns, 60, 0, 64);
  AddTimeSignature(&ns, 2.0, 4, 4);
  AddTimeSignature(&ns, 0.0, 4, 4);
  const NoteSequence q = QuantizeNoteSequence(ns, 4);
  ASSERT_EQ(q.time_signatures_size(), 1);
  EXPECT_EQ(q.time_signatures(0).time(), 0.0);
}

TEST(Quantize, TempoErrorsAndStageCounters) {
  NoteSequence late_tempo;
  AddNote(&late_tempo, 60, 0, 64);
  AddTempo(&late_tempo, 1.0, 90.0);
  EXPECT_EQ(QuantizeErrorKind(late_tempo), QuantizationErrorKind::kMultipleTempo);

  NoteSequence late_default = late_tempo;
  late_default.mutable_tempos(0)->set_qpm(120.0);
  EXPECT_NO_THROW(QuantizeNoteSequence(late_default, 4));

  Statistics stats;
  EXPECT_FALSE(QuantizeStage(late_tempo, 4, &stats).has_value());
  EXPECT_EQ(stats.counter("sequences_discarded_because_multiple_tempos"), 1);

  NoteSequence negative;
  AddNote(&negative, 60, -8, 4);
  EXPECT_EQ(QuantizeErrorKind(negative), QuantizationErrorKind::kNegativeTime);
  Statistics unused;
  EXPECT_THROW(QuantizeStage(negative, 4, &unused), QuantizationError);
}

TEST(Quantize, StepsPerBar) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 8);
  AddTimeSignature(&ns, 0.0, 6, 8);
  EXPECT_EQ(StepsPerBar(QuantizeNoteSequence(ns, 4)), 12.0);
  ns.mutable_time_signatures(0)->set_numerator(3);
  ns.mutable_time_signatures(0)->set_denominator(32);
  EXPECT_EQ(StepsPerBar(QuantizeNoteSequence(ns, 4)), 1.5);
  EXPECT_THROW(StepsPerBar(ns), Error);  // not quantized
}

// ---- splitter ------------------------------------------------------------------------

TEST(SplitOnTimeChanges, CutsNotesAndCarriesState) {
  NoteSequence ns;
  ns.set_ticks_per_quarter(220);
  AddTempo(&ns, 0.0, 120.0);
  AddTempo(&ns, 1.0, 120.0);  // same qpm: not a change
  AddTempo(&ns, 2.0, 60.0);
  AddTimeSignature(&ns, 0.0, 4, 4);
  auto* key = ns.add_key_signatures();
  key->set_key(magenta::NoteSequence::KeySignature::G);
  auto* pedal = ns.add_control_changes();
  pedal->set_time(1.0);
  pedal->set_control_number(64);
  pedal->set_control_value(127);
  auto* volume = ns.add_control_changes();
  volume->set_time(0.5);
  volume->set_control_number(7);
  ns.add_pitch_bends()->set_time(0.5);
  AddNote(&ns, 62, 16, 24);  // 2.0 s .. 3.0 s: second piece
  AddNote(&ns, 60, 12, 20);  // 1.5 s .. 2.5 s: cut at 2.0 s
  ns.set_total_time(4.0);

  const std::vector<NoteSequence> pieces = SplitOnTimeChanges(ns);
  ASSERT_EQ(pieces.size(), 2u);
  const NoteSequence& first = pieces[0];
  const NoteSequence& second = pieces[1];
  EXPECT_EQ(first.ticks_per_quarter(), 220);
  ASSERT_EQ(first.notes_size(), 1);
  EXPECT_EQ(first.notes(0).pitch(), 60);
  EXPECT_EQ(first.notes(0).start_time(), 1.5);
  EXPECT_EQ(first.notes(0).end_time(), 2.0);  // cut at the split
  EXPECT_EQ(first.total_time(), 2.0);
  ASSERT_EQ(first.tempos_size(), 2);  // 120 at 0 and the redundant 120 at 1.0
  EXPECT_EQ(first.subsequence_info().start_time_offset(), 0.0);
  EXPECT_EQ(first.subsequence_info().end_time_offset(), 2.0);
  ASSERT_EQ(first.control_changes_size(), 1);  // the pedal; volume dropped
  EXPECT_EQ(first.control_changes(0).control_number(), 64);
  EXPECT_EQ(first.pitch_bends_size(), 0);

  ASSERT_EQ(second.notes_size(), 1);
  EXPECT_EQ(second.notes(0).start_time(), 0.0);
  EXPECT_EQ(second.notes(0).end_time(), 1.0);
  ASSERT_EQ(second.tempos_size(), 1);
  EXPECT_EQ(second.tempos(0).qpm(), 60.0);
  EXPECT_EQ(second.tempos(0).time(), 0.0);
  ASSERT_EQ(second.time_signatures_size(), 1);  // carried over at time 0
  ASSERT_EQ(second.key_signatures_size(), 1);
  EXPECT_EQ(second.key_signatures(0).key(), 7);
  ASSERT_EQ(second.control_changes_size(), 1);  // pedal state carried
  EXPECT_EQ(second.control_changes(0).time(), 0.0);
  EXPECT_EQ(second.subsequence_info().start_time_offset(), 2.0);
  EXPECT_EQ(second.subsequence_info().end_time_offset(), 4.0 - 2.0 - 1.0);
}

TEST(SplitOnTimeChanges, EmptySequenceGivesNothingAndSinglePieceKeepsAll) {
  NoteSequence empty;
  AddTempo(&empty, 0.0, 90.0);
  EXPECT_TRUE(SplitOnTimeChanges(empty).empty());

  NoteSequence one;
  AddNote(&one, 60, 4, 8);
  AddNote(&one, 59, 0, 4);
  const auto pieces = SplitOnTimeChanges(one);
  ASSERT_EQ(pieces.size(), 1u);
  ASSERT_EQ(pieces[0].notes_size(), 2);
  EXPECT_EQ(pieces[0].notes(0).pitch(), 59);  // start-time order
  EXPECT_TRUE(pieces[0].has_subsequence_info());
}

TEST(SplitOnTimeChanges, RejectsQuantizedInput) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 8);
  EXPECT_THROW(SplitOnTimeChanges(QuantizeNoteSequence(ns, 4)), Error);
}

// ---- melodies --------------------------------------------------------------------------

TEST(Melody, FromEventsCleansLeadingNoteOffsAndChecksRange) {
  const Melody melody = Melody::FromEvents({-1, -2, -1, 60, -1, -1}, 32);
  EXPECT_EQ(melody.events, (std::vector<int>{-2, -2, -2, 60, -1, -1}));
  EXPECT_EQ(melody.start_step, 32);
  EXPECT_EQ(melody.end_step, 38);
  EXPECT_THROW(Melody::FromEvents({60, 128}), Error);
  EXPECT_THROW(Melody::FromEvents({-3}), Error);
}

TEST(Melody, SetLengthEndsSustainedNotesWhenGrowing) {
  Melody sustained = Melody::FromEvents({60, -2});
  sustained.SetLength(4);
  EXPECT_EQ(sustained.events, (std::vector<int>{60, -2, -1, -2}));
  EXPECT_EQ(sustained.end_step, 4);

  Melody released = Melody::FromEvents({60, -1});
  released.SetLength(4);
  EXPECT_EQ(released.events, (std::vector<int>{60, -1, -2, -2}));

  Melody longer = Melody::FromEvents({60, -2, 62, -2});
  longer.SetLength(3);  // no note-off added when shrinking
  EXPECT_EQ(longer.events, (std::vector<int>{60, -2, 62}));
}

NoteSequence Quantized(const NoteSequence& ns) { return QuantizeNoteSequence(ns, 4); }

TEST(Melody, FromQuantizedSequenceRules) {
  NoteSequence ns;
  AddNote(&ns, 60, 18, 22);  // starts in bar 1 -> melody starts at step 16
  AddNote(&ns, 62, 20, 23);  // legato: cuts the previous note at 20
  AddNote(&ns, 64, 23, 25);  // starts on the previous note-off: replaces it
  AddNote(&ns, 65, 41, 42);  // off distance 41 - 25 = 16 = one bar: the melody ends
  const Melody melody = Melody::FromQuantizedSequence(Quantized(ns), {});
  EXPECT_EQ(melody.start_step, 16);
  // Relative: 60 at 2, 62 at 4, 64 at 7..9; the final note-off is dropped.
  EXPECT_EQ(melody.events, (std::vector<int>{-2, -2, 60, -2, 62, -2, -2, 64, -2}));
  EXPECT_EQ(melody.end_step, 25);
  EXPECT_EQ(melody.steps_per_bar, 16);
  EXPECT_EQ(melody.steps_per_quarter, 4);

  MelodyFromSequenceOptions padded;
  padded.pad_end = true;
  EXPECT_EQ(Melody::FromQuantizedSequence(Quantized(ns), padded).size(), 16u);

  MelodyFromSequenceOptions next;
  next.search_start_step = 32;
  const Melody second = Melody::FromQuantizedSequence(Quantized(ns), next);
  EXPECT_EQ(second.start_step, 32);
  EXPECT_EQ(second.events.size(), 10u);  // 65 at relative step 9, then hold
}

TEST(Melody, PolyphonyRaisesOrKeepsTheHighestNote) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 4);
  AddNote(&ns, 67, 0, 4);
  EXPECT_THROW(Melody::FromQuantizedSequence(Quantized(ns), {}), PolyphonicMelodyError);
  MelodyFromSequenceOptions ignore;
  ignore.ignore_polyphonic_notes = true;
  EXPECT_EQ(Melody::FromQuantizedSequence(Quantized(ns), ignore).events,
            (std::vector<int>{67, -2, -2, -2}));
}

TEST(Melody, DrumsAndSilentNotesAreSkippedButTheDrumSetsTheStart) {
  NoteSequence ns;
  AddNote(&ns, 36, 3, 4, 0, /*is_drum=*/true);
  AddNote(&ns, 61, 20, 21, 0, false, /*velocity=*/0);
  AddNote(&ns, 62, 21, 22);
  const Melody melody = Melody::FromQuantizedSequence(Quantized(ns), {});
  EXPECT_EQ(melody.start_step, 0);  // bar of the drum note
  EXPECT_EQ(melody.events.size(), 22u);
  EXPECT_EQ(melody.events[21], 62);
}

TEST(Melody, NonIntegerStepsPerBar) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 4);
  AddTimeSignature(&ns, 0.0, 3, 32);
  EXPECT_THROW(Melody::FromQuantizedSequence(Quantized(ns), {}), NonIntegerStepsPerBarError);
}

TEST(Melody, NegativeStepsPerBarIsAnErrorNotAHang) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 4);
  AddTimeSignature(&ns, 0.0, -4, 4);  // only a zero numerator is a BadTimeSignature
  const NoteSequence q = Quantized(ns);
  EXPECT_EQ(StepsPerBar(q), -16.0);
  EXPECT_THROW(Melody::FromQuantizedSequence(q, {}), Error);
  Statistics stats;
  EXPECT_THROW(ExtractMelodies(q, {}, &stats), Error);
}

// ---- extractor -------------------------------------------------------------------------

// `count` notes of `length` steps from `start_step`, cycling through `pitches`.
void AddRun(NoteSequence* ns, int64_t start_step, int count, int length,
            const std::vector<int>& pitches, int instrument = 0) {
  for (int i = 0; i < count; ++i) {
    AddNote(ns, pitches[i % pitches.size()], start_step + i * length,
            start_step + (i + 1) * length, instrument);
  }
}

TEST(ExtractMelodies, FiltersCountsAndTruncates) {
  NoteSequence ns;
  const std::vector<int> five = {60, 62, 64, 65, 67};
  AddRun(&ns, 0, 40, 4, five);        // 160 steps: kept
  AddRun(&ns, 192, 20, 4, five);      // 80 steps: too short
  AddRun(&ns, 320, 40, 4, {60, 62});  // 2 pitch classes: too few
  AddRun(&ns, 512, 150, 4, five);     // 600 steps: truncated to 512 (32 bars)
  Statistics stats;
  const std::vector<Melody> melodies = ExtractMelodies(Quantized(ns), {}, &stats);
  ASSERT_EQ(melodies.size(), 2u);
  EXPECT_EQ(melodies[0].start_step, 0);
  EXPECT_EQ(melodies[0].size(), 160u);  // the note-off at step 160 is dropped
  EXPECT_EQ(melodies[1].start_step, 512);
  EXPECT_EQ(melodies[1].size(), 512u);
  EXPECT_EQ(melodies[1].end_step, 1024);
  EXPECT_EQ(stats.counter("melodies_discarded_too_short"), 1);
  EXPECT_EQ(stats.counter("melodies_discarded_too_few_pitches"), 1);
  EXPECT_EQ(stats.counter("melodies_truncated"), 1);
  EXPECT_EQ(stats.counter("polyphonic_tracks_discarded"), 0);
  EXPECT_TRUE(stats.HasCounter("melodies_discarded_too_long"));
  const Histogram& lengths = stats.histogram("melody_lengths_in_bars");
  EXPECT_EQ(lengths.lower_bounds(),
            (std::vector<double>{-std::numeric_limits<double>::infinity(), 0, 1, 3, 6, 7, 8,
                                 10, 20, 30, 40, 50, 100, 200, 500}));
  // 160 // 16 = 10 -> bucket [10, 20); 512 // 16 = 32 -> bucket [30, 40).
  EXPECT_EQ(lengths.counts()[7], 1);
  EXPECT_EQ(lengths.counts()[9], 1);

  MelodyExtractorOptions discard;
  discard.max_steps_discard = 300;
  Statistics discard_stats;
  EXPECT_EQ(ExtractMelodies(Quantized(ns), discard, &discard_stats).size(), 1u);
  EXPECT_EQ(discard_stats.counter("melodies_discarded_too_long"), 1);
}

TEST(ExtractMelodies, PolyphonyStopsOnlyThatInstrument) {
  NoteSequence ns;
  const std::vector<int> five = {60, 62, 64, 65, 67};
  AddRun(&ns, 0, 40, 4, five, /*instrument=*/1);
  AddNote(&ns, 70, 256, 260, 1);  // two notes at step 256 after a gap: polyphonic
  AddNote(&ns, 72, 256, 260, 1);
  AddRun(&ns, 0, 40, 4, five, /*instrument=*/8);
  Statistics stats;
  const auto melodies = ExtractMelodies(Quantized(ns), {}, &stats);
  EXPECT_EQ(melodies.size(), 2u);  // instrument 8 first (set order), then 1's first melody
  EXPECT_EQ(stats.counter("polyphonic_tracks_discarded"), 1);
  EXPECT_EQ(InstrumentIterationOrder(ns), (std::vector<int>{8, 1}));
}

TEST(ExtractMelodies, StageReportsNonIntegerStepsPerBarOnly) {
  NoteSequence ns;
  AddRun(&ns, 0, 40, 4, {60, 62, 64, 65, 67});
  AddTimeSignature(&ns, 0.0, 3, 32);
  Statistics stats;
  EXPECT_TRUE(MelodyExtractorStage(Quantized(ns), {}, &stats).empty());
  EXPECT_EQ(stats.counter("non_integer_steps_per_bar"), 1);
  EXPECT_EQ(stats.Names().size(), 1u);
  EXPECT_THROW(ExtractMelodies(ns, {}, &stats), Error);  // unquantized input
}

TEST(ExtractMelodies, HistogramBoundsFollowMinBars) {
  EXPECT_EQ(MelodyLengthHistogramBounds(0),
            (std::vector<double>{0, 1, 10, 20, 30, 40, 50, 100, 200, 500, 0, 0, 1, -1}));
}

// ---- transposition and set order ---------------------------------------------------------

TEST(TransposeStage, IdentityAndRangeCheck) {
  NoteSequence ns;
  AddNote(&ns, 60, 0, 4);
  AddNote(&ns, 127, 4, 8, 0, /*is_drum=*/true);
  Statistics stats;
  EXPECT_EQ(TransposeStage(Quantized(ns), {0}, &stats).size(), 1u);
  EXPECT_EQ(stats.counter("transpositions_generated"), 1);
  EXPECT_TRUE(stats.HasCounter("skipped_due_to_range_exceeded"));

  Statistics shifted_stats;
  const auto shifted = TransposeStage(Quantized(ns), {-60, -61, 67, 68}, &shifted_stats);
  ASSERT_EQ(shifted.size(), 2u);
  EXPECT_EQ(shifted[0].notes(0).pitch(), 0);
  EXPECT_EQ(shifted[0].notes(1).pitch(), 127);  // drums are not transposed
  EXPECT_EQ(shifted[1].notes(0).pitch(), 127);
  EXPECT_EQ(shifted_stats.counter("skipped_due_to_range_exceeded"), 2);
  EXPECT_EQ(shifted_stats.counter("transpositions_generated"), 2);
}

TEST(PythonSetOrder, ExamplesFromTheSpec) {
  EXPECT_EQ(PythonSetIterationOrder({1, 8}), (std::vector<int64_t>{8, 1}));
  EXPECT_EQ(PythonSetIterationOrder({2, 9}), (std::vector<int64_t>{9, 2}));
  EXPECT_EQ(PythonSetIterationOrder({3, 1, 3, 2, 1}), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(PythonSetIterationOrder({}).empty());
  // Five values trigger the first resize (8 -> 32 slots); small values then come out
  // ascending.
  EXPECT_EQ(PythonSetIterationOrder({20, 4, 3, 2, 1}), (std::vector<int64_t>{1, 2, 3, 4, 20}));
}

}  // namespace
}  // namespace melody
