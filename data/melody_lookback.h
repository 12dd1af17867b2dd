// Pieces shared by the lookback and key-melody encoders (shared/spec/encodings.md §6-§7):
// the fixed lookback distances and the binary step counter.
#pragma once

#include <cstddef>
#include <vector>

#include "data/melody_squash.h"

namespace melody::lookback {

// Lookback distances in steps (one and two 16-step bars), whatever the time signature.
constexpr int kDistances[2] = {16, 32};
constexpr int kNumDistances = 2;
constexpr int kLongest = 32;

// Whether events[i] repeats the event `distance` steps earlier.
inline bool RepeatsAt(const std::vector<int>& events, size_t i, int distance) {
  return i >= static_cast<size_t>(distance) && events[i] == events[i - distance];
}

// Event appended for "repeat the event `distance` steps back"; no event when too short.
inline int RepeatedEvent(const std::vector<int>& events, int distance) {
  return events.size() >= static_cast<size_t>(distance) ? events[events.size() - distance]
                                                         : kMelodyNoEvent;
}

// Bits 0..num_bits-1 of n as +1 (set) / -1 (clear).
inline void WriteCounterBits(size_t n, int num_bits, float* out) {
  for (int b = 0; b < num_bits; ++b) out[b] = ((n >> b) & 1) ? 1.0f : -1.0f;
}

}  // namespace melody::lookback
