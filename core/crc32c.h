// CRC32C (Castagnoli) and TensorFlow's masked form (shared/spec/formats.md §2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace melody {

// Extends `crc` (a finished CRC32C value, 0 for none) with `size` more bytes.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);
inline uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }
inline uint32_t Crc32c(std::string_view bytes) { return Crc32c(bytes.data(), bytes.size()); }

// TF masks stored CRCs so that a CRC over data containing CRCs does not degenerate.
constexpr uint32_t kCrcMaskDelta = 0xA282EAD8u;
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// True when the running CPU has a CRC32C instruction that Crc32cExtend uses.
bool Crc32cIsHardwareAccelerated();

}  // namespace melody
