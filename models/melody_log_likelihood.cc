#include "models/melody_log_likelihood.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/stream_ops.h"
#include "models/melody_rnn_generate.h"

namespace melody {

std::vector<double> EncodedLogLikelihoods(Context& ctx, const ModelLayout& layout,
                                          const Parameters& params,
                                          const std::vector<EncodedMelody>& melodies) {
  std::vector<double> out(melodies.size(), 0.0);
  const int I = layout.shape.input_size, C = layout.shape.num_classes;
  int64_t T = 0;
  for (const EncodedMelody& m : melodies) {
    MELODY_REQUIRE(m.input_size == I) << "log-likelihood: a melody has " << m.input_size
                                      << " inputs per step, the model " << I;
    for (int64_t label : m.labels)
      MELODY_REQUIRE(label >= 0 && label < C)
          << "log-likelihood: label " << label << " outside the model's " << C << " classes";
    T = std::max<int64_t>(T, static_cast<int64_t>(m.num_steps()));
  }
  if (T == 0) return out;
  const int64_t B = static_cast<int64_t>(melodies.size());
  Tensor inputs = Tensor::Zeros({B, T, I}, DType::kFloat32);
  for (int64_t b = 0; b < B; ++b)
    std::copy(melodies[b].inputs.begin(), melodies[b].inputs.end(),
              inputs.data<float>() + b * T * I);
  Tensor device_inputs = inputs;
  if (!ctx.is_cpu()) {
    device_inputs = Tensor({B, T, I}, DType::kFloat32, ctx.device());
    CopyOnStream(ctx, inputs, &device_inputs);
  }
  std::vector<Tensor> state = ZeroGenerateState(ctx, layout, B);
  const Tensor probs = GenerateForward(ctx, layout, params, device_inputs, 1.0f, &state);
  const float* p = probs.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    double sum = 0;
    for (size_t t = 0; t < melodies[b].num_steps(); ++t)
      sum += static_cast<double>(std::log(p[(b * T + t) * C + melodies[b].labels[t]]));
    out[b] = sum;
  }
  return out;
}

std::vector<double> MelodyLogLikelihoods(Context& ctx, const ModelLayout& layout,
                                         const Parameters& params, const MelodyEncoder& encoder,
                                         const std::vector<std::vector<int>>& melodies) {
  std::vector<EncodedMelody> encoded;
  for (const auto& events : melodies) encoded.push_back(encoder.Encode(events));
  return EncodedLogLikelihoods(ctx, layout, params, encoded);
}

}  // namespace melody
