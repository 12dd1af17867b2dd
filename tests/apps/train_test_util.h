// Small training sets and tensor comparisons shared by the training tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "core/tf_checkpoint.h"
#include "core/tfrecord.h"
#include "data/melody_config.h"
#include "data/melody_encoder.h"
#include "data/sequence_example_io.h"

namespace melody::testing {

// `count` melodies of 8..(8 + max_extra) events encoded with the config's encoder
// (deterministic pseudo-random pitches, holds and rests), written as a TFRecord of
// SequenceExamples at `path`. Returns the number of steps written.
// True when both maps hold the same names, dtypes, shapes and bytes; otherwise false with
// the first difference in *why (SameTensors below).


inline int64_t WriteTinyTrainingSet(const std::string& path, const std::string& config_id, int count,
                             int max_extra, uint32_t seed) {
  const MelodyConfig config = MelodyConfigById(config_id);
  auto encoder = config.MakeEncoder();
  uint32_t state = seed * 2654435761u + 1;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  std::vector<std::string> records;
  int64_t steps = 0;
  for (int i = 0; i < count; ++i) {
    const int n = 8 + static_cast<int>(next() % (max_extra + 1));
    std::vector<int> events;
    for (int t = 0; t < n; ++t) {
      const uint32_t r = next() % 10;
      if (r < 5) events.push_back(config.min_note + 12 + static_cast<int>(next() % 12));
      else if (r < 8) events.push_back(-2);  // hold
      else events.push_back(-1);             // rest
    }
    if (events[0] < 0) events[0] = config.min_note + 12;
    const EncodedMelody m = encoder->Encode(events);
    steps += static_cast<int64_t>(m.num_steps());
    records.push_back(SerializeSequenceExample(m));
  }
  WriteTFRecordFile(path, records);
  return steps;
}

inline bool SameTensors(const TensorMap& a, const TensorMap& b, std::string* why) {
  if (a.size() != b.size()) {
    *why = "different tensor counts " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return false;
  }
  for (const auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end()) {
      *why = "missing " + name;
      return false;
    }
    const Tensor& u = it->second;
    if (t.dtype() != u.dtype() || t.shape() != u.shape()) {
      *why = name + ": dtype or shape differs";
      return false;
    }
    if (std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()) != 0) {
      *why = name + ": values differ";
      return false;
    }
  }
  return true;
}

}  // namespace melody::testing
