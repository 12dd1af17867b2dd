// MelodyExtractor (shared/spec/data-pipeline.md §7.7): all monophonic melodies of a
// relatively quantized piece, instrument by instrument, with the reference's statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "data/melody.h"
#include "data/statistics.h"
#include "music.pb.h"

namespace melody {

// Defaults are the values melody_rnn_create_dataset uses (§7.2).
struct MelodyExtractorOptions {
  int64_t search_start_step = 0;
  int min_bars = 7;
  std::optional<int64_t> max_steps_truncate = 512;
  std::optional<int64_t> max_steps_discard;  // unused by the pipeline
  int min_unique_pitches = 5;
  double gap_bars = 1.0;
  bool ignore_polyphonic_notes = false;
  bool pad_end = false;
  bool filter_drums = true;
};

// The reference's extract_melodies. Statistics (unprefixed names) added to *stats:
// counters polyphonic_tracks_discarded, melodies_discarded_too_short,
// melodies_discarded_too_few_pitches, melodies_discarded_too_long, melodies_truncated
// (always present) and histogram melody_lengths_in_bars. Throws
// NonIntegerStepsPerBarError (before any statistic is written) and melody::Error for an
// unquantized input.
std::vector<Melody> ExtractMelodies(const magenta::NoteSequence& quantized,
                                    const MelodyExtractorOptions& options, Statistics* stats);

// The pipeline stage: ExtractMelodies, except that NonIntegerStepsPerBarError yields no
// melodies and only the counter non_integer_steps_per_bar = 1.
std::vector<Melody> MelodyExtractorStage(const magenta::NoteSequence& quantized,
                                         const MelodyExtractorOptions& options,
                                         Statistics* stats);

// Lower bounds of melody_lengths_in_bars for a min_bars value (without -inf):
// {0,1,10,20,30,40,50,100,200,500, min_bars/2 (floor), min_bars, min_bars+1, min_bars-1}.
std::vector<double> MelodyLengthHistogramBounds(int min_bars);

// The distinct instrument numbers of the notes in the order the reference visits them.
std::vector<int> InstrumentIterationOrder(const magenta::NoteSequence& sequence);

}  // namespace melody
