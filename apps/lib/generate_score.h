// melody_rnn_generate --score=FILE: the log-likelihood of every melody in a MIDI file (a
// directory of them) or a SequenceExample TFRecord under the loaded model, one line each,
// so that users can rank generated outputs (shared/spec/generation.md §10).
#pragma once

#include <string>
#include <vector>

#include "apps/lib/generate_model.h"
#include "core/context.h"

namespace melody {

struct ScoredMelody {
  std::string file;
  int index = 0;       // melody number within the file (0-based)
  int64_t events = 0;  // events (MIDI) or encoded steps + 1 (SequenceExample)
  double log_likelihood = 0;
};

// MIDI melodies are taken as a primer is (one per non-drum instrument, the whole track,
// highest note of simultaneous ones) and squashed into the model's range; SequenceExamples
// are scored as encoded. Errors name the file.
std::vector<ScoredMelody> ScoreMelodies(Context& ctx, const GeneratorModel& model,
                                        const std::string& path);

// ScoreMelodies, printed as "<file>\t<index>\t<events>\t<log_likelihood>" lines on stdout.
void PrintLogLikelihoods(Context& ctx, const GeneratorModel& model, const std::string& path);

}  // namespace melody
