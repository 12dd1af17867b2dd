// Standard MIDI File bytes -> tracks of events, accepting and rejecting exactly what the
// reference's byte parser (mido 1.2.10) does (shared/spec/data-pipeline.md §1). Only the
// events the NoteSequence converter uses are kept; every other event is still validated
// and still counts for the track's length and largest tick.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace melody {

// A file the reference would reject (its MIDIConversionError). The message says what is
// wrong; callers prefix the file name.
class MidiConversionError : public Error {
 public:
  using Error::Error;
};

// Ticks are sums of unbounded variable-length quantities; they saturate at this value,
// far above the converter's 1e10 limit, so no arithmetic on them can overflow.
constexpr uint64_t kMidiTickSaturation = uint64_t{1} << 60;

// The largest sysex or meta payload (and any single message) the reference reads.
constexpr uint64_t kMaxMidiMessageLength = 1000000;

struct MidiEvent {
  enum class Type : uint8_t {
    kNoteOff,        // 8n: channel, data1 = key, data2 = velocity
    kNoteOn,         // 9n: channel, data1 = key, data2 = velocity (0 acts as note-off)
    kControlChange,  // Bn: channel, data1 = control number, data2 = value
    kProgramChange,  // Cn: channel, data1 = program
    kPitchWheel,     // En: channel, value = (msb * 128 + lsb) - 8192
    kSetTempo,       // meta 51: value = microseconds per quarter note (24 bits)
    kTimeSignature,  // meta 58: data1 = numerator, data2 = log2 of the denominator
    kKeySignature,   // meta 59: value = key number (0-11 major C..B, 12-23 minor)
    kTrackName,      // meta 03: text = the raw name bytes (Latin-1)
  };
  Type type;
  uint8_t channel = 0;
  uint8_t data1 = 0;
  uint8_t data2 = 0;
  int32_t value = 0;
  uint64_t tick = 0;      // absolute tick within the track (saturating)
  std::string_view text;  // points into the bytes given to ParseMidiFile
};

struct MidiTrack {
  std::vector<MidiEvent> events;  // the kept events, in file order
  uint64_t num_messages = 0;      // every message read, kept or not
  uint64_t last_tick = 0;         // tick of the last message (the track's largest tick)
};

struct MidiFile {
  int16_t format = 0;    // read but otherwise ignored, as by the reference
  int16_t division = 0;  // signed: SMPTE divisions are not special-cased
  std::vector<MidiTrack> tracks;
};

// Parses `bytes`; throws MidiConversionError on anything the reference's parser rejects.
// Events' text fields point into `bytes`, which must outlive the result.
MidiFile ParseMidiFile(std::string_view bytes);

// True when mido 1.2.10 accepts 2**exponent as a time-signature denominator: it requires
// math.log(2**exponent, 2) (a double division of two natural logarithms) to be integral,
// which fails for some exponents (29, 31, 39, ...).
bool MidoAcceptsDenominatorExponent(int exponent);

}  // namespace melody
