// TimeChangeSplitter: cuts an unquantized NoteSequence at every real time-signature or
// tempo change (shared/spec/data-pipeline.md §7.4), byte-exact with the reference.
#pragma once

#include <vector>

#include <google/protobuf/arena.h>

#include "music.pb.h"

namespace melody {

// The pieces [s_i, s_{i+1}) in time order. Empty when the sequence has no length
// (total_time 0). Throws melody::Error for a quantized input.
std::vector<magenta::NoteSequence> SplitOnTimeChanges(const magenta::NoteSequence& sequence);

// The same pieces, allocated on `arena` (which owns them and must outlive their use):
// the pipeline's form, without a heap allocation per note.
std::vector<magenta::NoteSequence*> SplitOnTimeChanges(const magenta::NoteSequence& sequence,
                                                       google::protobuf::Arena* arena);

// The general cut used by SplitOnTimeChanges: one piece per consecutive pair of
// `split_times` (ascending, at least one value), with the note / state-event / pedal
// carry-over rules of §7.4 and subsequence_info filled in.
std::vector<magenta::NoteSequence> ExtractSubsequences(const magenta::NoteSequence& sequence,
                                                       const std::vector<double>& split_times);

}  // namespace melody
