// TranspositionPipeline with the transposition range (0,) used by melody_rnn_create_dataset
// (shared/spec/data-pipeline.md §7.6): the identity, with its statistics.
#pragma once

#include <vector>

#include "data/statistics.h"
#include "music.pb.h"

namespace melody {

// Returns the pieces for each amount in `amounts` (the pipeline uses {0}): a copy of
// `quantized` with every non-drum pitch shifted by the amount, or nothing for that amount
// when a shifted pitch leaves [min_pitch, max_pitch]. Counts transpositions_generated and
// skipped_due_to_range_exceeded in *stats (both always present).
std::vector<magenta::NoteSequence> TransposeStage(const magenta::NoteSequence& quantized,
                                                  const std::vector<int>& amounts,
                                                  Statistics* stats, int min_pitch = 0,
                                                  int max_pitch = 127);

// TransposeStage for the single amount `amount`, on `quantized` itself: true (with
// transpositions_generated 1) when every non-drum pitch fits and has been shifted; false
// (skipped_due_to_range_exceeded 1, *quantized unchanged) otherwise. With amount 0
// (the pipeline's range) it only checks the pitches.
bool TransposeStageInPlace(magenta::NoteSequence* quantized, int amount, Statistics* stats,
                           int min_pitch = 0, int max_pitch = 127);

}  // namespace melody
