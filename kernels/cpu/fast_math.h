// Branch-free float exp / sigmoid / tanh that GCC auto-vectorizes (plain SSE2 is enough:
// compares, int conversions and bit casts; SSE4.1 and later use roundps), for the
// LSTM gate loops where std::exp would run one element at a time.
//
// Accuracy: FastExp is the Cephes expf scheme (range reduction by ln 2 split in two
// constants, degree-5 minimax polynomial) with relative error about 2e-7 on the clamped
// range [-87, 88]; FastSigmoid / FastTanh inherit it (absolute error <= ~3e-7; FastTanh
// near 0 is computed as 1 - 2/(1+e^2x), so its error there is absolute, ~1e-7, not
// relative). The tests compare against the std:: reference with tolerances above these.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace melody::cpu {

__attribute__((always_inline)) inline float FastExp(float x) {
  // Clamp so that 2^n stays a normal float; e^-87 ~ 1.6e-38, e^88 ~ 1.65e38.
  x = std::max(x, -87.0f);  // maxss/minss: no branches, so loops stay vectorizable
  x = std::min(x, 88.0f);
  // n = round(x / ln 2) = floor(x / ln 2 + 1/2). Both forms below are exact floors, so
  // every build gives the same bits; each is the one GCC vectorizes for its target (the
  // truncate-and-correct form stops vectorizing once SSE4.1's roundps is available).
  float fx = x * 1.44269504088896341f + 0.5f;
#if defined(__SSE4_1__)
  const float tf = __builtin_floorf(fx);
#else
  float tf = static_cast<float>(static_cast<int32_t>(fx));
  tf -= static_cast<float>(tf > fx);
#endif
  const int32_t t = static_cast<int32_t>(tf);
  // r = x - n ln2 with ln2 = 0.693359375 - 2.12194440e-4 (exact first part).
  float r = x - tf * 0.693359375f;
  r = r + tf * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  int32_t bits = (t + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

__attribute__((always_inline)) inline float FastSigmoid(float x) { return 1.0f / (1.0f + FastExp(-x)); }

__attribute__((always_inline)) inline float FastTanh(float x) { return 1.0f - 2.0f / (1.0f + FastExp(2.0f * x)); }

}  // namespace melody::cpu
