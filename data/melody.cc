#include "data/melody.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/quantize.h"

namespace melody {
namespace {

constexpr int kNoEvent = -2;
constexpr int kNoteOff = -1;
// Longest melody we build (about 580 hours at 120 qpm, 4 steps per quarter): a corrupt
// NoteSequence with huge step numbers gets an error instead of exhausting memory.
constexpr int64_t kMaxMelodySteps = int64_t{1} << 24;

// Python's `a % b` (result has the sign of b).
int64_t FloorMod(int64_t a, int64_t b) {
  MELODY_REQUIRE(b != 0) << "modulo by zero steps per bar";
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Stable sort of `notes` by start step, then pitch descending. The notes of a split
// piece already come in start order, so usually only the runs of notes starting on the
// same step (chords) need ordering; those are short and sorted in place.
void SortByStartThenPitchDown(std::vector<const magenta::NoteSequence::Note*>* notes) {
  const auto start_less = [](const auto* a, const auto* b) {
    return a->quantized_start_step() < b->quantized_start_step();
  };
  const auto pitch_down = [](const auto* a, const auto* b) { return a->pitch() > b->pitch(); };
  auto& v = *notes;
  if (!std::is_sorted(v.begin(), v.end(), start_less)) {
    std::stable_sort(v.begin(), v.end(), [&](const auto* a, const auto* b) {
      if (a->quantized_start_step() != b->quantized_start_step()) return start_less(a, b);
      return pitch_down(a, b);
    });
    return;
  }
  constexpr size_t kInsertionSortMax = 16;
  for (size_t begin = 0; begin < v.size();) {
    size_t end = begin + 1;
    while (end < v.size() && v[end]->quantized_start_step() == v[begin]->quantized_start_step()) {
      ++end;
    }
    if (end - begin > kInsertionSortMax) {
      std::stable_sort(v.begin() + begin, v.begin() + end, pitch_down);
    } else {
      // Insertion sort: stable, as it moves an element only past strictly lower pitches.
      for (size_t i = begin + 1; i < end; ++i) {
        const magenta::NoteSequence::Note* note = v[i];
        size_t j = i;
        while (j > begin && pitch_down(note, v[j - 1])) {
          v[j] = v[j - 1];
          --j;
        }
        v[j] = note;
      }
    }
    begin = end;
  }
}

}  // namespace

Melody Melody::FromEvents(std::vector<int> events, int64_t start_step, int steps_per_bar,
                          int steps_per_quarter) {
  for (size_t i = 0; i < events.size(); ++i) {
    MELODY_REQUIRE(events[i] >= -2 && events[i] <= 127)
        << "melody event " << i << " out of range: " << events[i] << " (allowed -2..127)";
  }
  // Note-offs before the first note-on carry no information.
  for (int& event : events) {
    if (event != kNoEvent && event != kNoteOff) break;
    event = kNoEvent;
  }
  Melody melody;
  melody.events = std::move(events);
  melody.start_step = start_step;
  melody.end_step = start_step + static_cast<int64_t>(melody.events.size());
  melody.steps_per_bar = steps_per_bar;
  melody.steps_per_quarter = steps_per_quarter;
  return melody;
}

void Melody::SetLength(int64_t steps) {
  MELODY_REQUIRE(steps >= 0 && steps <= kMaxMelodySteps)
      << "melody length must be in 0.." << kMaxMelodySteps << ", got " << steps;
  const int64_t old_length = static_cast<int64_t>(events.size());
  events.resize(static_cast<size_t>(steps), kNoEvent);
  end_step = start_step + steps;
  if (steps <= old_length) return;
  // Growing on the right ends a note still sounding at the old end.
  for (int64_t i = old_length - 1; i >= 0; --i) {
    if (events[i] == kNoteOff) break;
    if (events[i] != kNoEvent) {
      events[old_length] = kNoteOff;
      break;
    }
  }
}

void Melody::AddNote(int pitch, int64_t start, int64_t end) {
  if (start >= end) {
    throw BadNoteError("Start step does not precede end step: start=" + std::to_string(start) +
                       ", end=" + std::to_string(end));
  }
  MELODY_REQUIRE(start >= 0) << "note starts at negative melody step " << start;
  MELODY_REQUIRE(end < kMaxMelodySteps)
      << "note ends at melody step " << end << ", beyond the supported " << kMaxMelodySteps;
  SetLength(end + 1);
  events[start] = pitch;
  events[end] = kNoteOff;
  for (int64_t i = start + 1; i < end; ++i) events[i] = kNoEvent;
}

int64_t Melody::LastNoteOnIndex() const {
  for (int64_t i = static_cast<int64_t>(events.size()) - 1; i >= 0; --i) {
    if (events[i] >= 0) return i;
  }
  return -1;
}

Melody Melody::FromQuantizedSequence(const magenta::NoteSequence& quantized,
                                     const MelodyFromSequenceOptions& options) {
  const double steps_per_bar_float = StepsPerBar(quantized);
  if (std::fmod(steps_per_bar_float, 1.0) != 0.0) {
    int numerator = 4, denominator = 4;
    if (quantized.time_signatures_size() > 0) {
      numerator = quantized.time_signatures(0).numerator();
      denominator = quantized.time_signatures(0).denominator();
    }
    char message[160];
    std::snprintf(message, sizeof message,
                  "There are %f timesteps per bar. Time signature: %d/%d",
                  steps_per_bar_float, numerator, denominator);
    throw NonIntegerStepsPerBarError(message);
  }
  // A negative time signature numerator would make the bar arithmetic walk backwards
  // (the reference loops forever on it); reject it.
  MELODY_REQUIRE(steps_per_bar_float >= 1.0 && steps_per_bar_float < 2147483647.0)
      << "steps per bar out of range: " << steps_per_bar_float;
  Melody melody;
  melody.steps_per_bar = static_cast<int>(steps_per_bar_float);
  melody.steps_per_quarter = quantized.quantization_info().steps_per_quarter();
  const int64_t steps_per_bar = melody.steps_per_bar;

  // Candidates by start step, then pitch descending (so the highest of simultaneous
  // notes comes first).
  std::vector<const magenta::NoteSequence::Note*> notes;
  for (const auto& note : quantized.notes()) {
    if (note.instrument() == options.instrument &&
        note.quantized_start_step() >= options.search_start_step) {
      notes.push_back(&note);
    }
  }
  SortByStartThenPitchDown(&notes);
  if (notes.empty()) return melody;

  // The melody starts on the bar boundary (counted from search_start_step) at or before
  // the first candidate, even if that candidate is skipped below.
  const int64_t first_start = notes.front()->quantized_start_step();
  const int64_t melody_start =
      first_start - FloorMod(first_start - options.search_start_step, steps_per_bar);
  const double gap_steps = options.gap_bars * static_cast<double>(steps_per_bar);

  for (const auto* note : notes) {
    if (options.filter_drums && note->is_drum()) continue;
    if (note->velocity() == 0) continue;
    const int64_t start = note->quantized_start_step() - melody_start;
    const int64_t end = note->quantized_end_step() - melody_start;
    if (melody.events.empty()) {
      melody.AddNote(note->pitch(), start, end);
      continue;
    }
    const int64_t last_on = melody.LastNoteOnIndex();
    MELODY_REQUIRE(last_on >= 0) << "melody has events but no note-on";
    int64_t last_off = static_cast<int64_t>(melody.events.size());
    for (int64_t i = last_on + 1; i < static_cast<int64_t>(melody.events.size()); ++i) {
      if (melody.events[i] == kNoteOff) {
        last_off = i;
        break;
      }
    }
    const int64_t on_distance = start - last_on;
    const int64_t off_distance = start - last_off;
    if (on_distance == 0) {
      if (options.ignore_polyphonic_notes) continue;  // the higher pitch is already there
      throw PolyphonicMelodyError("two notes start on step " +
                                  std::to_string(note->quantized_start_step()) +
                                  " of instrument " + std::to_string(options.instrument));
    }
    if (on_distance < 0) {
      throw PolyphonicMelodyError("Unexpected note. Not in ascending order.");
    }
    // A whole gap of silence ends the melody before this note.
    if (static_cast<double>(off_distance) >= gap_steps) break;
    melody.AddNote(note->pitch(), start, end);
  }
  if (melody.events.empty()) return melody;

  melody.start_step = melody_start;
  // A melody never ends with a note-off; the last note is released at the end.
  if (melody.events.back() == kNoteOff) melody.events.pop_back();
  int64_t length = static_cast<int64_t>(melody.events.size());
  if (options.pad_end) length += FloorMod(-length, steps_per_bar);
  melody.SetLength(length);
  return melody;
}

}  // namespace melody
