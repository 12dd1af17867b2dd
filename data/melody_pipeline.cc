#include "data/melody_pipeline.h"

#include <utility>
#include <vector>

#include <google/protobuf/arena.h>

#include "data/melody_squash.h"
#include "data/quantize.h"
#include "data/sequence_example_io.h"
#include "data/sequence_split.h"
#include "data/transposition.h"

namespace melody {

Statistics MelodyPipelineResult::NamedStatistics(const std::string& set_name) const {
  // Stage statistics are named "<Stage>_<set>_<stat>" by the stage instance, then
  // "DAGPipeline_..." by the graph (§7.10).
  Statistics named;
  named.Merge(stage_stats.quantizer.Prefixed("Quantizer_" + set_name));
  named.Merge(stage_stats.transposition.Prefixed("TranspositionPipeline_" + set_name));
  named.Merge(stage_stats.extractor.Prefixed("MelodyExtractor_" + set_name));
  return named.Prefixed("DAGPipeline");
}

MelodyPipeline::MelodyPipeline(MelodyConfig config)
    : config_(std::move(config)), encoder_(config_.MakeEncoder()) {
  // The extractor parameters of §7.2 (the option defaults).
  extractor_options_ = MelodyExtractorOptions();
}

MelodyPipelineResult MelodyPipeline::Run(const magenta::NoteSequence& sequence) const {
  MelodyPipelineResult result;
  // The pieces live in an arena whose first block is a per-thread buffer: each stage
  // works on its piece in place, so the notes are copied once (by the splitter), with no
  // heap allocation per note and nothing to free one by one.
  thread_local std::vector<char> first_block(1 << 20);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = first_block.data();
  arena_options.initial_block_size = first_block.size();
  google::protobuf::Arena arena(arena_options);

  // An input without length gives no pieces and, like the reference, no statistics.
  const std::vector<magenta::NoteSequence*> pieces = SplitOnTimeChanges(sequence, &arena);
  result.num_pieces = static_cast<int64_t>(pieces.size());
  for (magenta::NoteSequence* piece : pieces) {
    // Each stage call reports into a fresh object that is then summed, so counters a
    // stage sets (rather than increments) add up over the pieces.
    Statistics quantizer_stats;
    const bool quantized =
        QuantizeStageInPlace(piece, config_.steps_per_quarter, &quantizer_stats);
    result.stage_stats.quantizer.Merge(quantizer_stats);
    if (!quantized) continue;

    // The transposition range (0,): the piece itself, when its pitches are in range.
    Statistics transposition_stats;
    const bool in_range = TransposeStageInPlace(piece, 0, &transposition_stats);
    result.stage_stats.transposition.Merge(transposition_stats);
    if (!in_range) continue;

    Statistics extractor_stats;
    std::vector<Melody> melodies =
        MelodyExtractorStage(*piece, extractor_options_, &extractor_stats);
    result.stage_stats.extractor.Merge(extractor_stats);
    for (Melody& m : melodies) {
      SquashMelody(&m.events, config_.min_note, config_.max_note, config_.transpose_to_key);
      // One buffer per thread: melodies are encoded many at a time, and reusing it
      // avoids allocating and zeroing up to 250 KB of floats per melody.
      thread_local EncodedMelody encoded;
      encoder_->EncodeInto(m.events, &encoded);
      result.num_steps += static_cast<int64_t>(encoded.num_steps());
      result.examples.push_back(SerializeSequenceExample(encoded));
    }
  }
  return result;
}

}  // namespace melody
