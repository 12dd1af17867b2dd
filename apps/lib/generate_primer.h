// From melody_rnn_generate's primer flags to the melody the network continues
// (shared/spec/generation.md §3.3-§3.4, §4, §8.1): the --primer_melody literal, a primer
// MIDI file, the timing arithmetic that fixes the first and last generated steps, melody
// extraction from the primer, and melody -> NoteSequence for the output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/melody.h"
#include "music.pb.h"

namespace melody {

// The reference's "Priming sequence is longer than the total number of steps requested"
// (a FATAL log and exit 0 there; an error here).
class PrimerTooLongError : public Error {
 public:
  using Error::Error;
};

// A Python-literal list (or tuple) of ints, e.g. "[60, -2, 60, -2]"; every value in
// -2..127. Errors name the flag: "--primer_melody: ...".
std::vector<int> ParsePrimerMelodyText(const std::string& text);

// Melody.to_sequence (generation.md §8.1): notes at velocity 100, instrument 0, program 0,
// one tempo at time 0, 220 ticks per quarter, total_time = the last note's end.
magenta::NoteSequence MelodyToNoteSequence(const Melody& melody, double qpm);

// A primer as the CLI builds it, before generation settings are applied.
struct PrimerInput {
  magenta::NoteSequence sequence;
  double qpm = 120.0;  // the output tempo (a primer MIDI file's first tempo wins)
  std::string name;    // for output file names: "" for --primer_melody / the default
};

// --primer_melody: the events (leading note-offs become no-events) at `qpm`.
PrimerInput PrimerFromEvents(const std::vector<int>& events, double qpm);
// --primer_midi: the file read with our MIDI reader; its first non-zero tempo replaces
// `qpm`. Errors name the file.
PrimerInput PrimerFromMidiFile(const std::string& path, double qpm);

// What the generator does with one primer (generation.md §3.4, §4).
struct GenerationPlan {
  Melody primer;            // extracted, padded to the first generated step
  int64_t total_steps = 0;  // events of the output = end_step - primer.start_step
  double qpm = 120.0;       // tempo of the output sequence
  // The number of events to generate (total_steps - primer.size()).
  int64_t new_events() const { return total_steps - static_cast<int64_t>(primer.size()); }
};

// Throws PrimerTooLongError when the primer ends at or after step num_steps (seconds
// comparison, as the reference), melody::Error naming `what` when the primer has notes in
// more than one instrument (the reference's assertion) or cannot be quantized, and the
// reference's "primer sequence must be shorter than `num_steps`" when step rounding leaves
// nothing to generate.
GenerationPlan PlanGeneration(const PrimerInput& primer, int64_t num_steps,
                              const std::string& what);

}  // namespace melody
