#include "data/transposition.h"

namespace melody {

std::vector<magenta::NoteSequence> TransposeStage(const magenta::NoteSequence& quantized,
                                                  const std::vector<int>& amounts,
                                                  Statistics* stats, int min_pitch,
                                                  int max_pitch) {
  stats->Increment("skipped_due_to_range_exceeded", 0);
  std::vector<magenta::NoteSequence> transposed;
  for (int amount : amounts) {
    // Checked even for amount 0, so that out-of-range input pitches are rejected too.
    magenta::NoteSequence copy = quantized;
    bool in_range = true;
    for (auto& note : *copy.mutable_notes()) {
      if (note.is_drum()) continue;
      const int64_t pitch = int64_t{note.pitch()} + amount;
      if (pitch < min_pitch || pitch > max_pitch) {
        stats->Increment("skipped_due_to_range_exceeded");
        in_range = false;
        break;
      }
      note.set_pitch(static_cast<int>(pitch));
    }
    if (in_range) transposed.push_back(std::move(copy));
  }
  stats->Increment("transpositions_generated", static_cast<int64_t>(transposed.size()));
  return transposed;
}

bool TransposeStageInPlace(magenta::NoteSequence* quantized, int amount, Statistics* stats,
                           int min_pitch, int max_pitch) {
  bool in_range = true;
  for (const auto& note : quantized->notes()) {
    if (note.is_drum()) continue;
    const int64_t pitch = int64_t{note.pitch()} + amount;
    if (pitch < min_pitch || pitch > max_pitch) {
      in_range = false;
      break;
    }
  }
  // The same counters as TransposeStage with one amount.
  stats->Increment("skipped_due_to_range_exceeded", in_range ? 0 : 1);
  stats->Increment("transpositions_generated", in_range ? 1 : 0);
  if (!in_range || amount == 0) return in_range;
  for (auto& note : *quantized->mutable_notes()) {
    if (!note.is_drum()) note.set_pitch(note.pitch() + amount);
  }
  return true;
}

}  // namespace melody
