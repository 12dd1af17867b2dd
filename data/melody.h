// Monophonic melody: one event per quantized step (shared/spec/encodings.md §1,
// data-pipeline.md §7.8).
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "music.pb.h"

namespace melody {

// Event values (-2 no event, -1 note off, 0..127 note on) are named in
// data/melody_squash.h (kMelodyNoEvent, kMelodyNoteOff).

class PolyphonicMelodyError : public Error {
 public:
  using Error::Error;
};
class NonIntegerStepsPerBarError : public Error {
 public:
  using Error::Error;
};
class BadNoteError : public Error {
 public:
  using Error::Error;
};

// Parameters of Melody::FromQuantizedSequence (the reference's argument names).
struct MelodyFromSequenceOptions {
  int64_t search_start_step = 0;
  int instrument = 0;
  double gap_bars = 1.0;
  bool ignore_polyphonic_notes = false;
  bool pad_end = false;
  bool filter_drums = true;
};

struct Melody {
  std::vector<int> events;
  int64_t start_step = 0;
  int64_t end_step = 0;  // start_step + events.size()
  int steps_per_bar = 16;
  int steps_per_quarter = 4;

  // From a plain event list (primers, the attention encoder): every event must be in
  // -2..127 (else melody::Error); note-offs before the first note-on become -2.
  static Melody FromEvents(std::vector<int> events, int64_t start_step = 0,
                           int steps_per_bar = 16, int steps_per_quarter = 4);

  // §7.8. Throws NonIntegerStepsPerBarError, PolyphonicMelodyError, BadNoteError, or
  // melody::Error when `quantized` is not relatively quantized.
  static Melody FromQuantizedSequence(const magenta::NoteSequence& quantized,
                                      const MelodyFromSequenceOptions& options);

  size_t size() const { return events.size(); }
  bool empty() const { return events.empty(); }

  // Grows with -2 (turning the event at the old end into a note-off when a note was
  // sounding there) or truncates at the end; keeps end_step = start_step + size().
  void SetLength(int64_t steps);

  // Appends a note: events[a] = pitch, events[b] = -1, -2 in between, after setting the
  // length to b + 1 (which may cut earlier events). Requires a < b (else BadNoteError).
  void AddNote(int pitch, int64_t start, int64_t end);

  // Index of the last note-on event, or -1 when there is none.
  int64_t LastNoteOnIndex() const;
};

}  // namespace melody
