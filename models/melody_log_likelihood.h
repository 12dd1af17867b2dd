// The log-likelihood of melodies under a model (shared/spec/generation.md §10): the sum over
// positions 1..n-1 of log p(label of event i | events before it), at temperature 1, from a
// zero start state. The melodies (or their encodings) are run as one batch; rows are
// right-padded, which cannot change earlier positions of a causal network.
#pragma once

#include <vector>

#include "core/context.h"
#include "data/melody_encoder.h"
#include "models/parameters.h"

namespace melody {

// Log-likelihoods of already encoded melodies (SequenceExample form: inputs of positions
// 0..n-2, labels of 1..n-1): Σ_t log softmax(inputs)[t][labels[t]] in double precision.
std::vector<double> EncodedLogLikelihoods(Context& ctx, const ModelLayout& layout,
                                          const Parameters& params,
                                          const std::vector<EncodedMelody>& melodies);

// Event lists as the model sees them (already squashed into the model's range).
std::vector<double> MelodyLogLikelihoods(Context& ctx, const ModelLayout& layout,
                                         const Parameters& params, const MelodyEncoder& encoder,
                                         const std::vector<std::vector<int>>& melodies);

}  // namespace melody
