// Pitch-class statistics of melody event lists and the "squash" that moves a melody into
// a config's note range (shared/spec/encodings.md §1-§3).
//
// Events: -2 = no event, -1 = note off, 0..127 = note on of that pitch.
#pragma once

#include <array>
#include <optional>
#include <vector>

namespace melody {

constexpr int kMelodyNoEvent = -2;
constexpr int kMelodyNoteOff = -1;
constexpr int kMelodyMinEvent = -2;
constexpr int kMelodyMaxEvent = 127;

using PitchClassCounts = std::array<int, 12>;

// Throws melody::Error if any event is outside -2..127; returns the list with leading
// note-offs (before the first note on) replaced by no-events (encodings.md §1).
std::vector<int> CleanMelodyEvents(const std::vector<int>& events);

// h[p mod 12] += 1 for every note-on event p.
PitchClassCounts NoteHistogram(const std::vector<int>& events);

// k[j] = sum of h[p] over the pitch classes p of the major scale with tonic j.
PitchClassCounts MajorKeyHistogram(const PitchClassCounts& note_histogram);

// Whether pitch class p belongs to the major scale of tonic j.
bool InMajorScale(int tonic, int pitch_class);

// argmax of the major-key histogram, lowest index on ties (0 for a melody with no notes).
int MajorKey(const std::vector<int>& events);

// Transposes the melody in place as the reference's squash does and returns the amount:
// towards the center of [min_note, max_note) and to `transpose_to_key` (none: amount 0),
// then folds every note into [min_note, max_note) by octaves.
int SquashMelody(std::vector<int>* events, int min_note, int max_note,
                 std::optional<int> transpose_to_key);

}  // namespace melody
