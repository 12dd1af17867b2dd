#include "apps/lib/tfjs_quantization.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace melody {

namespace {

uint32_t FloatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float BitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Round half to even, as numpy's np.round (the default FP rounding mode).
double RoundHalfEven(double x) { return std::nearbyint(x); }

}  // namespace

uint16_t FloatToHalfBits(float value) {
  const uint32_t bits = FloatBits(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)  // inf, or NaN (kept quiet)
    return sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x0200u : 0u);
  // 65520 is halfway between the largest half (65504) and 2^16: it and above round to inf.
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;
  if (magnitude >= 0x38800000u) {  // a normal half: exponent >= -14
    // Re-bias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits; a carry
    // out of the mantissa correctly bumps the exponent.
    const uint32_t rebiased = magnitude - (112u << 23);
    const uint32_t rounded = rebiased + 0x0fffu + ((rebiased >> 13) & 1u);
    return sign | static_cast<uint16_t>(rounded >> 13);
  }
  // A half subnormal (or zero): multiples of 2^-24; the product is exact in double.
  const double units = static_cast<double>(BitsToFloat(magnitude)) * 16777216.0;
  return sign | static_cast<uint16_t>(RoundHalfEven(units));
}

float HalfBitsToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return BitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return BitsToFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

AffineQuantization AffineQuantizationRange(const float* values, int64_t count, int max_level) {
  AffineQuantization q;
  if (count == 0) return q;
  const auto [lo, hi] = std::minmax_element(values, values + count);
  const double min_value = *lo, max_value = *hi;
  if (min_value == max_value) {
    q.min = min_value;
    q.scale = 1.0;
    return q;
  }
  q.scale = (max_value - min_value) / max_level;
  q.min = min_value;
  if (min_value <= 0 && 0 <= max_value) {
    // Nudge so that 0.0 is exactly the level `zero_point` (zero padding stays zero).
    const double zero_point = RoundHalfEven(-min_value / q.scale);
    q.min = -zero_point * q.scale;
  }
  return q;
}

std::vector<uint8_t> QuantizeUint8(const float* values, int64_t count,
                                   const AffineQuantization& q) {
  std::vector<uint8_t> levels(static_cast<size_t>(count), 0);
  const double max_value = 255 * q.scale + q.min;
  for (int64_t i = 0; i < count; ++i) {
    const double clipped = std::clamp(static_cast<double>(values[i]), q.min, max_value);
    const double level = RoundHalfEven((clipped - q.min) / q.scale);
    levels[i] = static_cast<uint8_t>(std::clamp(level, 0.0, 255.0));
  }
  return levels;
}

}  // namespace melody
