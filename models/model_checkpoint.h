// Melody RNN variables <-> checkpoint tensors: legacy TF 1.0 names mapped to today's
// (shared/spec/formats.md §8.4, model.md §3.5), the model shape implied by a checkpoint's
// tensors (formats.md §6 "Hyper-parameters are not stored"), loading/saving Parameters
// under their TF names (model.md §3.1-3.2), and the whole state of a training checkpoint:
// weights, Adam slots, beta powers and global_step (model.md §3.4, training.md §4.4, §5).
#pragma once

#include <cstdint>
#include <string>

#include "core/tf_checkpoint.h"
#include "models/parameters.h"

namespace melody {

// The current (TF >= 1.2) name for a legacy one (formats.md §8.4 TF 1.0 names
// RNN/MultiRNNCell/Cell<k>/BasicLSTMCell/Linear/{Matrix,Bias} and their /Adam, /Adam_1
// slots); other names unchanged.
std::string CanonicalVariableName(const std::string& name);
// Renames legacy names, converts an int32 global_step to int64. Throws if two names map to one.
TensorMap CanonicalizeCheckpointTensors(TensorMap tensors);

// ModelShape implied by the tensors (formats.md §6 "Hyper-parameters are not stored"):
// layer sizes from LSTM biases, classes from fully_connected/biases, input size, attention
// presence (attn_length = attn_length_if_attention when attention variables exist, else 0),
// residual_connections from input_projection_wrapper names. Throws naming what is missing.
// Legacy names are accepted (canonicalized first).
ModelShape InferModelShape(const TensorMap& tensors, int attn_length_if_attention);

// Copies every variable of params->layout() from `tensors` (float32, exact shape). Errors:
// "checkpoint is missing variable <name>" / "variable <name>: checkpoint shape [a, b], model
// shape [c, d]". Extra tensors are ignored. Messages start with `what`.
void LoadParameters(const TensorMap& tensors, Parameters* params, const std::string& what);
// Model variables under their names, plus `suffix` (e.g. "/Adam") appended to each name.
// CPU copies (parameters on a device are copied to the host).
void AddParameters(const Parameters& params, const std::string& suffix, TensorMap* out);

// Everything a training checkpoint holds (model.md §3.4).
struct TrainingCheckpoint {
  Parameters weights, adam_m, adam_s;  // adam_m -> <v>/Adam, adam_s -> <v>/Adam_1
  float beta1_power = 0.9f, beta2_power = 0.999f;
  int64_t global_step = 0;
};
TensorMap TrainingCheckpointTensors(const TrainingCheckpoint& checkpoint);  // CPU copies
// From (canonicalized) tensors; layout fixes the variable set; every tensor required.
TrainingCheckpoint TrainingCheckpointFromTensors(const ModelLayout& layout,
                                                 const TensorMap& tensors, const std::string& what);

}  // namespace melody
