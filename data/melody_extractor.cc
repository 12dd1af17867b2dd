#include "data/melody_extractor.h"

#include <array>
#include <cmath>

#include "data/python_set_order.h"
#include "data/quantize.h"

namespace melody {
namespace {

// Python's `a % b` (result has the sign of b).
int64_t FloorMod(int64_t a, int64_t b) {
  MELODY_REQUIRE(b != 0) << "modulo by zero steps per bar";
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Python's `a // b`.
int64_t FloorDiv(int64_t a, int64_t b) { return (a - FloorMod(a, b)) / b; }

int DistinctPitchClasses(const std::vector<int>& events) {
  std::array<bool, 12> seen{};
  for (int event : events) {
    if (event >= 0) seen[event % 12] = true;
  }
  int count = 0;
  for (bool s : seen) count += s ? 1 : 0;
  return count;
}

}  // namespace

std::vector<double> MelodyLengthHistogramBounds(int min_bars) {
  const int64_t half = FloorDiv(min_bars, 2);
  return {0, 1, 10, 20, 30, 40, 50, 100, 200, 500, static_cast<double>(half),
          static_cast<double>(min_bars), static_cast<double>(int64_t{min_bars} + 1),
          static_cast<double>(int64_t{min_bars} - 1)};
}

std::vector<int> InstrumentIterationOrder(const magenta::NoteSequence& sequence) {
  std::vector<int64_t> inserted;
  inserted.reserve(sequence.notes_size());
  for (const auto& note : sequence.notes()) inserted.push_back(note.instrument());
  std::vector<int> order;
  for (int64_t instrument : PythonSetIterationOrder(inserted)) {
    order.push_back(static_cast<int>(instrument));
  }
  return order;
}

std::vector<Melody> ExtractMelodies(const magenta::NoteSequence& quantized,
                                    const MelodyExtractorOptions& options,
                                    Statistics* stats) {
  MELODY_REQUIRE(IsRelativeQuantized(quantized))
      << "NoteSequence " << quantized.id()
      << " is not quantized or is quantized based on absolute timing";
  // Statistics go to a local object first so that a NonIntegerStepsPerBarError leaves
  // *stats untouched.
  Statistics local;
  for (const char* name : {"polyphonic_tracks_discarded", "melodies_discarded_too_short",
                           "melodies_discarded_too_few_pitches",
                           "melodies_discarded_too_long", "melodies_truncated"}) {
    local.Increment(name, 0);
  }
  local.DeclareHistogram("melody_lengths_in_bars",
                         MelodyLengthHistogramBounds(options.min_bars));

  const double steps_per_bar_float = StepsPerBar(quantized);
  MELODY_REQUIRE(std::fabs(steps_per_bar_float) < 2147483647.0)
      << "steps per bar out of range: " << steps_per_bar_float;
  const int64_t steps_per_bar = static_cast<int64_t>(steps_per_bar_float);  // truncated

  std::vector<Melody> melodies;
  for (int instrument : InstrumentIterationOrder(quantized)) {
    MelodyFromSequenceOptions from_options;
    from_options.search_start_step = options.search_start_step;
    from_options.instrument = instrument;
    from_options.gap_bars = options.gap_bars;
    from_options.ignore_polyphonic_notes = options.ignore_polyphonic_notes;
    from_options.pad_end = options.pad_end;
    from_options.filter_drums = options.filter_drums;
    while (true) {
      Melody melody;
      try {
        melody = Melody::FromQuantizedSequence(quantized, from_options);
      } catch (const PolyphonicMelodyError&) {
        local.Increment("polyphonic_tracks_discarded");
        break;
      }
      // Continue at the next bar boundary (counted from search_start_step) at or after
      // the end of this melody, before any truncation.
      from_options.search_start_step =
          melody.end_step + FloorMod(options.search_start_step - melody.end_step,
                                     steps_per_bar);
      if (melody.empty()) break;

      const int64_t length = static_cast<int64_t>(melody.size());
      if (length < int64_t{melody.steps_per_bar} * options.min_bars) {
        local.Increment("melodies_discarded_too_short");
        continue;
      }
      if (options.max_steps_discard && length > *options.max_steps_discard) {
        local.Increment("melodies_discarded_too_long");
        continue;
      }
      if (options.max_steps_truncate && length > *options.max_steps_truncate) {
        int64_t truncated_length = *options.max_steps_truncate;
        if (options.pad_end) {
          truncated_length -= FloorMod(*options.max_steps_truncate, melody.steps_per_bar);
        }
        melody.SetLength(truncated_length);
        local.Increment("melodies_truncated");
      }
      if (DistinctPitchClasses(melody.events) < options.min_unique_pitches) {
        local.Increment("melodies_discarded_too_few_pitches");
        continue;
      }
      local.AddHistogramValue(
          "melody_lengths_in_bars",
          static_cast<double>(FloorDiv(static_cast<int64_t>(melody.size()),
                                       melody.steps_per_bar)));
      melodies.push_back(std::move(melody));
    }
  }
  stats->Merge(local);
  return melodies;
}

std::vector<Melody> MelodyExtractorStage(const magenta::NoteSequence& quantized,
                                         const MelodyExtractorOptions& options,
                                         Statistics* stats) {
  try {
    return ExtractMelodies(quantized, options, stats);
  } catch (const NonIntegerStepsPerBarError&) {
    stats->SetCounter("non_integer_steps_per_bar", 1);
    return {};
  }
}

}  // namespace melody
