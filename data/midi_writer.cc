// NoteSequence -> Standard MIDI File, byte-compatible with what Magenta writes through
// note_seq + pretty_midi + mido (shared/spec/formats.md §10 "What Magenta writes").
//
// The pipeline the reference runs, and that this file reproduces step by step:
//  1. A tempo map built from the sequence's tempos (first tempo at time 0, or 120 qpm,
//     becomes the initial tempo; the others are placed at the tick nearest their time
//     under the map built so far).
//  2. A timing track: default 4/4 unless a time signature sits at time 0, tempos, time
//     signatures, key signatures; stable-sorted by (tick, event kind).
//  3. One track per instrument (instrument 0 always exists), events stable-sorted by
//     (tick, kind, data), end of track one tick after the last event.
//  4. mido's byte encoding: delta-time VLQs, running status for channel messages.
#include "data/midi_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "core/error.h"

namespace melody {
namespace {

// note_seq writes sequences with ticks_per_quarter 0 at this resolution.
constexpr int kDefaultTicksPerQuarter = 220;
constexpr double kDefaultQpm = 120.0;
// Largest tick a 4-byte variable-length quantity can hold; later events cannot be
// written as one delta and no reader accepts them.
constexpr int64_t kMaxTick = 0x0FFFFFFF;

// ---- tempo map ---------------------------------------------------------------------

// pretty_midi's tick -> seconds table, evaluated on demand instead of materialized:
// segment j starts at tick t_j with seconds-per-tick s_j and start time T_j.
class TempoMap {
 public:
  TempoMap(int resolution, double initial_qpm) : resolution_(resolution) {
    segments_.push_back({0, TickScale(initial_qpm), 0.0});
  }

  double TickScale(double qpm) const { return 60.0 / (qpm * resolution_); }

  // Appends a tempo change at `tick` (ticks must not decrease).
  void Append(int64_t tick, double tick_scale) {
    const Segment& last = segments_.back();
    double start_time = last.start_time + last.tick_scale * static_cast<double>(tick - last.tick);
    segments_.push_back({tick, tick_scale, start_time});
  }

  // Time of table entry `tick` (0 <= tick <= last segment tick).
  double TimeOfTick(int64_t tick) const {
    // The last segment whose start is <= tick owns it (zero-length segments lose).
    auto it = std::upper_bound(segments_.begin(), segments_.end(), tick,
                               [](int64_t t, const Segment& s) { return t < s.tick; });
    const Segment& s = *(it - 1);
    return s.start_time + s.tick_scale * static_cast<double>(tick - s.tick);
  }

  // pretty_midi's time_to_tick: the nearest table entry (ties to the later tick); past
  // the table's end, extrapolated with the last tempo and rounded half to even.
  int64_t TimeToTick(double time, const char* what) const {
    MELODY_REQUIRE(std::isfinite(time)) << "MIDI writer: " << what << " time is not finite";
    const Segment& last = segments_.back();
    const int64_t table_end = last.tick;  // index of the table's last entry
    const double end_time = TimeOfTick(table_end);
    if (time > end_time) {
      double ticks = static_cast<double>(table_end) + (time - end_time) / last.tick_scale;
      MELODY_REQUIRE(ticks <= static_cast<double>(kMaxTick))
          << "MIDI writer: " << what << " at " << time << " s lies beyond the largest tick "
          << kMaxTick << " a MIDI file can hold";
      return static_cast<int64_t>(std::nearbyint(ticks));  // default mode: half to even
    }
    // First entry whose time is >= `time` (the table is non-decreasing).
    int64_t lo = 0, hi = table_end;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (TimeOfTick(mid) < time)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo > 0 && std::fabs(time - TimeOfTick(lo - 1)) < std::fabs(time - TimeOfTick(lo)))
      return lo - 1;
    return lo;
  }

  // The microseconds per quarter note pretty_midi writes for each segment, through its
  // float64 round trip (e.g. 128 qpm at 220 PPQ -> 468749, not 468750).
  template <typename Fn>
  void ForEachTempo(Fn fn) const {
    for (const Segment& s : segments_) {
      double us = 6e7 / (60.0 / (s.tick_scale * resolution_));
      fn(s.tick, us);
    }
  }

 private:
  struct Segment {
    int64_t tick;
    double tick_scale;
    double start_time;
  };
  int resolution_;
  std::vector<Segment> segments_;
};

// ---- events --------------------------------------------------------------------------

// pretty_midi's tie-break among events on the same tick: a rank per kind, plus the
// event's data for some kinds.
enum EventRank : int64_t {
  kRankTrackName = -1,  // not ranked by pretty_midi; always first, see SortTrack
  kRankTempo = 1,
  kRankTimeSignature = 2,
  kRankKeySignature = 3,
  kRankProgramChange = 6,
  kRankPitchBend = 7,
  kRankControlChange = 8,
  kRankNote = 10,
};

struct Event {
  int64_t tick;
  int64_t order;       // sort key within a tick
  bool is_meta;
  std::string bytes;   // status byte + data (channel message) or FF type len data (meta)
};

int64_t OrderKey(EventRank rank, int64_t data) { return rank * 256 * 256 + data; }

// Variable-length quantity, most significant group first.
void AppendVlq(std::string* out, uint32_t value) {
  char groups[5];
  int n = 0;
  do {
    groups[n++] = static_cast<char>(value & 0x7f);
    value >>= 7;
  } while (value);
  while (n > 1) out->push_back(static_cast<char>(groups[--n] | 0x80));
  out->push_back(groups[0]);
}

Event MetaEvent(int64_t tick, int64_t order, uint8_t type, const std::string& data) {
  Event e{tick, order, true, {}};
  e.bytes.push_back(static_cast<char>(0xff));
  e.bytes.push_back(static_cast<char>(type));
  AppendVlq(&e.bytes, static_cast<uint32_t>(data.size()));
  e.bytes += data;
  return e;
}

Event ChannelEvent(int64_t tick, int64_t order, uint8_t status, std::initializer_list<int> data) {
  Event e{tick, order, false, {}};
  e.bytes.push_back(static_cast<char>(status));
  for (int d : data) e.bytes.push_back(static_cast<char>(d));
  return e;
}

void RequireDataByte(int value, const char* what) {
  MELODY_REQUIRE(value >= 0 && value <= 127)
      << "MIDI writer: " << what << " " << value << " is outside 0..127";
}

// Stable sort by (tick, order), as pretty_midi's sorted() with its comparator.
void SortTrack(std::vector<Event>* events) {
  std::stable_sort(events->begin(), events->end(), [](const Event& a, const Event& b) {
    return std::tie(a.tick, a.order) < std::tie(b.tick, b.order);
  });
}

// "MTrk" chunk: events as deltas, end of track one tick after the last event, running
// status for repeated channel statuses (meta events cancel it, as in mido).
std::string EncodeTrack(const std::vector<Event>& events) {
  std::string data;
  int64_t previous_tick = 0;
  int running_status = -1;
  for (const Event& e : events) {
    AppendVlq(&data, static_cast<uint32_t>(e.tick - previous_tick));
    previous_tick = e.tick;
    if (e.is_meta) {
      data += e.bytes;
      running_status = -1;
      continue;
    }
    int status = static_cast<uint8_t>(e.bytes[0]);
    data.append(e.bytes, status == running_status ? 1 : 0, std::string::npos);
    running_status = status;
  }
  AppendVlq(&data, 1);  // end of track at last tick + 1
  data += "\xff\x2f";
  data.push_back('\0');

  std::string chunk = "MTrk";
  uint32_t size = static_cast<uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) chunk.push_back(static_cast<char>(size >> shift));
  return chunk + data;
}

// ---- track 0 ---------------------------------------------------------------------------

// Sharps (+) / flats (-) for NoteSequence keys 0..11 as pretty_midi/mido spell them.
constexpr int kMajorSharps[12] = {0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};
constexpr int kMinorSharps[12] = {-3, 4, -1, 6, 1, -4, 3, -2, 5, 0, -5, 2};

std::string TimeSignatureData(int numerator, int denominator) {
  MELODY_REQUIRE(numerator >= 1 && numerator <= 255)
      << "MIDI writer: time signature numerator " << numerator << " is outside 1..255";
  MELODY_REQUIRE(denominator >= 1 && (denominator & (denominator - 1)) == 0)
      << "MIDI writer: time signature denominator " << denominator
      << " is not a positive power of 2";
  int log2 = 0;
  while ((1 << log2) < denominator) ++log2;
  // 24 MIDI clocks per metronome click and 8 32nd notes per quarter: mido's defaults.
  return std::string{static_cast<char>(numerator), static_cast<char>(log2), 24, 8};
}

std::vector<Event> TimingTrack(const magenta::NoteSequence& seq, const TempoMap& tempo_map) {
  std::vector<Event> events;
  bool has_time_signature_at_zero =
      std::any_of(seq.time_signatures().begin(), seq.time_signatures().end(),
                  [](const magenta::NoteSequence::TimeSignature& ts) { return ts.time() <= 0.0; });
  if (!has_time_signature_at_zero)
    events.push_back(MetaEvent(0, OrderKey(kRankTimeSignature, 0), 0x58, TimeSignatureData(4, 4)));

  tempo_map.ForEachTempo([&](int64_t tick, double us_per_quarter) {
    MELODY_REQUIRE(us_per_quarter >= 0 && us_per_quarter < 16777216.0)
        << "MIDI writer: tempo of " << us_per_quarter
        << " microseconds per quarter does not fit the 3 bytes of a MIDI tempo event";
    uint32_t us = static_cast<uint32_t>(us_per_quarter);  // truncation, as int() in Python
    std::string data{static_cast<char>(us >> 16), static_cast<char>(us >> 8), static_cast<char>(us)};
    events.push_back(MetaEvent(tick, OrderKey(kRankTempo, 0), 0x51, data));
  });

  for (const auto& ts : seq.time_signatures()) {
    int64_t tick = tempo_map.TimeToTick(ts.time(), "time signature");
    events.push_back(MetaEvent(tick, OrderKey(kRankTimeSignature, 0), 0x58,
                               TimeSignatureData(ts.numerator(), ts.denominator())));
  }

  for (const auto& ks : seq.key_signatures()) {
    int key = ks.key();
    MELODY_REQUIRE(key >= 0 && key < 12) << "MIDI writer: key signature key " << key
                                         << " is outside 0..11";
    bool minor = ks.mode() == magenta::NoteSequence::KeySignature::MINOR;
    int sharps = minor ? kMinorSharps[key] : kMajorSharps[key];
    std::string data{static_cast<char>(static_cast<int8_t>(sharps)), static_cast<char>(minor ? 1 : 0)};
    int64_t tick = tempo_map.TimeToTick(ks.time(), "key signature");
    events.push_back(MetaEvent(tick, OrderKey(kRankKeySignature, 0), 0x59, data));
  }
  SortTrack(&events);
  return events;
}

// ---- instrument tracks -------------------------------------------------------------------

// note_seq groups events by (instrument, program, is_drum) and creates pretty_midi
// instruments in sorted key order. Instrument 0 always exists (an empty track when no
// event uses it); every key with instrument <= 0 re-targets that same instrument, so the
// last such key (in sorted order) is the one written. Keys with instrument > 0 each get
// a new instrument, even when two share an instrument number.
struct InstrumentEvents {
  std::vector<const magenta::NoteSequence::Note*> notes;
  std::vector<const magenta::NoteSequence::PitchBend*> bends;
  std::vector<const magenta::NoteSequence::ControlChange*> controls;
};
using InstrumentKey = std::tuple<int, int, bool>;  // (instrument, program, is_drum)

struct OutputInstrument {
  int program = 0;
  bool is_drum = false;
  std::string name;  // UTF-8 from the proto
  const InstrumentEvents* events = nullptr;
};

// Latin-1 bytes of a UTF-8 name (mido writes track names with charset latin1).
std::string Utf8ToLatin1(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size();) {
    unsigned char c = utf8[i];
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < utf8.size()) {
      cp = ((c & 0x1f) << 6) | (utf8[i + 1] & 0x3f), len = 2;
    } else {
      cp = 0x100, len = 1;  // anything longer is outside latin-1
    }
    MELODY_REQUIRE(cp <= 0xff) << "MIDI writer: instrument name \"" << utf8
                               << "\" has a character outside latin-1";
    out.push_back(static_cast<char>(cp));
    i += len;
  }
  return out;
}

std::vector<Event> InstrumentTrack(const OutputInstrument& inst, int channel,
                                   const TempoMap& tempo_map) {
  std::vector<Event> events;
  if (!inst.name.empty())
    events.push_back(MetaEvent(0, OrderKey(kRankTrackName, 0), 0x03, Utf8ToLatin1(inst.name)));
  RequireDataByte(inst.program, "program");
  events.push_back(ChannelEvent(0, OrderKey(kRankProgramChange, 0),
                                static_cast<uint8_t>(0xc0 | channel), {inst.program}));
  if (inst.events) {
    for (const auto* note : inst.events->notes) {
      RequireDataByte(note->pitch(), "note pitch");
      RequireDataByte(note->velocity(), "note velocity");
      int64_t start = tempo_map.TimeToTick(note->start_time(), "note start");
      int64_t end = tempo_map.TimeToTick(note->end_time(), "note end");
      uint8_t status = static_cast<uint8_t>(0x90 | channel);
      events.push_back(ChannelEvent(start, OrderKey(kRankNote, note->pitch() * 256 + note->velocity()),
                                    status, {note->pitch(), note->velocity()}));
      // The note's end is a note-on with velocity 0, which sorts before a note-on of
      // the same key on the same tick (a repeated note ends before it restarts).
      events.push_back(ChannelEvent(end, OrderKey(kRankNote, note->pitch() * 256), status,
                                    {note->pitch(), 0}));
    }
    for (const auto* bend : inst.events->bends) {
      int value = bend->bend();
      MELODY_REQUIRE(value >= -8192 && value <= 8191)
          << "MIDI writer: pitch bend " << value << " is outside -8192..8191";
      int64_t tick = tempo_map.TimeToTick(bend->time(), "pitch bend");
      int raw = value + 8192;
      events.push_back(ChannelEvent(tick, OrderKey(kRankPitchBend, value),
                                    static_cast<uint8_t>(0xe0 | channel), {raw & 0x7f, raw >> 7}));
    }
    for (const auto* cc : inst.events->controls) {
      RequireDataByte(cc->control_number(), "control number");
      RequireDataByte(cc->control_value(), "control value");
      int64_t tick = tempo_map.TimeToTick(cc->time(), "control change");
      events.push_back(ChannelEvent(
          tick, OrderKey(kRankControlChange, cc->control_number() * 256 + cc->control_value()),
          static_cast<uint8_t>(0xb0 | channel), {cc->control_number(), cc->control_value()}));
    }
  }
  SortTrack(&events);
  return events;
}

TempoMap BuildTempoMap(const magenta::NoteSequence& seq, int resolution) {
  // The first tempo at time 0 is the initial tempo; an entry equal to it (as a whole
  // message) is not added again, as in note_seq.
  const magenta::NoteSequence::Tempo* initial = nullptr;
  for (const auto& tempo : seq.tempos())
    if (tempo.time() == 0.0) {
      initial = &tempo;
      break;
    }
  auto check_qpm = [](double qpm) {
    MELODY_REQUIRE(std::isfinite(qpm) && qpm > 0)
        << "MIDI writer: tempo of " << qpm << " qpm is not a positive number";
  };
  double initial_qpm = initial ? initial->qpm() : kDefaultQpm;
  check_qpm(initial_qpm);
  TempoMap map(resolution, initial_qpm);
  int64_t previous_tick = 0;
  for (const auto& tempo : seq.tempos()) {
    if (initial && tempo.time() == initial->time() && tempo.qpm() == initial->qpm()) continue;
    check_qpm(tempo.qpm());
    int64_t tick = map.TimeToTick(tempo.time(), "tempo");
    // pretty_midi keeps tempo changes in insertion order and builds its tick table as if
    // their ticks never decrease; out-of-order tempos would give it a table that is not
    // monotonic, so we refuse them instead.
    MELODY_REQUIRE(tick >= previous_tick)
        << "MIDI writer: tempo changes are not in time order (tempo at " << tempo.time()
        << " s falls before an earlier entry's tick " << previous_tick << ")";
    previous_tick = tick;
    map.Append(tick, 60.0 / (resolution * tempo.qpm()));
  }
  return map;
}

}  // namespace

std::string NoteSequenceToMidi(const magenta::NoteSequence& seq) {
  int resolution = seq.ticks_per_quarter() ? seq.ticks_per_quarter() : kDefaultTicksPerQuarter;
  MELODY_REQUIRE(resolution > 0 && resolution < 0x8000)
      << "MIDI writer: ticks_per_quarter " << resolution << " is outside 1..32767";
  TempoMap tempo_map = BuildTempoMap(seq, resolution);

  std::map<InstrumentKey, InstrumentEvents> grouped;
  for (const auto& n : seq.notes()) grouped[{n.instrument(), n.program(), n.is_drum()}].notes.push_back(&n);
  for (const auto& b : seq.pitch_bends())
    grouped[{b.instrument(), b.program(), b.is_drum()}].bends.push_back(&b);
  for (const auto& c : seq.control_changes())
    grouped[{c.instrument(), c.program(), c.is_drum()}].controls.push_back(&c);

  std::map<int, std::string> names;
  for (const auto& info : seq.instrument_infos()) names[info.instrument()] = info.name();

  std::vector<OutputInstrument> instruments(1);  // instrument 0, program 0
  for (const auto& [key, events] : grouped) {
    auto [instrument, program, is_drum] = key;
    if (instrument > 0) instruments.emplace_back();
    // Keys sort with instrument <= 0 first, so those all land on instrument 0.
    OutputInstrument& target = instrument > 0 ? instruments.back() : instruments.front();
    target.program = program;
    target.is_drum = is_drum;
    target.events = &events;
    if (auto it = names.find(instrument); it != names.end()) target.name = it->second;
  }

  std::vector<std::vector<Event>> tracks;
  tracks.push_back(TimingTrack(seq, tempo_map));
  // Channels 0..15 without 9 in turn; drums always on 9.
  static constexpr int kChannels[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15};
  for (size_t n = 0; n < instruments.size(); ++n) {
    int channel = instruments[n].is_drum ? 9 : kChannels[n % 15];
    tracks.push_back(InstrumentTrack(instruments[n], channel, tempo_map));
  }
  MELODY_REQUIRE(tracks.size() <= 0xffff) << "MIDI writer: too many instruments";

  std::string out = "MThd";
  out += std::string("\0\0\0\x06\0\x01", 6);  // header length 6, format 1
  out.push_back(static_cast<char>(tracks.size() >> 8));
  out.push_back(static_cast<char>(tracks.size()));
  out.push_back(static_cast<char>(resolution >> 8));
  out.push_back(static_cast<char>(resolution));
  for (const auto& track : tracks) out += EncodeTrack(track);
  return out;
}

}  // namespace melody
