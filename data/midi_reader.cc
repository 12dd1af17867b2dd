// pretty_midi + note_seq semantics on top of the byte parser in midi_file.cc
// (shared/spec/data-pipeline.md §2-§4). Every double is computed with the reference's
// formula in the reference's order; the build uses -ffp-contract=off.
#include "data/midi_reader.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace melody {
namespace {

[[noreturn]] void Reject(const std::string& what) { throw MidiConversionError(what); }

// Protobuf cannot serialize a message of 2 GiB or more, so the reference could not write
// such a NoteSequence either. Files get there only through the reference's amplifying
// quirks (instruments sharing one control-change list, one track name copied into every
// instrument), which let a small file describe a huge sequence; they are rejected before
// any of it is built, using an upper bound on the serialized size.
constexpr uint64_t kMaxSequenceBytes = 0x7fffffff;
constexpr uint64_t kMaxEntryBytes = 40;  // any note, tempo, signature, bend or control change

// note_seq raises pretty_midi's MAX_TICK to 1e10: a file whose largest tick + 1 exceeds
// it is rejected.
constexpr uint64_t kMaxTick = 10000000000ULL;

// Tempo segments (tick, seconds per tick) of pretty_midi, evaluated on demand: the
// reference fills a table with one double per tick; the values here are the same.
class TempoMap {
 public:
  TempoMap(const MidiTrack& conductor, int division) : division_(division) {
    double resolution = division;
    if (120.0 * resolution == 0.0) Reject("division (ticks per quarter note) is 0");
    Append(0, 60.0 / (120.0 * resolution));
    for (const MidiEvent& event : conductor.events) {
      if (event.type != MidiEvent::Type::kSetTempo) continue;
      if (event.value == 0) Reject("set tempo of 0 microseconds per quarter note");
      double bpm = 6e7 / event.value;
      double scale = 60.0 / (bpm * resolution);
      if (event.tick == 0) {
        // A tempo at tick 0 replaces the whole list (the last one at tick 0 wins).
        ticks_.clear();
        scales_.clear();
        starts_.clear();
        Append(0, scale);
      } else if (scale != scales_.back()) {  // repeated tempos are dropped
        Append(event.tick, scale);
      }
    }
  }

  // Seconds at `tick`: the last segment starting at or before it, T_j + s_j * (k - t_j).
  double Seconds(uint64_t tick) const {
    size_t j = static_cast<size_t>(std::upper_bound(ticks_.begin(), ticks_.end(), tick) -
                                   ticks_.begin()) - 1;
    return starts_[j] + scales_[j] * static_cast<double>(tick - ticks_[j]);
  }

  size_t size() const { return ticks_.size(); }
  uint64_t tick(size_t j) const { return ticks_[j]; }
  // The tempo reported for segment j, recomputed from its scale as the reference does.
  double Qpm(size_t j) const { return 60.0 / (scales_[j] * static_cast<double>(division_)); }

 private:
  void Append(uint64_t tick, double scale) {
    double start = 0.0;
    if (!ticks_.empty())
      start = starts_.back() + scales_.back() * static_cast<double>(tick - ticks_.back());
    ticks_.push_back(tick);
    scales_.push_back(scale);
    starts_.push_back(start);
  }

  int division_;
  std::vector<uint64_t> ticks_;  // non-decreasing
  std::vector<double> scales_;
  std::vector<double> starts_;   // T_j: seconds at ticks_[j]
};

struct ClosedNote {
  int pitch;
  int velocity;
  double start;
  double end;
};
struct ControlChangeEvent {
  double time;
  int number;
  int value;
};
struct PitchBendEvent {
  double time;
  int bend;
};
// A control-change list and a pitch-bend list. Several instruments may hold the same
// one (the reference shares its "straggler" lists, §3), so instruments refer to it by index.
struct EventLists {
  std::vector<ControlChangeEvent> control_changes;
  std::vector<PitchBendEvent> pitch_bends;
};
struct Instrument {
  int program;
  bool is_drum;
  std::string_view name;  // raw Latin-1 bytes, pointing into the file
  std::vector<ClosedNote> notes;
  size_t lists;      // index into the EventLists pool
};

// Builds pretty_midi's instruments track by track (§3).
class InstrumentBuilder {
 public:
  explicit InstrumentBuilder(const TempoMap& tempo)
      : tempo_(tempo), instrument_index_(16 * 128, kNone), open_(16 * 128) {}

  void AddTrack(const MidiTrack& track);
  const std::vector<Instrument>& instruments() const { return instruments_; }
  const EventLists& lists(const Instrument& instrument) const { return pool_[instrument.lists]; }
  // Upper bound on the serialized bytes of the notes, bends, control changes and
  // instrument infos these instruments produce (shared lists counted once per holder).
  uint64_t SerializedSizeBound() const;

 private:
  static constexpr int kNone = -1;
  struct OpenNote {
    uint64_t tick;
    int velocity;
  };

  void ResetTrackState();
  void CloseNotes(int channel, int pitch, uint64_t end_tick);
  int InstrumentFor(int channel, int program);  // creates it
  size_t ListsFor(int channel);                 // for a control change or pitch bend

  const TempoMap& tempo_;
  std::vector<Instrument> instruments_;
  std::vector<EventLists> pool_;

  // State of the current track.
  std::string_view track_name_;
  std::array<int, 16> program_{};
  std::array<int, 16> straggler_{};                 // pool index or kNone, per channel
  std::vector<int> instrument_index_;          // per (channel, program): index or kNone
  std::vector<std::vector<OpenNote>> open_;   // note-ons per (channel, pitch)
  std::vector<int> touched_instruments_;
  std::vector<int> touched_open_;
};

uint64_t InstrumentBuilder::SerializedSizeBound() const {
  uint64_t bytes = 0;
  for (const Instrument& instrument : instruments_) {
    const EventLists& shared = pool_[instrument.lists];
    uint64_t entries = instrument.notes.size() + shared.control_changes.size() +
                       shared.pitch_bends.size() + 1;  // + 1: the instrument info
    bytes += entries * kMaxEntryBytes + 2 * instrument.name.size();  // UTF-8: <= 2 per byte
  }
  return bytes;
}

void InstrumentBuilder::ResetTrackState() {
  track_name_ = {};
  program_.fill(0);
  straggler_.fill(kNone);
  for (int slot : touched_instruments_) instrument_index_[slot] = kNone;
  for (int slot : touched_open_) open_[slot].clear();
  touched_instruments_.clear();
  touched_open_.clear();
}

int InstrumentBuilder::InstrumentFor(int channel, int program) {
  int slot = channel * 128 + program;
  if (instrument_index_[slot] != kNone) return instrument_index_[slot];
  Instrument instrument;
  instrument.program = program;
  instrument.is_drum = channel == 9;
  instrument.name = track_name_;  // the track's name at creation time
  if (straggler_[channel] != kNone) {
    instrument.lists = static_cast<size_t>(straggler_[channel]);  // shared, not copied
  } else {
    instrument.lists = pool_.size();
    pool_.emplace_back();
  }
  instruments_.push_back(std::move(instrument));
  instrument_index_[slot] = static_cast<int>(instruments_.size() - 1);
  touched_instruments_.push_back(slot);
  return instrument_index_[slot];
}

size_t InstrumentBuilder::ListsFor(int channel) {
  int existing = instrument_index_[channel * 128 + program_[channel]];
  if (existing != kNone) return instruments_[existing].lists;
  if (straggler_[channel] == kNone) {
    straggler_[channel] = static_cast<int>(pool_.size());
    pool_.emplace_back();
  }
  return static_cast<size_t>(straggler_[channel]);
}

void InstrumentBuilder::CloseNotes(int channel, int pitch, uint64_t end_tick) {
  std::vector<OpenNote>& open = open_[channel * 128 + pitch];
  if (open.empty()) return;  // a note-off without a note-on is ignored
  bool closed_any = false;
  bool keep_any = false;
  for (const OpenNote& note : open) {
    if (note.tick == end_tick) {  // a note-on on the note-off's own tick
      keep_any = true;
      continue;
    }
    closed_any = true;
    double start = tempo_.Seconds(note.tick);
    double end = tempo_.Seconds(end_tick);
    if (end < start) Reject("note end time must be greater than start time");
    int index = InstrumentFor(channel, program_[channel]);  // program at the note-off
    instruments_[index].notes.push_back({pitch, note.velocity, start, end});
  }
  // The same-tick note-ons survive only when this note-off also closed an older note.
  if (closed_any && keep_any)
    open.erase(std::remove_if(open.begin(), open.end(),
                              [&](const OpenNote& note) { return note.tick != end_tick; }),
               open.end());
  else
    open.clear();
}

void InstrumentBuilder::AddTrack(const MidiTrack& track) {
  ResetTrackState();
  for (const MidiEvent& event : track.events) {
    int channel = event.channel;
    switch (event.type) {
      case MidiEvent::Type::kTrackName:
        track_name_ = event.text;
        break;
      case MidiEvent::Type::kProgramChange:
        program_[channel] = event.data1;
        break;
      case MidiEvent::Type::kNoteOn:
        if (event.data2 > 0) {
          int slot = channel * 128 + event.data1;
          if (open_[slot].empty()) touched_open_.push_back(slot);
          open_[slot].push_back({event.tick, event.data2});
          break;
        }
        CloseNotes(channel, event.data1, event.tick);  // velocity 0: a note-off
        break;
      case MidiEvent::Type::kNoteOff:
        CloseNotes(channel, event.data1, event.tick);
        break;
      case MidiEvent::Type::kPitchWheel: {
        double time = tempo_.Seconds(event.tick);
        pool_[ListsFor(channel)].pitch_bends.push_back({time, event.value});
        break;
      }
      case MidiEvent::Type::kControlChange: {
        double time = tempo_.Seconds(event.tick);
        pool_[ListsFor(channel)].control_changes.push_back({time, event.data1, event.data2});
        break;
      }
      default:
        break;
    }
  }
  // Notes still open at the end of the track are dropped (ResetTrackState clears them).
}

// Latin-1 bytes -> UTF-8 (every byte is one code point).
std::string Latin1ToUtf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (char c : latin1) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
    } else {
      out.push_back(static_cast<char>(0xc0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3f)));
    }
  }
  return out;
}

// Time and key signatures of the conductor track (track 0), in file order (§1.3, §4).
void AddSignatures(const MidiTrack& conductor, const TempoMap& tempo,
                   magenta::NoteSequence* sequence) {
  for (const MidiEvent& event : conductor.events) {
    if (event.type == MidiEvent::Type::kKeySignature) {
      double time = tempo.Seconds(event.tick);
      if (!(time >= 0)) Reject("key signature at negative time " + std::to_string(time));
      auto* key = sequence->add_key_signatures();
      key->set_time(time);
      key->set_key(static_cast<magenta::NoteSequence::KeySignature::Key>(event.value % 12));
      key->set_mode(static_cast<magenta::NoteSequence::KeySignature::Mode>(event.value / 12));
    } else if (event.type == MidiEvent::Type::kTimeSignature) {
      double time = tempo.Seconds(event.tick);
      if (event.data1 == 0) Reject("time signature numerator 0");
      if (!(time >= 0)) Reject("time signature at negative time " + std::to_string(time));
      // NoteSequence stores the denominator as int32.
      if (event.data2 > 30)
        Reject("invalid time signature denominator 2**" + std::to_string(event.data2));
      auto* signature = sequence->add_time_signatures();
      signature->set_time(time);
      signature->set_numerator(event.data1);
      signature->set_denominator(int32_t{1} << event.data2);
    }
  }
}

// Notes, instrument infos, total time, pitch bends and control changes, instrument by
// instrument in creation order (§4). Instruments sharing a list each report all of it.
void AddInstruments(const InstrumentBuilder& builder, magenta::NoteSequence* sequence) {
  const std::vector<Instrument>& instruments = builder.instruments();
  double total_time = 0.0;
  for (size_t i = 0; i < instruments.size(); ++i) {
    const Instrument& instrument = instruments[i];
    int index = static_cast<int>(i);
    if (!instrument.name.empty()) {
      auto* info = sequence->add_instrument_infos();
      info->set_instrument(index);
      info->set_name(Latin1ToUtf8(instrument.name));
    }
    for (const ClosedNote& closed : instrument.notes) {
      // note_seq: "if not total_time or end > total_time" (0.0 counts as unset).
      if (total_time == 0.0 || closed.end > total_time) total_time = closed.end;
      auto* note = sequence->add_notes();
      note->set_instrument(index);
      note->set_program(instrument.program);
      note->set_start_time(closed.start);
      note->set_end_time(closed.end);
      note->set_pitch(closed.pitch);
      note->set_velocity(closed.velocity);
      note->set_is_drum(instrument.is_drum);
    }
  }
  sequence->set_total_time(total_time);
  for (size_t i = 0; i < instruments.size(); ++i) {
    for (const PitchBendEvent& bend : builder.lists(instruments[i]).pitch_bends) {
      auto* out = sequence->add_pitch_bends();
      out->set_instrument(static_cast<int>(i));
      out->set_program(instruments[i].program);
      out->set_time(bend.time);
      out->set_bend(bend.bend);
      out->set_is_drum(instruments[i].is_drum);
    }
  }
  for (size_t i = 0; i < instruments.size(); ++i) {
    for (const ControlChangeEvent& change : builder.lists(instruments[i]).control_changes) {
      auto* out = sequence->add_control_changes();
      out->set_instrument(static_cast<int>(i));
      out->set_program(instruments[i].program);
      out->set_time(change.time);
      out->set_control_number(change.number);
      out->set_control_value(change.value);
      out->set_is_drum(instruments[i].is_drum);
    }
  }
}

}  // namespace

magenta::NoteSequence MidiToNoteSequence(std::string_view bytes) {
  MidiFile file = ParseMidiFile(bytes);

  // The reference takes the maximum tick over all tracks: no tracks, or a track without
  // any event, fails there.
  if (file.tracks.empty()) Reject("the file has no tracks");
  uint64_t max_tick = 0;
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    if (file.tracks[i].num_messages == 0) Reject("track " + std::to_string(i) + " has no events");
    max_tick = std::max(max_tick, file.tracks[i].last_tick);
  }
  if (max_tick + 1 > kMaxTick)
    Reject("MIDI file has a largest tick of " +
           (max_tick >= kMidiTickSaturation ? std::string("more than 2**60")
                                            : std::to_string(max_tick + 1)) +
           ", it is likely corrupt");

  const MidiTrack& conductor = file.tracks[0];
  TempoMap tempo(conductor, file.division);

  magenta::NoteSequence sequence;
  sequence.set_ticks_per_quarter(file.division);
  sequence.mutable_source_info()->set_parser(magenta::NoteSequence::SourceInfo::PRETTY_MIDI);
  sequence.mutable_source_info()->set_encoding_type(magenta::NoteSequence::SourceInfo::MIDI);
  AddSignatures(conductor, tempo, &sequence);

  InstrumentBuilder builder(tempo);
  for (const MidiTrack& track : file.tracks) builder.AddTrack(track);

  for (size_t j = 0; j < tempo.size(); ++j) {
    auto* entry = sequence.add_tempos();
    entry->set_time(tempo.Seconds(tempo.tick(j)));
    entry->set_qpm(tempo.Qpm(j));
  }

  uint64_t metadata_entries =
      tempo.size() + sequence.time_signatures_size() + sequence.key_signatures_size();
  if (builder.SerializedSizeBound() + metadata_entries * kMaxEntryBytes > kMaxSequenceBytes)
    Reject("the NoteSequence would exceed protobuf's 2 GiB limit (" +
           std::to_string(builder.instruments().size()) + " instruments)");
  AddInstruments(builder, &sequence);
  return sequence;
}

}  // namespace melody
