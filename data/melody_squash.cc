#include "data/melody_squash.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace melody {
namespace {

int PositiveMod(int a, int m) { return ((a % m) + m) % m; }

}  // namespace

std::vector<int> CleanMelodyEvents(const std::vector<int>& events) {
  std::vector<int> cleaned = events;
  bool seen_note = false;
  for (size_t i = 0; i < cleaned.size(); ++i) {
    int e = cleaned[i];
    MELODY_REQUIRE(e >= kMelodyMinEvent && e <= kMelodyMaxEvent)
        << "melody event " << e << " at position " << i << " is outside -2..127";
    if (e >= 0) seen_note = true;
    if (!seen_note && e == kMelodyNoteOff) cleaned[i] = kMelodyNoEvent;
  }
  return cleaned;
}

PitchClassCounts NoteHistogram(const std::vector<int>& events) {
  PitchClassCounts h{};
  for (int e : events)
    if (e >= 0) ++h[e % 12];
  return h;
}

bool InMajorScale(int tonic, int pitch_class) {
  // Semitone offsets of the major scale: 0 2 4 5 7 9 11.
  static constexpr bool kMajor[12] = {true,  false, true,  false, true,  true,
                                      false, true,  false, true,  false, true};
  return kMajor[PositiveMod(pitch_class - tonic, 12)];
}

PitchClassCounts MajorKeyHistogram(const PitchClassCounts& note_histogram) {
  PitchClassCounts k{};
  for (int tonic = 0; tonic < 12; ++tonic)
    for (int p = 0; p < 12; ++p)
      if (InMajorScale(tonic, p)) k[tonic] += note_histogram[p];
  return k;
}

int MajorKey(const std::vector<int>& events) {
  PitchClassCounts k = MajorKeyHistogram(NoteHistogram(events));
  // max_element returns the first maximum: the lowest key index on ties.
  return static_cast<int>(std::max_element(k.begin(), k.end()) - k.begin());
}

int SquashMelody(std::vector<int>* events, int min_note, int max_note,
                 std::optional<int> transpose_to_key) {
  int amount = 0;
  if (transpose_to_key) {
    int lo = 128, hi = -1;
    for (int e : *events) {
      if (e < 0) continue;
      lo = std::min(lo, e);
      hi = std::max(hi, e);
    }
    if (hi < 0) return 0;  // no note-on events: nothing changes
    int key_diff = *transpose_to_key - MajorKey(*events);
    double center = (lo + hi) / 2.0;
    double target = (min_note + max_note - 1) / 2.0;
    double d = target - (center + key_diff);
    // Python's round(): ties to even, which nearbyint gives in the default rounding mode.
    amount = key_diff + 12 * static_cast<int>(std::nearbyint(d / 12.0));
  }
  for (int& e : *events) {
    if (e < 0) continue;
    int p = e + amount;
    if (p < min_note)
      p = min_note + PositiveMod(p - min_note, 12);
    else if (p >= max_note)
      p = max_note - 12 + PositiveMod(p - max_note, 12);
    e = p;
  }
  return amount;
}

}  // namespace melody
