// Builders for hand-made Standard MIDI File bytes used by the MIDI reader tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace melody::testing {

inline std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v & 0xff));
  return out;
}

inline std::string BigEndian32(uint32_t v) {
  return Bytes({static_cast<int>(v >> 24), static_cast<int>(v >> 16), static_cast<int>(v >> 8),
                static_cast<int>(v)});
}

// A chunk: 4-byte tag, big-endian length, data. `declared_length` < 0 means data.size().
inline std::string Chunk(const std::string& tag, const std::string& data,
                         int64_t declared_length = -1) {
  uint32_t length =
      declared_length < 0 ? static_cast<uint32_t>(data.size()) : static_cast<uint32_t>(declared_length);
  return tag + BigEndian32(length) + data;
}

inline std::string Header(int format, int num_tracks, int division) {
  return Chunk("MThd", Bytes({format >> 8, format, num_tracks >> 8, num_tracks, division >> 8,
                              division}));
}

inline std::string Track(const std::string& events) { return Chunk("MTrk", events); }

// Variable-length quantity, most significant group first.
inline std::string Vlq(uint64_t value) {
  std::string out(1, static_cast<char>(value & 0x7f));
  while (value >>= 7) out.insert(out.begin(), static_cast<char>(0x80 | (value & 0x7f)));
  return out;
}

inline std::string EndOfTrack() { return Bytes({0x00, 0xff, 0x2f, 0x00}); }

// A small valid type-1 file: conductor track with 120 qpm and 4/4, one melody track with
// a track name, a program change and three notes (running status on the note-offs).
inline std::string SmallValidMidi() {
  std::string conductor = Bytes({0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,  // tempo 500000
                                 0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08}) +
                          EndOfTrack();
  std::string melody = Bytes({0x00, 0xff, 0x03, 0x04, 'L', 'e', 'a', 'd',  // track name
                              0x00, 0xc0, 0x05,                            // program 5
                              0x00, 0x90, 0x3c, 0x64, 0x83, 0x60, 0x3c, 0x00,
                              0x00, 0x3e, 0x64, 0x83, 0x60, 0x3e, 0x00,
                              0x00, 0xb0, 0x40, 0x7f, 0x00, 0xe0, 0x00, 0x50,
                              0x00, 0x90, 0x40, 0x50, 0x87, 0x40, 0x80, 0x40, 0x00}) +
                       EndOfTrack();
  return Header(1, 2, 480) + Track(conductor) + Track(melody);
}

}  // namespace melody::testing
