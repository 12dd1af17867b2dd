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

}  // namespace melody
