#include "data/sequence_split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "core/error.h"

namespace melody {
namespace {

using magenta::NoteSequence;

// Control numbers whose latest value is carried into each piece (sustain, sostenuto,
// una corda); all other control changes are dropped.
constexpr int kPreservedControlNumbers[] = {64, 66, 67};

bool IsPreservedControl(int control_number) {
  return std::find(std::begin(kPreservedControlNumbers), std::end(kPreservedControlNumbers),
                   control_number) != std::end(kPreservedControlNumbers);
}

void RequireNotNan(double time, const char* what) {
  MELODY_REQUIRE(!std::isnan(time)) << "NoteSequence has a " << what << " with time NaN";
}

// Pointers to `events` stable-sorted by time (Python's sorted(key=time)).
template <typename Event>
std::vector<const Event*> SortedByTime(const std::vector<const Event*>& events) {
  std::vector<const Event*> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Event* a, const Event* b) { return a->time() < b->time(); });
  return sorted;
}

std::vector<const magenta::NoteSequence::Note*> NotesByStartTime(const NoteSequence& sequence) {
  std::vector<const NoteSequence::Note*> sorted;
  sorted.reserve(sequence.notes_size());
  for (const auto& note : sequence.notes()) sorted.push_back(&note);
  const auto by_start = [](const NoteSequence::Note* a, const NoteSequence::Note* b) {
    return a->start_time() < b->start_time();
  };
  // Notes read from MIDI usually come in start order already; a stable sort would then
  // leave them as they are, so the check alone gives the same order.
  if (!std::is_sorted(sorted.begin(), sorted.end(), by_start)) {
    std::stable_sort(sorted.begin(), sorted.end(), by_start);
  }
  return sorted;
}

template <typename Event>
std::vector<const Event*> AllOf(const google::protobuf::RepeatedPtrField<Event>& field) {
  std::vector<const Event*> events;
  for (const Event& event : field) events.push_back(&event);
  return events;
}

// State events (time/key signatures, tempos, chord symbols): each piece starts with the
// last event at or before its start (time 0), then gets the events strictly inside it.
// An event exactly at a piece's end is the carried state of the next piece.
template <typename Event, typename Container>
void DistributeStateEvents(const std::vector<const Event*>& events,
                           const std::vector<double>& split_times, const Container& container) {
  const int64_t last_boundary = static_cast<int64_t>(split_times.size()) - 1;
  const Event* previous = nullptr;
  int64_t index = -1;
  auto add_state = [&](int64_t piece) {
    if (previous == nullptr) return;
    Event* copy = container(piece)->Add();
    *copy = *previous;
    copy->set_time(0.0);
  };
  for (const Event* event : SortedByTime(events)) {
    if (event->time() <= split_times[0]) {
      previous = event;
      continue;
    }
    while (index < last_boundary && event->time() > split_times[index + 1]) {
      ++index;
      if (index == last_boundary) break;
      add_state(index);
    }
    if (index == last_boundary) break;
    if (event->time() < split_times[index + 1]) {
      Event* copy = container(index)->Add();
      *copy = *event;
      copy->set_time(event->time() - split_times[index]);
    }
    previous = event;
  }
  while (index < last_boundary - 1) {
    ++index;
    add_state(index);
  }
}

// Stateless events (beat annotations): copied into the piece they start in.
void DistributeBeats(const std::vector<const NoteSequence::TextAnnotation*>& beats,
                     const std::vector<double>& split_times,
                     const std::vector<NoteSequence*>& pieces) {
  const int64_t last_boundary = static_cast<int64_t>(split_times.size()) - 1;
  int64_t index = -1;
  for (const auto* beat : SortedByTime(beats)) {
    if (beat->time() < split_times[0]) continue;
    while (index < last_boundary && beat->time() >= split_times[index + 1]) ++index;
    if (index == last_boundary) break;
    auto* copy = pieces[index]->add_text_annotations();
    *copy = *beat;
    copy->set_time(beat->time() - split_times[index]);
  }
}

// Pedal control changes: state kept per (instrument, control number), carried into each
// piece in the order the keys were first seen.
void DistributePedals(const NoteSequence& sequence, const std::vector<double>& split_times,
                      const std::vector<NoteSequence*>& pieces) {
  std::vector<const NoteSequence::ControlChange*> pedals;
  for (const auto& cc : sequence.control_changes()) {
    if (IsPreservedControl(cc.control_number())) pedals.push_back(&cc);
  }
  std::vector<std::pair<std::pair<int, int>, const NoteSequence::ControlChange*>> state;
  auto remember = [&](const NoteSequence::ControlChange* cc) {
    std::pair<int, int> key{cc->instrument(), cc->control_number()};
    for (auto& entry : state) {
      if (entry.first == key) {
        entry.second = cc;
        return;
      }
    }
    state.emplace_back(key, cc);
  };
  auto add_state = [&](int64_t piece) {
    for (const auto& entry : state) {
      auto* copy = pieces[piece]->add_control_changes();
      *copy = *entry.second;
      copy->set_time(0.0);
    }
  };
  const int64_t last_boundary = static_cast<int64_t>(split_times.size()) - 1;
  int64_t index = -1;
  for (const auto* pedal : SortedByTime(pedals)) {
    if (pedal->time() <= split_times[0]) {
      remember(pedal);
      continue;
    }
    while (index < last_boundary && pedal->time() > split_times[index + 1]) {
      ++index;
      if (index == last_boundary) break;
      add_state(index);
    }
    if (index == last_boundary) break;
    if (pedal->time() < split_times[index + 1]) {
      auto* copy = pieces[index]->add_control_changes();
      *copy = *pedal;
      copy->set_time(pedal->time() - split_times[index]);
    }
    remember(pedal);
  }
  while (index < last_boundary - 1) {
    ++index;
    add_state(index);
  }
}

void CheckTimes(const NoteSequence& sequence) {
  RequireNotNan(sequence.total_time(), "total_time");
  for (const auto& note : sequence.notes()) {
    RequireNotNan(note.start_time(), "note start");
    RequireNotNan(note.end_time(), "note end");
  }
  for (const auto& e : sequence.time_signatures()) RequireNotNan(e.time(), "time signature");
  for (const auto& e : sequence.key_signatures()) RequireNotNan(e.time(), "key signature");
  for (const auto& e : sequence.tempos()) {
    RequireNotNan(e.time(), "tempo");
    RequireNotNan(e.qpm(), "tempo qpm");
  }
  for (const auto& e : sequence.text_annotations()) RequireNotNan(e.time(), "text annotation");
  for (const auto& e : sequence.control_changes()) RequireNotNan(e.time(), "control change");
}

// The piece's copy of everything in `sequence` that is not cut by time: the same message
// as a copy of `sequence` with the timed event lists and total_time cleared, without
// copying the notes first. Every NoteSequence field is either listed
// here or among the timed ones (tests/data/melody_pipeline_test.cc checks the list
// against the descriptor).
void CopyUntimedFields(const NoteSequence& sequence, NoteSequence* piece) {
  piece->set_id(sequence.id());
  piece->set_filename(sequence.filename());
  piece->set_reference_number(sequence.reference_number());
  piece->set_collection_name(sequence.collection_name());
  piece->set_ticks_per_quarter(sequence.ticks_per_quarter());
  piece->set_total_quantized_steps(sequence.total_quantized_steps());
  *piece->mutable_part_infos() = sequence.part_infos();
  if (sequence.has_source_info()) *piece->mutable_source_info() = sequence.source_info();
  *piece->mutable_section_annotations() = sequence.section_annotations();
  *piece->mutable_section_groups() = sequence.section_groups();
  if (sequence.has_quantization_info()) {
    *piece->mutable_quantization_info() = sequence.quantization_info();
  }
  // (Both offsets are set afterwards; a copy keeps whatever else the input's has.)
  if (sequence.has_subsequence_info()) {
    *piece->mutable_subsequence_info() = sequence.subsequence_info();
  }
  if (sequence.has_sequence_metadata()) {
    *piece->mutable_sequence_metadata() = sequence.sequence_metadata();
  }
  *piece->mutable_instrument_infos() = sequence.instrument_infos();
  // Fields this build does not know are kept too, as a copy would keep them.
  piece->GetReflection()->MutableUnknownFields(piece)->MergeFrom(
      sequence.GetReflection()->GetUnknownFields(sequence));
}

// Fills `pieces` (one empty NoteSequence per consecutive pair of `split_times`, already
// validated) with the cut of `sequence`.
void FillSubsequences(const NoteSequence& sequence, const std::vector<double>& split_times,
                      const std::vector<NoteSequence*>& pieces) {
  for (NoteSequence* piece : pieces) CopyUntimedFields(sequence, piece);

  // Notes, in start-time order, go to the piece they start in, cut at its end.
  const int64_t last_boundary = static_cast<int64_t>(split_times.size()) - 1;
  int64_t index = -1;
  for (const auto* note : NotesByStartTime(sequence)) {
    if (note->start_time() < split_times[0]) continue;
    while (index < last_boundary && note->start_time() >= split_times[index + 1]) ++index;
    if (index == last_boundary) break;
    NoteSequence& piece = *pieces[index];
    auto* copy = piece.add_notes();
    *copy = *note;
    copy->set_start_time(note->start_time() - split_times[index]);
    copy->set_end_time(std::min(note->end_time(), split_times[index + 1]) - split_times[index]);
    if (copy->end_time() > piece.total_time()) piece.set_total_time(copy->end_time());
  }

  DistributeStateEvents<NoteSequence::TimeSignature>(
      AllOf(sequence.time_signatures()), split_times,
      [&](size_t i) { return pieces[i]->mutable_time_signatures(); });
  DistributeStateEvents<NoteSequence::KeySignature>(
      AllOf(sequence.key_signatures()), split_times,
      [&](size_t i) { return pieces[i]->mutable_key_signatures(); });
  DistributeStateEvents<NoteSequence::Tempo>(
      AllOf(sequence.tempos()), split_times,
      [&](size_t i) { return pieces[i]->mutable_tempos(); });
  std::vector<const NoteSequence::TextAnnotation*> chords, beats;
  for (const auto& annotation : sequence.text_annotations()) {
    if (annotation.annotation_type() == NoteSequence::TextAnnotation::CHORD_SYMBOL) {
      chords.push_back(&annotation);
    } else if (annotation.annotation_type() == NoteSequence::TextAnnotation::BEAT) {
      beats.push_back(&annotation);
    }
  }
  DistributeStateEvents<NoteSequence::TextAnnotation>(
      chords, split_times, [&](size_t i) { return pieces[i]->mutable_text_annotations(); });
  DistributeBeats(beats, split_times, pieces);
  DistributePedals(sequence, split_times, pieces);

  for (size_t i = 0; i < pieces.size(); ++i) {
    auto* info = pieces[i]->mutable_subsequence_info();
    info->set_start_time_offset(split_times[i]);
    info->set_end_time_offset(sequence.total_time() - split_times[i] -
                              pieces[i]->total_time());
  }
}

void CheckSplitTimes(const NoteSequence& sequence, const std::vector<double>& split_times) {
  MELODY_REQUIRE(sequence.quantization_info().steps_per_quarter() <= 0 &&
                 sequence.quantization_info().steps_per_second() <= 0)
      << "can only split an unquantized NoteSequence";
  MELODY_REQUIRE(split_times.size() >= 2) << "splitting needs a start and an end time";
  for (size_t i = 0; i + 1 < split_times.size(); ++i) {
    MELODY_REQUIRE(!(split_times[i] > split_times[i + 1])) << "split times must be sorted";
    MELODY_REQUIRE(split_times[i] < sequence.total_time())
        << "cannot extract a subsequence past the end of the sequence";
  }
}

// The cut points of SplitOnTimeChanges: 0, every real time-signature or tempo change
// before the end, and total_time. Fewer than two values when the sequence has no length.
std::vector<double> TimeChangeSplitTimes(const NoteSequence& sequence) {
  // Time signatures then tempos, stable-sorted by time (signatures first at equal times),
  // keeping those before the end.
  struct TimeChange {
    double time;
    bool is_time_signature;
    int numerator = 0, denominator = 0;
    double qpm = 0.0;
  };
  std::vector<TimeChange> changes;
  changes.reserve(sequence.time_signatures_size() + sequence.tempos_size());
  for (const auto& ts : sequence.time_signatures()) {
    changes.push_back({ts.time(), true, ts.numerator(), ts.denominator(), 0.0});
  }
  for (const auto& tempo : sequence.tempos()) {
    changes.push_back({tempo.time(), false, 0, 0, tempo.qpm()});
  }
  std::stable_sort(changes.begin(), changes.end(),
                   [](const TimeChange& a, const TimeChange& b) { return a.time < b.time; });

  int numerator = 4, denominator = 4;
  double qpm = 120.0;
  std::vector<double> split_times = {0.0};
  for (const TimeChange& change : changes) {
    if (!(change.time < sequence.total_time())) continue;
    if (change.is_time_signature) {
      if (change.numerator == numerator && change.denominator == denominator) continue;
    } else if (change.qpm == qpm) {
      continue;
    }
    if (change.time > split_times.back()) split_times.push_back(change.time);
    if (change.is_time_signature) {
      numerator = change.numerator;
      denominator = change.denominator;
    } else {
      qpm = change.qpm;
    }
  }
  if (sequence.total_time() > split_times.back()) split_times.push_back(sequence.total_time());
  return split_times;
}

}  // namespace

std::vector<NoteSequence> ExtractSubsequences(const NoteSequence& sequence,
                                              const std::vector<double>& split_times) {
  CheckSplitTimes(sequence, split_times);
  CheckTimes(sequence);
  std::vector<NoteSequence> pieces(split_times.size() - 1);
  std::vector<NoteSequence*> targets;
  targets.reserve(pieces.size());
  for (NoteSequence& piece : pieces) targets.push_back(&piece);
  FillSubsequences(sequence, split_times, targets);
  return pieces;
}

std::vector<NoteSequence> SplitOnTimeChanges(const NoteSequence& sequence) {
  CheckTimes(sequence);
  const std::vector<double> split_times = TimeChangeSplitTimes(sequence);
  if (split_times.size() < 2) return {};
  return ExtractSubsequences(sequence, split_times);
}

std::vector<NoteSequence*> SplitOnTimeChanges(const NoteSequence& sequence,
                                              google::protobuf::Arena* arena) {
  MELODY_REQUIRE(arena != nullptr) << "SplitOnTimeChanges needs an arena for its pieces";
  CheckTimes(sequence);
  const std::vector<double> split_times = TimeChangeSplitTimes(sequence);
  if (split_times.size() < 2) return {};
  CheckSplitTimes(sequence, split_times);
  std::vector<NoteSequence*> pieces;
  pieces.reserve(split_times.size() - 1);
  for (size_t i = 0; i + 1 < split_times.size(); ++i) {
    pieces.push_back(google::protobuf::Arena::CreateMessage<NoteSequence>(arena));
  }
  FillSubsequences(sequence, split_times, pieces);
  return pieces;
}

}  // namespace melody
