// The melody_rnn_create_dataset graph for one input NoteSequence and one output set
// (shared/spec/data-pipeline.md §7.2-§7.10): split on time changes -> quantize ->
// transposition (0,) -> extract melodies -> squash + encode -> serialized SequenceExamples.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/melody_config.h"
#include "data/melody_extractor.h"
#include "data/statistics.h"
#include "music.pb.h"

namespace melody {

// Statistics of one stage for one input, with the stage's unprefixed names.
struct StageStatistics {
  Statistics quantizer;      // sequences_discarded_because_*
  Statistics transposition;  // transpositions_generated, skipped_due_to_range_exceeded
  Statistics extractor;      // polyphonic_tracks_discarded, melodies_*, melody_lengths_in_bars
};

struct MelodyPipelineResult {
  std::vector<std::string> examples;  // serialized SequenceExamples, in output order
  int64_t num_steps = 0;              // sum of the examples' step counts
  int64_t num_pieces = 0;             // time-change pieces of the input
  StageStatistics stage_stats;

  // The statistics as the reference names them, e.g.
  // DAGPipeline_MelodyExtractor_training_melodies_truncated (set_name "training"). The
  // partition counter (DAGPipeline_RandomPartition_<set>_melodies_count) is the driver's.
  Statistics NamedStatistics(const std::string& set_name) const;
};

// Runs the graph on one NoteSequence with the pipeline's fixed parameters (§7.2) and the
// config's steps per quarter, note range and transposition key. Throws melody::Error for
// what the reference would not catch either (a NegativeTimeError, a bad note).
class MelodyPipeline {
 public:
  explicit MelodyPipeline(MelodyConfig config);
  MelodyPipelineResult Run(const magenta::NoteSequence& sequence) const;
  const MelodyConfig& config() const { return config_; }
  const MelodyEncoder& encoder() const { return *encoder_; }

 private:
  MelodyConfig config_;
  std::unique_ptr<MelodyEncoder> encoder_;
  MelodyExtractorOptions extractor_options_;
};

}  // namespace melody
