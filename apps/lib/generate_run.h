// melody_rnn_generate as a library (shared/spec/generation.md §1, §3, §5, §8): primers from
// the flags (one melody, one MIDI file, or a directory / glob of MIDI files), the plans,
// the squash into the model's range and back, one batched beam search for every output of
// every primer, and the MIDI files with the reference's names and log lines.
#pragma once

#include <string>
#include <vector>

#include "apps/lib/generate_flags.h"
#include "apps/lib/generate_model.h"
#include "apps/lib/generate_primer.h"
#include "core/context.h"

namespace melody {

// The primers the flags name, in order; a directory or glob gives every .mid/.midi file it
// matches, sorted byte-wise. Errors name the flag and the file.
std::vector<PrimerInput> CollectPrimers(const GenerateFlags& flags);

// "<stamp>_<i>.mid" (i zero-padded to the digits of num_outputs); with several primers
// "<stamp>_<primer file stem>_<i>.mid".
std::string OutputFileName(const std::string& stamp, const std::string& primer_stem,
                           int64_t index, int64_t num_outputs);

struct GenerateReport {
  std::vector<std::string> files;
  std::vector<float> log_likelihoods;  // per file
  double generation_seconds = 0;       // the batched beam search alone
  int64_t melodies = 0;
};

// Generates and writes every output. `stamp` is the local-time file name prefix.
GenerateReport GenerateMidiFiles(Context& ctx, const GeneratorModel& model,
                                 const std::vector<PrimerInput>& primers,
                                 const GenerateFlags& flags, const std::string& stamp);

// The local time as "%Y-%m-%d_%H%M%S".
std::string LocalTimeStamp();

// The whole tool after flag parsing: checks, model, then bundle / score / generate.
// Throws melody::Error.
void RunGenerateTool(const GenerateFlags& flags);

}  // namespace melody
