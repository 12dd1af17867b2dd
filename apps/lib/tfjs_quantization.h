// The value encodings of TF.js weight shards (shared/spec/formats.md §11): IEEE binary16
// ("float16" quantization) and TF.js's affine 8-bit quantization ("uint8": q * scale + min,
// with the range nudged so that 0.0 is one of the levels when the tensor's range covers
// it, as the TF.js converter does). Both are what `tensorflowjs_converter
// --quantize_float16` / `--quantize_uint8` write; the readers are what TF.js (in the
// browser and in its Python package) does to get float32 values back.
#pragma once

#include <cstdint>
#include <vector>

namespace melody {

// float32 -> binary16 bits, round to nearest even; overflow gives +-inf, NaN stays NaN.
uint16_t FloatToHalfBits(float value);
// binary16 bits -> float32 (exact).
float HalfBitsToFloat(uint16_t bits);

// Affine quantization parameters of one tensor: value = q * scale + min.
struct AffineQuantization {
  double min = 0;
  double scale = 1;
};

// The converter's range for `count` float32 values quantized to levels 0..max_level (255
// for uint8): scale = (max - min) / max_level, min nudged so that 0 maps onto a level
// when min <= 0 <= max; a constant tensor gets scale 1 and min = its value (every level 0).
AffineQuantization AffineQuantizationRange(const float* values, int64_t count, int max_level);
// Levels for `values` under `q` (clipped to the range, rounded half to even).
std::vector<uint8_t> QuantizeUint8(const float* values, int64_t count,
                                   const AffineQuantization& q);
// What TF.js reads back for a level.
inline float DequantizeAffine(uint32_t level, const AffineQuantization& q) {
  return static_cast<float>(static_cast<double>(level) * q.scale + q.min);
}

}  // namespace melody
