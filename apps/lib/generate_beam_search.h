// Batched event generation with beam search (shared/spec/generation.md §6-§7): every
// output's beam entries and branches are rows of one batch that advances through the
// network one step at a time, carrying the recurrent state (and the attention window)
// forward; each primer is fed once and its final state copied to its rows; pruning
// gathers the surviving rows' states.
//
// Random numbers come from Philox keyed by (seed, output, step, row slot), so the result
// depends only on the seed, never on batching or thread counts.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/context.h"
#include "data/melody_encoder.h"
#include "models/parameters.h"

namespace melody {

struct BeamSearchOptions {
  float temperature = 1.0f;
  int beam_size = 1;
  int branch_factor = 1;
  int steps_per_iteration = 1;
  uint64_t seed = 0;
};

// One output to generate: `new_events` events after the (squashed) primer events.
struct GenerationJob {
  std::vector<int> primer;
  int64_t new_events = 0;
  uint64_t output_index = 0;  // keys the random numbers (unique per output of a run)
};

struct GeneratedEvents {
  std::vector<int> events;  // primer + generated
  float log_likelihood = 0; // the reference's beam score (float32)
};

// Called after every batched step with (steps done, rows in the batch).
using GenerationProgress = std::function<void(int64_t step, int64_t rows)>;

// Runs all jobs together. Throws melody::Error for bad options (temperature <= 0, sizes < 1),
// an empty primer or a job without events to generate.
std::vector<GeneratedEvents> GenerateWithBeamSearch(Context& ctx, const ModelLayout& layout,
                                                    const Parameters& params,
                                                    const MelodyEncoder& encoder,
                                                    const std::vector<GenerationJob>& jobs,
                                                    const BeamSearchOptions& options,
                                                    const GenerationProgress& progress = {});

// Inverse-CDF sampling as numpy's random.choice (§6.4): the smallest i with cdf[i] > u,
// cdf the running double sums of p divided by the total. Throws when p has a NaN or does not
// sum to 1 within sqrt(float32 epsilon).
int SampleFromDistribution(const float* p, int n, double u);

// A uniform double in [0, 1) with 53 random bits from Philox (seed; a, b, c).
double PhiloxUniformDouble(uint64_t seed, uint32_t a, uint32_t b, uint32_t c);

}  // namespace melody
