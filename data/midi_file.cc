#include "data/midi_file.h"

#include <cmath>
#include <cstring>

namespace melody {
namespace {

[[noreturn]] void Reject(const std::string& what) { throw MidiConversionError(what); }

std::string Hex2(unsigned value) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string{kDigits[(value >> 4) & 15], kDigits[value & 15]};
}

// Reads the file front to back; every read past the end is the reference's EOFError.
class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes) : bytes_(bytes) {}

  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  uint8_t Byte() {
    if (pos_ >= bytes_.size()) Reject("unexpected end of file at byte " + std::to_string(pos_));
    return static_cast<uint8_t>(bytes_[pos_++]);
  }

  // `n` bytes, n <= remaining() or EOF.
  std::string_view Bytes(uint64_t n) {
    if (n > remaining())
      Reject("unexpected end of file at byte " + std::to_string(bytes_.size()) + " (needed " +
             std::to_string(n) + " bytes at byte " + std::to_string(pos_) + ")");
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // Up to `n` bytes (a Python file read: short at the end of the file).
  std::string_view UpTo(uint64_t n) { return Bytes(n < remaining() ? n : remaining()); }

  // Variable-length quantity: 7 bits per byte, most significant first, no length limit.
  // The value saturates at kMidiTickSaturation (a longer quantity only means "huge").
  uint64_t Vlq() {
    uint64_t value = 0;
    while (true) {
      uint8_t byte = Byte();
      if (value >= (kMidiTickSaturation >> 7))
        value = kMidiTickSaturation;
      else
        value = (value << 7) | (byte & 0x7f);
      if (byte < 0x80) return value;
    }
  }

  uint32_t BigEndian32() {
    std::string_view b = Bytes(4);
    return (uint32_t{static_cast<uint8_t>(b[0])} << 24) |
           (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
           (uint32_t{static_cast<uint8_t>(b[2])} << 8) | uint32_t{static_cast<uint8_t>(b[3])};
  }

 private:
  std::string_view bytes_;
  uint64_t pos_ = 0;
};

struct ChunkHeader {
  std::string_view tag;
  uint32_t length;
};

ChunkHeader ReadChunkHeader(ByteCursor* in) {
  if (in->remaining() < 8)
    Reject("unexpected end of file reading a chunk header at byte " +
           std::to_string(in->position()));
  ChunkHeader header;
  header.tag = in->Bytes(4);
  header.length = in->BigEndian32();
  return header;
}

int16_t SignedBigEndian16(std::string_view b, size_t at) {
  auto u = static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]));
  return static_cast<int16_t>(u);
}

// Total length in bytes (status included) of a message with this status byte, or 0 when
// the status byte is undefined. F0, F7 and FF never get here.
int MessageLength(uint8_t status) {
  if (status < 0xf0) return (status & 0xe0) == 0xc0 ? 2 : 3;  // Cn, Dn: 2; others: 3
  switch (status) {
    case 0xf1: case 0xf3: return 2;
    case 0xf2: return 3;
    case 0xf6: case 0xf8: case 0xfa: case 0xfb: case 0xfc: case 0xfe: return 1;
    default: return 0;  // f4, f5, f9, fd
  }
}

void CheckMinLength(std::string_view data, size_t needed, const char* what) {
  if (data.size() < needed)
    Reject(std::string(what) + " meta event has " + std::to_string(data.size()) +
           " data bytes, needs " + std::to_string(needed));
}

void CheckAtMost(unsigned value, unsigned high, const char* what) {
  if (value > high)
    Reject(std::string("SMPTE offset ") + what + " is " + std::to_string(value) +
           ", must be in range 0.." + std::to_string(high));
}

// Validates a meta event the way mido decodes it and keeps the ones the converter uses.
void ReadMeta(uint8_t type, std::string_view data, uint64_t tick, MidiTrack* track) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  MidiEvent event;
  event.tick = tick;
  switch (type) {
    case 0x00:  // sequence number: 0 bytes means 0; exactly 1 byte is an index error
      if (data.size() == 1) Reject("sequence number meta event with 1 data byte");
      return;
    case 0x20:  // channel prefix
      CheckMinLength(data, 1, "channel prefix");
      return;
    case 0x54:  // SMPTE offset: frame rate and hours always decode; the rest is range-checked
      CheckMinLength(data, 5, "SMPTE offset");
      CheckAtMost(byte(1), 59, "minutes");
      CheckAtMost(byte(2), 59, "seconds");
      CheckAtMost(byte(4), 99, "sub-frames");
      return;
    case 0x03:
      event.type = MidiEvent::Type::kTrackName;
      event.text = data;
      break;
    case 0x51:
      CheckMinLength(data, 3, "set tempo");
      event.type = MidiEvent::Type::kSetTempo;
      event.value = static_cast<int32_t>((uint32_t{byte(0)} << 16) | (uint32_t{byte(1)} << 8) | byte(2));
      break;
    case 0x58:
      CheckMinLength(data, 4, "time signature");
      if (!MidoAcceptsDenominatorExponent(byte(1)))
        Reject("time signature denominator 2**" + std::to_string(byte(1)) +
               " is not accepted as a power of 2");
      event.type = MidiEvent::Type::kTimeSignature;
      event.data1 = byte(0);
      event.data2 = byte(1);
      break;
    case 0x59: {
      CheckMinLength(data, 2, "key signature");
      int sharps = static_cast<int8_t>(byte(0));
      int mode = byte(1);
      if (sharps < -7 || sharps > 7 || mode > 1)
        Reject("could not decode key signature with " + std::to_string(sharps) +
               " sharps and mode " + std::to_string(mode));
      // Tonic pitch class: major (7*sf) mod 12, minor (7*sf + 9) mod 12, plus 12 for minor.
      int tonic = ((7 * sharps + (mode == 1 ? 9 : 0)) % 12 + 12) % 12;
      event.type = MidiEvent::Type::kKeySignature;
      event.value = tonic + 12 * mode;
      break;
    }
    default:  // text, end of track, port, sequencer specific, unknown: nothing to check
      return;
  }
  track->events.push_back(event);
}

// Sysex (F0 or F7): one leading F0 and one trailing F7 are stripped; every other byte must
// be a data byte (mido builds a checked message from them).
void ReadSysex(ByteCursor* in) {
  uint64_t length = in->Vlq();
  if (length > kMaxMidiMessageLength)
    Reject("sysex length " + std::to_string(length) + " exceeds the maximum of " +
           std::to_string(kMaxMidiMessageLength));
  std::string_view data = in->Bytes(length);
  if (!data.empty() && static_cast<uint8_t>(data.front()) == 0xf0) data.remove_prefix(1);
  if (!data.empty() && static_cast<uint8_t>(data.back()) == 0xf7) data.remove_suffix(1);
  for (char c : data)
    if (static_cast<uint8_t>(c) > 127) Reject("sysex data byte must be in range 0..127");
}

// A channel or system message whose status byte is known; `running_data` is the first
// data byte when running status supplied the status (-1 otherwise).
void ReadMessage(ByteCursor* in, uint8_t status, int running_data, uint64_t tick,
                 MidiTrack* track) {
  int length = MessageLength(status);
  if (length == 0) Reject("undefined status byte 0x" + Hex2(status));
  uint8_t data[2] = {0, 0};
  int have = 0;
  if (running_data >= 0) data[have++] = static_cast<uint8_t>(running_data);
  // A one-byte system message reached through running status carries a data byte it
  // cannot hold: mido reports the wrong number of bytes.
  if (have > length - 1) Reject("wrong number of bytes for status 0x" + Hex2(status));
  while (have < length - 1) data[have++] = in->Byte();
  for (int i = 0; i < have; ++i)
    if (data[i] > 127) Reject("data byte must be in range 0..127");

  MidiEvent event;
  event.tick = tick;
  event.channel = status & 0x0f;
  event.data1 = data[0];
  event.data2 = data[1];
  switch (status >> 4) {
    case 0x8: event.type = MidiEvent::Type::kNoteOff; break;
    case 0x9: event.type = MidiEvent::Type::kNoteOn; break;
    case 0xb: event.type = MidiEvent::Type::kControlChange; break;
    case 0xc: event.type = MidiEvent::Type::kProgramChange; break;
    case 0xe:
      event.type = MidiEvent::Type::kPitchWheel;
      event.value = data[1] * 128 + data[0] - 8192;
      break;
    default: return;  // aftertouch, system common/real time: not used
  }
  track->events.push_back(event);
}

MidiTrack ReadTrack(ByteCursor* in) {
  ChunkHeader header = ReadChunkHeader(in);
  if (header.tag != "MTrk")
    Reject("no MTrk header at start of track (found chunk type '" + std::string(header.tag) +
           "' at byte " + std::to_string(in->position() - 8) + ")");
  const uint64_t start = in->position();
  MidiTrack track;
  int last_status = -1;  // running status; meta events leave it alone
  uint64_t tick = 0;
  // The reference stops only when the bytes consumed equal the declared length exactly,
  // checked between events. Once an event has run past it, parsing can only end in an
  // error (end of file at the latest), so that error is raised right away.
  while (in->position() - start != header.length) {
    if (in->position() - start > header.length)
      Reject("an event runs past the declared end of its track (length " +
             std::to_string(header.length) + " at byte " + std::to_string(start) + ")");
    uint64_t delta = in->Vlq();
    tick = tick + delta < kMidiTickSaturation ? tick + delta : kMidiTickSaturation;
    uint8_t status = in->Byte();
    int running_data = -1;
    if (status < 0x80) {
      if (last_status < 0) Reject("running status without a previous status byte");
      running_data = status;
      status = static_cast<uint8_t>(last_status);
    } else if (status != 0xff) {
      last_status = status;
    }
    if (status == 0xff) {
      uint8_t type = in->Byte();
      uint64_t length = in->Vlq();
      if (length > kMaxMidiMessageLength)
        Reject("meta event length " + std::to_string(length) + " exceeds the maximum of " +
               std::to_string(kMaxMidiMessageLength));
      ReadMeta(type, in->Bytes(length), tick, &track);
    } else if (status == 0xf0 || status == 0xf7) {
      ReadSysex(in);  // a running-status data byte before it is dropped, as by mido
    } else {
      ReadMessage(in, status, running_data, tick, &track);
    }
    ++track.num_messages;
    track.last_tick = tick;
  }
  return track;
}

}  // namespace

bool MidoAcceptsDenominatorExponent(int exponent) {
  if (exponent < 0 || exponent > 255) return false;
  double encoded = std::log(std::ldexp(1.0, exponent)) / std::log(2.0);
  return encoded == std::trunc(encoded);
}

MidiFile ParseMidiFile(std::string_view bytes) {
  ByteCursor in(bytes);
  ChunkHeader header = ReadChunkHeader(&in);
  if (header.tag != "MThd") Reject("MThd not found; probably not a MIDI file");
  std::string_view fields = in.UpTo(header.length);  // extra header bytes are skipped
  if (fields.size() < 6)
    Reject("unexpected end of file in the MThd chunk (" + std::to_string(fields.size()) +
           " of 6 bytes)");
  MidiFile file;
  file.format = SignedBigEndian16(fields, 0);
  int16_t num_tracks = SignedBigEndian16(fields, 2);  // negative reads as none
  file.division = SignedBigEndian16(fields, 4);
  for (int i = 0; i < num_tracks; ++i) file.tracks.push_back(ReadTrack(&in));
  return file;  // bytes after the last declared track are ignored
}

}  // namespace melody
