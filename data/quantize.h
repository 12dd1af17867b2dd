// Quantizer (shared/spec/data-pipeline.md §7.5): relative quantization of a NoteSequence
// at a number of steps per quarter note.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "data/statistics.h"
#include "music.pb.h"

namespace melody {

enum class QuantizationErrorKind {
  kMultipleTimeSignature,
  kMultipleTempo,
  kBadTimeSignature,
  kNegativeTime,
};

// The reference's exception class name for a kind, e.g. "MultipleTempoError".
const char* QuantizationErrorTypeName(QuantizationErrorKind kind);

class QuantizationError : public Error {
 public:
  QuantizationError(QuantizationErrorKind kind, const std::string& message)
      : Error(message), kind_(kind) {}
  QuantizationErrorKind kind() const { return kind_; }

 private:
  QuantizationErrorKind kind_;
};

// A quantized copy of `sequence` (quantization_info, total_quantized_steps, note steps,
// control change / text annotation steps; single time signature and tempo at time 0).
// Throws QuantizationError.
magenta::NoteSequence QuantizeNoteSequence(const magenta::NoteSequence& sequence,
                                           int steps_per_quarter);

// QuantizeNoteSequence on `sequence` itself (no copy). After a throw *sequence is partly
// changed and should be dropped.
void QuantizeNoteSequenceInPlace(magenta::NoteSequence* sequence, int steps_per_quarter);

// True when quantization_info.steps_per_quarter is set (a relatively quantized sequence).
bool IsRelativeQuantized(const magenta::NoteSequence& sequence);

// q * (4.0 / denominator) * numerator of the (single) time signature, 4/4 when none.
// May be non-integer. Throws melody::Error when `quantized` is not relatively quantized.
double StepsPerBar(const magenta::NoteSequence& quantized);

// The pipeline's Quantizer stage: the quantized piece, or nullopt after setting the
// counter sequences_discarded_because_{multiple_time_signatures, multiple_tempos,
// bad_time_signature} = 1 in *stats. NegativeTime errors propagate (the reference does
// not catch them either).
std::optional<magenta::NoteSequence> QuantizeStage(const magenta::NoteSequence& sequence,
                                                   int steps_per_quarter, Statistics* stats);

// QuantizeStage on `sequence` itself: true when it is now the quantized piece, false
// (counter set, *sequence partly changed and to be dropped) when the stage discards it.
bool QuantizeStageInPlace(magenta::NoteSequence* sequence, int steps_per_quarter,
                          Statistics* stats);

}  // namespace melody
