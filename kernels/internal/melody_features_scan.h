// The per-position and per-sequence feature loops of kernels/melody_features.h, written
// once as __host__ __device__ functions so that the CPU path and the CUDA kernels run the
// same code (shared/spec/encodings.md §6, §7; data/melody_encoder.cc and
// data/key_melody_encoder.cc are the reference encoders).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MELODY_FEATURES_FN __host__ __device__ inline
#else
#define MELODY_FEATURES_FN inline
#endif

namespace melody::melody_features {

constexpr int kNoEvent = -2;
constexpr int kNoteOff = -1;
constexpr int kLookbackCounterBits = 5;
constexpr int kKeyCounterBits = 7;
// Bit d set when a pitch d semitones above the tonic is in its major scale (0 2 4 5 7 9 11).
constexpr int kMajorScaleMask = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 7) |
                                (1 << 9) | (1 << 11);

// Lookback distance k in steps: one and two 16-step bars, whatever the time signature.
MELODY_FEATURES_FN int Lookback(int k) { return k == 0 ? 16 : 32; }

MELODY_FEATURES_FN bool InMajorScale(int tonic, int pitch) {
  return (kMajorScaleMask >> (((pitch - tonic) % 12 + 12) % 12)) & 1;
}

// One-hot class over [min_note, max_note): 0 no event, 1 note off, 2 + p - min; -1 invalid.
MELODY_FEATURES_FN int OneHotClass(int e, int min_note, int max_note) {
  if (e == kNoEvent) return 0;
  if (e == kNoteOff) return 1;
  if (e >= min_note && e < max_note) return e - min_note + 2;
  return -1;
}

MELODY_FEATURES_FN bool RepeatsAt(const int32_t* ev, int i, int distance) {
  return i >= distance && ev[i] == ev[i - distance];
}

// Lookback input of position i (encodings.md §6) into row[0 .. 3n + 7), n = classes.
// Returns false when an event cannot be encoded.
MELODY_FEATURES_FN bool LookbackRow(const int32_t* ev, int i, int min_note, int max_note,
                                    float* row) {
  const int n = max_note - min_note + 2;
  for (int k = 0; k < 3 * n + kLookbackCounterBits + 2; ++k) row[k] = 0.0f;
  const int cls = OneHotClass(ev[i], min_note, max_note);
  if (cls < 0) return false;
  row[cls] = 1.0f;
  for (int k = 0; k < 2; ++k) {
    // The event that followed the one a lookback distance ago ("repeat the bar").
    const int source = i - Lookback(k) + 1;
    const int c = source >= 0 ? OneHotClass(ev[source], min_note, max_note) : 0;
    if (c < 0) return false;
    row[n * (k + 1) + c] = 1.0f;
  }
  float* counter = row + 3 * n;
  for (int b = 0; b < kLookbackCounterBits; ++b) counter[b] = ((i + 1) >> b) & 1 ? 1.0f : -1.0f;
  for (int k = 0; k < 2; ++k)
    counter[kLookbackCounterBits + k] = RepeatsAt(ev, i, Lookback(k)) ? 1.0f : 0.0f;
  return true;
}

// The running state of the key-melody prefix scan (encodings.md §7).
struct KeyMelodyScan {
  bool seen_note = false;
  int current = -1;  // sounding pitch, -1 none
  bool attack = false;
  int ascending = 0;  // +1 ascending, -1 descending, 0 unknown
  int last3[3] = {0, 0, 0};
  int last3_count = 0;
  int key_histogram[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

  // Returns false for an event outside -2..127.
  MELODY_FEATURES_FN bool Advance(int e) {
    if (e < kNoEvent || e > 127) return false;
    if (e == kNoEvent || (e == kNoteOff && !seen_note)) {
      attack = false;  // a note off before any note on counts as no event
    } else if (e == kNoteOff) {
      current = -1;  // the attack flag stays as it was
    } else {
      seen_note = true;
      attack = true;
      current = e;
      if (last3_count > 0) {
        const int newest = last3[last3_count - 1];
        if (e > newest) ascending = 1;
        if (e < newest) ascending = -1;
      }
      int kept = 0;  // remove e if present, keeping the order
      for (int k = 0; k < last3_count; ++k)
        if (last3[k] != e) last3[kept++] = last3[k];
      last3_count = kept;
      if (last3_count == 3) {
        last3[0] = last3[1];
        last3[1] = last3[2];
        last3_count = 2;
      }
      last3[last3_count++] = e;
      for (int tonic = 0; tonic < 12; ++tonic)
        if (InMajorScale(tonic, e)) ++key_histogram[tonic];
    }
    return true;
  }
};

// 1.0 at every key whose histogram value equals the maximum.
MELODY_FEATURES_FN void WriteMaxKeys(const int* k, float* out) {
  int top = k[0];
  for (int j = 1; j < 12; ++j) top = k[j] > top ? k[j] : top;
  for (int j = 0; j < 12; ++j) out[j] = k[j] == top ? 1.0f : 0.0f;
}

// Key-melody input of position i given the scan over events[0..i] into
// row[0 .. R + 38), R = max_note - min_note. Returns false when the sounding pitch is
// outside the note range.
MELODY_FEATURES_FN bool KeyMelodyRow(const int32_t* ev, int i, const KeyMelodyScan& scan,
                                     int min_note, int max_note, float* row) {
  const int range = max_note - min_note;
  for (int k = 0; k < range + 38; ++k) row[k] = 0.0f;
  const bool sounds = scan.current > 0;  // pitch 0 counts as silence, as in the reference
  if (sounds) {
    if (scan.current < min_note || scan.current >= max_note) return false;
    row[scan.current - min_note] = 1.0f;
  }
  float* out = row + range;
  out[0] = sounds ? 1.0f : 0.0f;
  out[1] = sounds ? 0.0f : 1.0f;
  out[2] = scan.attack ? 1.0f : 0.0f;
  out[3] = static_cast<float>(scan.ascending);
  out[4] = RepeatsAt(ev, i, 16) ? 1.0f : 0.0f;
  out[5] = RepeatsAt(ev, i, 32) ? 1.0f : 0.0f;
  out += 6;
  for (int b = 0; b < kKeyCounterBits; ++b) out[b] = ((i + 1) >> b) & 1 ? 1.0f : -1.0f;
  out += kKeyCounterBits;
  out[0] = (i + 1) % 16 == 0 ? 1.0f : 0.0f;  // the next step starts a 16-step bar
  out += 1;
  WriteMaxKeys(scan.key_histogram, out);
  int last3_keys[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int n = 0; n < scan.last3_count; ++n)
    for (int tonic = 0; tonic < 12; ++tonic)
      if (InMajorScale(tonic, scan.last3[n])) ++last3_keys[tonic];
  WriteMaxKeys(last3_keys, out + 12);
  return true;
}

// All rows of one sequence: features [T, F]; rows >= len zero. Returns the first position
// whose event cannot be encoded, or -1.
MELODY_FEATURES_FN int KeyMelodySequence(const int32_t* ev, int len, int T, int min_note,
                                         int max_note, float* features) {
  const int width = max_note - min_note + 38;
  KeyMelodyScan scan;
  for (int i = 0; i < len; ++i) {
    if (!scan.Advance(ev[i])) return i;
    if (!KeyMelodyRow(ev, i, scan, min_note, max_note, features + i * width)) return i;
  }
  for (int k = len * width; k < T * width; ++k) features[k] = 0.0f;
  return -1;
}

}  // namespace melody::melody_features
