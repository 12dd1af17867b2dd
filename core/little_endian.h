// Fixed-width little-endian integers as TF's file formats store them (TFRecord framing,
// the sorted table behind checkpoints, event files): byte by byte, so the result does not
// depend on the host's byte order or on alignment.
#pragma once

#include <cstdint>
#include <string>

namespace melody {

inline uint32_t GetFixed32(const void* data) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline uint64_t GetFixed64(const void* data) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Into p[0..3] / p[0..7].
inline void PutFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void PutFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Appended to *out.
inline void PutFixed32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace melody
