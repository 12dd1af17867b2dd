#include "data/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <vector>

namespace melody {
namespace {

using magenta::NoteSequence;

constexpr double kDefaultQpm = 120.0;
// Events at least this far (as a fraction of a step) past a step boundary round up.
constexpr double kQuantizeCutoff = 0.5;

[[noreturn]] void Fail(QuantizationErrorKind kind, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

void Fail(QuantizationErrorKind kind, const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  throw QuantizationError(kind, buffer);
}

// trunc(seconds * steps_per_second + (1 - cutoff)); the reference's int() of a double.
int64_t QuantizeToStep(double seconds, double steps_per_second) {
  const double steps = seconds * steps_per_second + (1.0 - kQuantizeCutoff);
  MELODY_REQUIRE(std::isfinite(steps) && std::fabs(steps) < 9.2e18)
      << "time " << seconds << " s cannot be quantized at " << steps_per_second
      << " steps per second";
  return static_cast<int64_t>(steps);  // rounds toward zero, as Python's int()
}

bool IsPowerOfTwo(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

template <typename Event>
std::vector<const Event*> SortedByTime(const google::protobuf::RepeatedPtrField<Event>& field) {
  std::vector<const Event*> sorted;
  for (const Event& event : field) {
    MELODY_REQUIRE(!std::isnan(event.time())) << "NoteSequence has an event with time NaN";
    sorted.push_back(&event);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Event* a, const Event* b) { return a->time() < b->time(); });
  return sorted;
}

void NormalizeTimeSignature(NoteSequence* qns) {
  if (qns->time_signatures_size() == 0) {
    auto* ts = qns->add_time_signatures();
    ts->set_numerator(4);
    ts->set_denominator(4);
    ts->set_time(0.0);
  } else {
    const auto sorted = SortedByTime(qns->time_signatures());
    const auto& first_in_time = *sorted.front();
    // An implicit 4/4 holds before the first time signature.
    if (first_in_time.time() != 0.0 &&
        !(first_in_time.numerator() == 4 && first_in_time.denominator() == 4)) {
      Fail(QuantizationErrorKind::kMultipleTimeSignature,
           "NoteSequence has an implicit change from initial 4/4 time signature to %d/%d "
           "at %.2f seconds.",
           first_in_time.numerator(), first_in_time.denominator(), first_in_time.time());
    }
    // Later signatures are compared with the first one in list order (not in time).
    const auto& first_listed = qns->time_signatures(0);
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i]->numerator() != first_listed.numerator() ||
          sorted[i]->denominator() != first_listed.denominator()) {
        Fail(QuantizationErrorKind::kMultipleTimeSignature,
             "NoteSequence has at least one time signature change from %d/%d to %d/%d at "
             "%.2f seconds.",
             first_listed.numerator(), first_listed.denominator(), sorted[i]->numerator(),
             sorted[i]->denominator(), sorted[i]->time());
      }
    }
    qns->mutable_time_signatures(0)->set_time(0.0);
    qns->mutable_time_signatures()->DeleteSubrange(1, qns->time_signatures_size() - 1);
  }
  const auto& ts = qns->time_signatures(0);
  if (!IsPowerOfTwo(ts.denominator())) {
    Fail(QuantizationErrorKind::kBadTimeSignature,
         "Denominator is not a power of 2. Time signature: %d/%d", ts.numerator(),
         ts.denominator());
  }
  if (ts.numerator() == 0) {
    Fail(QuantizationErrorKind::kBadTimeSignature, "Numerator is 0. Time signature: %d/%d",
         ts.numerator(), ts.denominator());
  }
}

void NormalizeTempo(NoteSequence* qns) {
  if (qns->tempos_size() == 0) {
    auto* tempo = qns->add_tempos();
    tempo->set_qpm(kDefaultQpm);
    tempo->set_time(0.0);
    return;
  }
  const auto sorted = SortedByTime(qns->tempos());
  const auto& first_in_time = *sorted.front();
  // An implicit 120 qpm holds before the first tempo.
  if (first_in_time.time() != 0.0 && first_in_time.qpm() != kDefaultQpm) {
    Fail(QuantizationErrorKind::kMultipleTempo,
         "NoteSequence has an implicit tempo change from initial %.1f qpm to %.1f qpm at "
         "%.2f seconds.",
         kDefaultQpm, first_in_time.qpm(), first_in_time.time());
  }
  const double first_qpm = qns->tempos(0).qpm();
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->qpm() != first_qpm) {
      Fail(QuantizationErrorKind::kMultipleTempo,
           "NoteSequence has at least one tempo change from %.1f qpm to %.1f qpm at %.2f "
           "seconds.",
           first_qpm, sorted[i]->qpm(), sorted[i]->time());
    }
  }
  qns->mutable_tempos(0)->set_time(0.0);
  qns->mutable_tempos()->DeleteSubrange(1, qns->tempos_size() - 1);
}

}  // namespace

const char* QuantizationErrorTypeName(QuantizationErrorKind kind) {
  switch (kind) {
    case QuantizationErrorKind::kMultipleTimeSignature:
      return "MultipleTimeSignatureError";
    case QuantizationErrorKind::kMultipleTempo:
      return "MultipleTempoError";
    case QuantizationErrorKind::kBadTimeSignature:
      return "BadTimeSignatureError";
    case QuantizationErrorKind::kNegativeTime:
      return "NegativeTimeError";
  }
  return "QuantizationError";
}

NoteSequence QuantizeNoteSequence(const NoteSequence& sequence, int steps_per_quarter) {
  NoteSequence qns = sequence;
  QuantizeNoteSequenceInPlace(&qns, steps_per_quarter);
  return qns;
}

void QuantizeNoteSequenceInPlace(NoteSequence* sequence, int steps_per_quarter) {
  NoteSequence& qns = *sequence;
  qns.mutable_quantization_info()->set_steps_per_quarter(steps_per_quarter);
  NormalizeTimeSignature(&qns);
  NormalizeTempo(&qns);

  const double steps_per_second = steps_per_quarter * qns.tempos(0).qpm() / 60.0;
  qns.set_total_quantized_steps(QuantizeToStep(qns.total_time(), steps_per_second));

  for (auto& note : *qns.mutable_notes()) {
    note.set_quantized_start_step(QuantizeToStep(note.start_time(), steps_per_second));
    note.set_quantized_end_step(QuantizeToStep(note.end_time(), steps_per_second));
    // A note never has zero length.
    if (note.quantized_end_step() == note.quantized_start_step()) {
      note.set_quantized_end_step(note.quantized_end_step() + 1);
    }
    if (note.quantized_start_step() < 0 || note.quantized_end_step() < 0) {
      Fail(QuantizationErrorKind::kNegativeTime,
           "Got negative note time: start_step = %lld, end_step = %lld",
           static_cast<long long>(note.quantized_start_step()),
           static_cast<long long>(note.quantized_end_step()));
    }
    if (note.quantized_end_step() > qns.total_quantized_steps()) {
      qns.set_total_quantized_steps(note.quantized_end_step());
    }
  }
  for (auto& cc : *qns.mutable_control_changes()) {
    cc.set_quantized_step(QuantizeToStep(cc.time(), steps_per_second));
    if (cc.quantized_step() < 0) {
      Fail(QuantizationErrorKind::kNegativeTime, "Got negative event time: step = %lld",
           static_cast<long long>(cc.quantized_step()));
    }
  }
  for (auto& annotation : *qns.mutable_text_annotations()) {
    annotation.set_quantized_step(QuantizeToStep(annotation.time(), steps_per_second));
    if (annotation.quantized_step() < 0) {
      Fail(QuantizationErrorKind::kNegativeTime, "Got negative event time: step = %lld",
           static_cast<long long>(annotation.quantized_step()));
    }
  }
}

bool IsRelativeQuantized(const NoteSequence& sequence) {
  return sequence.quantization_info().steps_per_quarter() > 0;
}

double StepsPerBar(const NoteSequence& quantized) {
  MELODY_REQUIRE(IsRelativeQuantized(quantized))
      << "NoteSequence " << quantized.id()
      << " is not quantized or is quantized based on absolute timing";
  int numerator = 4, denominator = 4;
  if (quantized.time_signatures_size() > 0) {
    numerator = quantized.time_signatures(0).numerator();
    denominator = quantized.time_signatures(0).denominator();
  }
  const double quarters_per_bar = (4.0 / denominator) * numerator;
  return quantized.quantization_info().steps_per_quarter() * quarters_per_bar;
}

std::optional<NoteSequence> QuantizeStage(const NoteSequence& sequence, int steps_per_quarter,
                                          Statistics* stats) {
  NoteSequence quantized = sequence;
  if (!QuantizeStageInPlace(&quantized, steps_per_quarter, stats)) return std::nullopt;
  return quantized;
}

bool QuantizeStageInPlace(NoteSequence* sequence, int steps_per_quarter, Statistics* stats) {
  try {
    QuantizeNoteSequenceInPlace(sequence, steps_per_quarter);
    return true;
  } catch (const QuantizationError& error) {
    switch (error.kind()) {
      case QuantizationErrorKind::kMultipleTimeSignature:
        stats->SetCounter("sequences_discarded_because_multiple_time_signatures", 1);
        return false;
      case QuantizationErrorKind::kMultipleTempo:
        stats->SetCounter("sequences_discarded_because_multiple_tempos", 1);
        return false;
      case QuantizationErrorKind::kBadTimeSignature:
        stats->SetCounter("sequences_discarded_because_bad_time_signature", 1);
        return false;
      case QuantizationErrorKind::kNegativeTime:
        throw;
    }
    throw;
  }
}

}  // namespace melody
