// MIDI writer (shared/spec/formats.md §10 "What Magenta writes"): byte layouts built by
// hand from the spec, rounding rules, event ordering, and a round trip of every MIDI file
// Magenta wrote that is kept in shared/data/compat (read, write back, compare bytes).
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "data/midi_reader.h"
#include "data/midi_writer.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using magenta::NoteSequence;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// A MIDI file cut into its chunks' payloads (header data first, then each track's data).
struct Chunks {
  std::string header;
  std::vector<std::string> tracks;
};

Chunks SplitChunks(const std::string& file) {
  Chunks chunks;
  size_t pos = 0;
  while (pos + 8 <= file.size()) {
    std::string type = file.substr(pos, 4);
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(file[pos + 4 + i]);
    std::string data = file.substr(pos + 8, size);
    if (type == "MThd")
      chunks.header = data;
    else
      chunks.tracks.push_back(data);
    pos += 8 + size;
  }
  return chunks;
}

NoteSequence Melody(int ticks_per_quarter, double qpm) {
  NoteSequence seq;
  seq.set_ticks_per_quarter(ticks_per_quarter);
  auto* tempo = seq.add_tempos();
  tempo->set_time(0);
  tempo->set_qpm(qpm);
  return seq;
}

void AddNote(NoteSequence* seq, int pitch, double start, double end, int velocity = 100,
             int instrument = 0, int program = 0, bool is_drum = false) {
  auto* note = seq->add_notes();
  note->set_pitch(pitch);
  note->set_velocity(velocity);
  note->set_start_time(start);
  note->set_end_time(end);
  note->set_instrument(instrument);
  note->set_program(program);
  note->set_is_drum(is_drum);
}

// Absolute ticks of the note events in a track's data, as (tick, pitch, velocity);
// assumes the track holds only a program change and note-ons (running status allowed).
struct NoteEvent {
  int64_t tick;
  int pitch;
  int velocity;
  bool operator==(const NoteEvent& o) const {
    return tick == o.tick && pitch == o.pitch && velocity == o.velocity;
  }
};
std::ostream& operator<<(std::ostream& os, const NoteEvent& e) {
  return os << "(" << e.tick << ", " << e.pitch << ", " << e.velocity << ")";
}

std::vector<NoteEvent> NoteEvents(const std::string& track) {
  std::vector<NoteEvent> out;
  size_t pos = 0;
  int64_t tick = 0;
  int status = 0;
  while (pos < track.size()) {
    uint32_t delta = 0;
    unsigned char c;
    do {
      c = track[pos++];
      delta = (delta << 7) | (c & 0x7f);
    } while (c & 0x80);
    tick += delta;
    unsigned char first = track[pos];
    if (first == 0xff) break;  // end of track
    if (first & 0x80) status = track[pos++];
    if ((status & 0xf0) == 0xc0) {
      pos += 1;
      continue;
    }
    int pitch = static_cast<unsigned char>(track[pos]);
    int velocity = static_cast<unsigned char>(track[pos + 1]);
    pos += 2;
    out.push_back({tick, pitch, velocity});
  }
  return out;
}

TEST(MidiWriter, GeneratedMelodyLayout) {
  // Two 16th notes at 120 qpm, 220 PPQ: the layout of melody_rnn_generate output.
  NoteSequence seq = Melody(220, 120.0);
  AddNote(&seq, 60, 0.0, 0.125);
  AddNote(&seq, 62, 0.25, 0.5);
  std::string expected =
      Bytes({'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 2, 0x00, 0xdc}) +
      Bytes({'M', 'T', 'r', 'k', 0, 0, 0, 0x13, 0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, 0x00,
             0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08, 0x01, 0xff, 0x2f, 0x00}) +
      Bytes({'M', 'T', 'r', 'k', 0, 0, 0, 0x14,
             0x00, 0xc0, 0x00,        // program change 0 at tick 0
             0x00, 0x90, 0x3c, 0x64,  // C4 on
             0x37, 0x3c, 0x00,        // 55 ticks later: off (running status)
             0x37, 0x3e, 0x64,        // tick 110: D4 on
             0x6e, 0x3e, 0x00,        // tick 220: off
             0x01, 0xff, 0x2f, 0x00}); // end of track at 221
  std::string actual = NoteSequenceToMidi(seq);
  EXPECT_EQ(Hex(actual), Hex(expected));
}

TEST(MidiWriter, TempoGoesThroughPrettyMidisFloatRoundTrip) {
  struct Case {
    double qpm;
    int ppq;
    uint32_t us;
  };
  // 128 and 64 qpm at 220 PPQ lose one microsecond in the float64 round trip.
  for (const Case& c : {Case{128, 220, 468749}, Case{64, 220, 937499}, Case{120, 220, 500000},
                        Case{90, 480, 666666}}) {
    std::string file = NoteSequenceToMidi(Melody(c.ppq, c.qpm));
    Chunks chunks = SplitChunks(file);
    ASSERT_EQ(chunks.tracks.size(), 2u);
    const std::string& t0 = chunks.tracks[0];
    ASSERT_EQ(t0.substr(0, 4), Bytes({0x00, 0xff, 0x51, 0x03})) << c.qpm;
    uint32_t us = (static_cast<unsigned char>(t0[4]) << 16) |
                  (static_cast<unsigned char>(t0[5]) << 8) | static_cast<unsigned char>(t0[6]);
    EXPECT_EQ(us, c.us) << c.qpm << " qpm at " << c.ppq;
  }
}

TEST(MidiWriter, SingleTempoRoundsHalfToEven) {
  // 60 qpm at 1024 PPQ: one tick is exactly 1/1024 s, so k.5 ticks are exact ties.
  NoteSequence seq = Melody(1024, 60.0);
  AddNote(&seq, 60, 2.5 / 1024, 3.5 / 1024);    // ticks 2 and 4
  AddNote(&seq, 64, 10.5 / 1024, 11.4 / 1024);  // ticks 10 and 11
  std::vector<NoteEvent> events = NoteEvents(SplitChunks(NoteSequenceToMidi(seq)).tracks[1]);
  std::vector<NoteEvent> expected = {{2, 60, 100}, {4, 60, 0}, {10, 64, 100}, {11, 64, 0}};
  EXPECT_EQ(events, expected);
}

TEST(MidiWriter, TempoChangesUseNearestTableEntryWithTiesToLaterTick) {
  // 60 qpm, then 120 qpm from 1 s (tick 1024). Inside the table (ticks 0..1024) a tie goes
  // to the later tick; past its end the last tempo extrapolates and rounds half to even.
  NoteSequence seq = Melody(1024, 60.0);
  auto* change = seq.add_tempos();
  change->set_time(1.0);
  change->set_qpm(120.0);
  AddNote(&seq, 60, 2.5 / 1024, 1.0 + 2.5 / 2048);  // ticks 3 and 1026
  AddNote(&seq, 62, 1.0 + 3.5 / 2048, 2.0);         // ticks 1028 and 3072
  std::string file = NoteSequenceToMidi(seq);
  Chunks chunks = SplitChunks(file);
  ASSERT_EQ(chunks.tracks.size(), 2u);
  // Track 0: 4/4 and 60 qpm at tick 0 (tempo first), 120 qpm at tick 1024.
  std::string expected_t0 = Bytes({0x00, 0xff, 0x51, 0x03, 0x0f, 0x42, 0x40,  // 1000000 us
                                   0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08,
                                   0x88, 0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,  // +1024
                                   0x01, 0xff, 0x2f, 0x00});
  EXPECT_EQ(Hex(chunks.tracks[0]), Hex(expected_t0));
  std::vector<NoteEvent> expected = {{3, 60, 100}, {1026, 60, 0}, {1028, 62, 100}, {3072, 62, 0}};
  EXPECT_EQ(NoteEvents(chunks.tracks[1]), expected);
}

TEST(MidiWriter, RepeatedNoteEndsBeforeItRestartsAndKeysSortAscending) {
  NoteSequence seq = Melody(220, 120.0);
  AddNote(&seq, 67, 0.0, 0.5);   // ends at tick 220 ...
  AddNote(&seq, 67, 0.5, 1.0);   // ... where the same pitch restarts
  AddNote(&seq, 72, 0.0, 0.5);   // a higher key ending at 220
  AddNote(&seq, 60, 0.5, 1.0);   // a lower key starting at 220
  std::vector<NoteEvent> events = NoteEvents(SplitChunks(NoteSequenceToMidi(seq)).tracks[1]);
  std::vector<NoteEvent> expected = {{0, 67, 100},   {0, 72, 100},   {220, 60, 100},
                                     {220, 67, 0},   {220, 67, 100}, {220, 72, 0},
                                     {440, 60, 0},   {440, 67, 0}};
  EXPECT_EQ(events, expected);
}

TEST(MidiWriter, SignaturesAndDefaultTimeSignature) {
  NoteSequence seq = Melody(220, 120.0);
  auto* ts = seq.add_time_signatures();
  ts->set_time(0.0);
  ts->set_numerator(3);
  ts->set_denominator(8);
  auto* ks = seq.add_key_signatures();
  ks->set_time(0.0);
  ks->set_key(NoteSequence::KeySignature::D_FLAT);  // D flat major: 5 flats
  auto* ks2 = seq.add_key_signatures();
  ks2->set_time(1.0);
  ks2->set_key(NoteSequence::KeySignature::A);  // A minor: no sharps
  ks2->set_mode(NoteSequence::KeySignature::MINOR);
  auto* ks3 = seq.add_key_signatures();
  ks3->set_time(1.0);
  ks3->set_key(NoteSequence::KeySignature::F_SHARP);
  ks3->set_mode(NoteSequence::KeySignature::DORIAN);  // written as major: F# = 6 sharps
  std::string t0 = SplitChunks(NoteSequenceToMidi(seq)).tracks[0];
  // No default 4/4 because a time signature sits at time 0; tempo, time signature, key
  // signature at tick 0; both key signatures at tick 440 in sequence order.
  std::string expected = Bytes({0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,
                                0x00, 0xff, 0x58, 0x04, 0x03, 0x03, 0x18, 0x08,
                                0x00, 0xff, 0x59, 0x02, 0xfb, 0x00,
                                0x83, 0x38, 0xff, 0x59, 0x02, 0x00, 0x01,
                                0x00, 0xff, 0x59, 0x02, 0x06, 0x00,
                                0x01, 0xff, 0x2f, 0x00});
  EXPECT_EQ(Hex(t0), Hex(expected));

  // A time signature that starts later does not suppress the default 4/4 at tick 0.
  seq.mutable_time_signatures(0)->set_time(0.5);
  seq.clear_key_signatures();
  t0 = SplitChunks(NoteSequenceToMidi(seq)).tracks[0];
  expected = Bytes({0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20,
                    0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08,
                    0x81, 0x5c, 0xff, 0x58, 0x04, 0x03, 0x03, 0x18, 0x08,
                    0x01, 0xff, 0x2f, 0x00});
  EXPECT_EQ(Hex(t0), Hex(expected));
}

TEST(MidiWriter, InstrumentsGetTracksChannelsProgramsAndNames) {
  NoteSequence seq = Melody(220, 120.0);
  // Instruments 1..10 (program = instrument) plus a drum instrument 11.
  for (int i = 1; i <= 10; ++i) AddNote(&seq, 60, 0.0, 0.5, 90, i, i);
  AddNote(&seq, 36, 0.0, 0.5, 80, 11, 0, true);
  auto* info = seq.add_instrument_infos();
  info->set_instrument(2);
  info->set_name("Cl\xc3\xa9");  // "Clé" in UTF-8, written as latin-1
  Chunks chunks = SplitChunks(NoteSequenceToMidi(seq));
  // Track 0, the (empty) instrument 0, instruments 1..11.
  ASSERT_EQ(chunks.tracks.size(), 13u);
  EXPECT_EQ(Hex(chunks.header), Hex(Bytes({0, 1, 0, 13, 0, 220})));
  EXPECT_EQ(Hex(chunks.tracks[1]), Hex(Bytes({0x00, 0xc0, 0x00, 0x01, 0xff, 0x2f, 0x00})));
  EXPECT_EQ(Hex(chunks.tracks[3].substr(0, 9)),
            Hex(Bytes({0x00, 0xff, 0x03, 0x03, 'C', 'l', 0xe9, 0x00, 0xc2})));  // then program change, channel 2
  // Position n -> channel [0..8, 10..15][n % 15]; position 9 skips channel 9.
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[2][1]), 0xc1);
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[2][2]), 1);  // program 1
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[9][1]), 0xc8);
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[10][1]), 0xca);
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[11][1]), 0xcb);
  EXPECT_EQ(static_cast<unsigned char>(chunks.tracks[12][1]), 0xc9);  // drums
}

TEST(MidiWriter, ControlChangesAndPitchBendsSortBeforeNotesOnATick) {
  NoteSequence seq = Melody(220, 120.0);
  AddNote(&seq, 60, 0.0, 0.5);
  auto* cc = seq.add_control_changes();
  cc->set_time(0.0);
  cc->set_control_number(7);
  cc->set_control_value(100);
  auto* bend = seq.add_pitch_bends();
  bend->set_time(0.0);
  bend->set_bend(-8192);
  std::string track = SplitChunks(NoteSequenceToMidi(seq)).tracks[1];
  std::string expected = Bytes({0x00, 0xc0, 0x00,
                                0x00, 0xe0, 0x00, 0x00,  // bend -8192 -> raw 0
                                0x00, 0xb0, 0x07, 0x64,
                                0x00, 0x90, 0x3c, 0x64,
                                0x81, 0x5c, 0x3c, 0x00,  // tick 220 = 0xdc
                                0x01, 0xff, 0x2f, 0x00});
  EXPECT_EQ(Hex(track), Hex(expected));
}

TEST(MidiWriter, DefaultsForEmptySequence) {
  // ticks_per_quarter 0 is written at 220; no tempo means 120 qpm.
  NoteSequence seq;
  std::string file = NoteSequenceToMidi(seq);
  Chunks chunks = SplitChunks(file);
  EXPECT_EQ(Hex(chunks.header), Hex(Bytes({0, 1, 0, 2, 0, 220})));
  EXPECT_EQ(Hex(chunks.tracks[0].substr(0, 7)), Hex(Bytes({0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20})));
}

TEST(MidiWriter, RejectsWhatMidiCannotHold) {
  auto expect_error = [](const NoteSequence& seq, const std::string& fragment) {
    try {
      NoteSequenceToMidi(seq);
      ADD_FAILURE() << "no error; expected one mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  NoteSequence seq = Melody(220, 120.0);
  AddNote(&seq, 128, 0.0, 1.0);
  expect_error(seq, "pitch 128");

  seq = Melody(220, 120.0);
  AddNote(&seq, 60, 0.0, std::numeric_limits<double>::infinity());
  expect_error(seq, "not finite");

  seq = Melody(220, 120.0);
  auto* ts = seq.add_time_signatures();
  ts->set_numerator(4);
  ts->set_denominator(3);
  expect_error(seq, "power of 2");

  seq = Melody(220, 0.0);
  expect_error(seq, "qpm");

  seq = Melody(220, 120.0);
  auto* late = seq.add_tempos();
  late->set_time(2.0);
  late->set_qpm(90);
  auto* early = seq.add_tempos();
  early->set_time(1.0);
  early->set_qpm(100);
  expect_error(seq, "time order");
}

// ---- Magenta-written files: read, write back, compare -------------------------------

std::vector<std::string> MidiFilesIn(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".mid") out.push_back(JoinPath(dir, name));
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// 2017's pretty_midi wrote the time signature before the tempo in track 0 (formats.md
// §10); ours writes the current order. Readers do not care; swap them to compare bytes.
std::string SwapTimeSignatureAndTempo2017(const std::string& file) {
  const std::string ts = Bytes({0x00, 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08});
  size_t track0 = 14 + 8;  // after MThd (14 bytes) and the first MTrk header
  if (file.compare(track0, ts.size(), ts) != 0) return file;
  std::string tempo = file.substr(track0 + ts.size(), 7);
  if (tempo.substr(0, 4) != Bytes({0x00, 0xff, 0x51, 0x03})) return file;
  std::string out = file;
  out.replace(track0, ts.size() + tempo.size(), tempo + ts);
  return out;
}

void ExpectRoundTrip(const std::string& path, bool swap_2017_order, int* reproduced) {
  std::string original = ReadFileToString(path);
  std::string expected = swap_2017_order ? SwapTimeSignatureAndTempo2017(original) : original;
  if (swap_2017_order) {
    ASSERT_NE(expected, original) << path << ": not in the 2017 layout";
  }
  NoteSequence seq = MidiToNoteSequence(original);
  std::string written = NoteSequenceToMidi(seq);
  EXPECT_EQ(Hex(written), Hex(expected)) << path;
  if (written == expected) ++*reproduced;
}

TEST(MidiWriter, Reproduces2019GeneratedFilesByteForByte) {
  MELODY_REQUIRE_SHARED("data/compat/attention_rnn_pipeline_2019/generated_midi");
  auto files = MidiFilesIn(testing::SharedPath("data/compat/attention_rnn_pipeline_2019/generated_midi"));
  ASSERT_EQ(files.size(), 20u);
  int reproduced = 0;
  for (const auto& path : files) ExpectRoundTrip(path, false, &reproduced);
  EXPECT_EQ(reproduced, 20);
  std::cout << "2019 generated MIDI reproduced: " << reproduced << " of " << files.size() << "\n";
}

TEST(MidiWriter, Reproduces2017GeneratedFilesWithTrackZeroSwapped) {
  MELODY_REQUIRE_SHARED("data/compat/midi_written_by_magenta/attention_rnn_2017");
  auto files = MidiFilesIn(testing::SharedPath("data/compat/midi_written_by_magenta/attention_rnn_2017"));
  ASSERT_EQ(files.size(), 5u);
  int reproduced = 0;
  for (const auto& path : files) ExpectRoundTrip(path, true, &reproduced);
  EXPECT_EQ(reproduced, 5);
  std::cout << "2017 generated MIDI reproduced: " << reproduced << " of " << files.size() << "\n";
}


// ---- read -> write -> read on files Magenta did not write ----------------------------

// What survives a write and a second read: notes (as a multiset: the writer regroups
// instruments), tempos and key signatures; time signatures gain the default 4/4 when
// none sits at time 0. Times are equal except where pretty_midi's tempo round trip
// truncates a tempo by a microsecond (e.g. 461538 us at 384 PPQ is written as 461537),
// which scales later times by at most 1 part in 10^5.
struct NoteKey {
  int pitch, velocity, program;
  bool is_drum;
  double start, end;
  bool operator<(const NoteKey& o) const {
    return std::tie(pitch, velocity, program, is_drum, start, end) <
           std::tie(o.pitch, o.velocity, o.program, o.is_drum, o.start, o.end);
  }
};

std::vector<NoteKey> SortedNotes(const NoteSequence& seq) {
  std::vector<NoteKey> notes;
  for (const auto& n : seq.notes())
    notes.push_back({n.pitch(), n.velocity(), n.program(), n.is_drum(), n.start_time(), n.end_time()});
  std::sort(notes.begin(), notes.end());
  return notes;
}

void ExpectNearTime(double actual, double expected, const std::string& what) {
  EXPECT_LE(std::fabs(actual - expected), 1e-5 * std::max(1.0, std::fabs(expected)))
      << what << ": " << actual << " vs " << expected;
}

void ExpectSurvivesWriteAndRead(const std::string& path) {
  NoteSequence original;
  try {
    original = MidiToNoteSequence(ReadFileToString(path));
  } catch (const MidiConversionError&) {
    return;  // files the reader rejects are covered by the reader's tests
  }
  NoteSequence again = MidiToNoteSequence(NoteSequenceToMidi(original));
  EXPECT_EQ(again.ticks_per_quarter(), original.ticks_per_quarter()) << path;
  std::vector<NoteKey> a = SortedNotes(again), o = SortedNotes(original);
  ASSERT_EQ(a.size(), o.size()) << path;
  for (size_t i = 0; i < o.size(); ++i) {
    EXPECT_EQ(std::tie(a[i].pitch, a[i].velocity, a[i].program, a[i].is_drum),
              std::tie(o[i].pitch, o[i].velocity, o[i].program, o[i].is_drum))
        << path << " note " << i;
    ExpectNearTime(a[i].start, o[i].start, path + " note start");
    ExpectNearTime(a[i].end, o[i].end, path + " note end");
  }
  ASSERT_EQ(again.tempos_size(), original.tempos_size()) << path;
  for (int i = 0; i < original.tempos_size(); ++i) {
    ExpectNearTime(again.tempos(i).time(), original.tempos(i).time(), path + " tempo time");
    // Within one microsecond per quarter.
    EXPECT_LE(std::fabs(6e7 / again.tempos(i).qpm() - 6e7 / original.tempos(i).qpm()), 1.0 + 1e-6)
        << path;
  }
  ASSERT_EQ(again.key_signatures_size(), original.key_signatures_size()) << path;
  for (int i = 0; i < original.key_signatures_size(); ++i) {
    ExpectNearTime(again.key_signatures(i).time(), original.key_signatures(i).time(), path);
    EXPECT_EQ(again.key_signatures(i).key(), original.key_signatures(i).key()) << path;
    EXPECT_EQ(again.key_signatures(i).mode(), original.key_signatures(i).mode()) << path;
  }
  bool has_ts_at_zero = false;
  for (const auto& ts : original.time_signatures()) has_ts_at_zero |= ts.time() <= 0;
  int offset = has_ts_at_zero ? 0 : 1;
  ASSERT_EQ(again.time_signatures_size(), original.time_signatures_size() + offset) << path;
  for (int i = 0; i < original.time_signatures_size(); ++i) {
    const auto& at = again.time_signatures(i + offset);
    const auto& ot = original.time_signatures(i);
    ExpectNearTime(at.time(), ot.time(), path + " time signature");
    EXPECT_EQ(at.numerator(), ot.numerator()) << path;
    EXPECT_EQ(at.denominator(), ot.denominator()) << path;
  }
}

TEST(MidiWriter, ReadWriteReadKeepsMusicOfTestEdgeAndNottinghamFiles) {
  MELODY_REQUIRE_SHARED("data/testmidi");
  MELODY_REQUIRE_SHARED("data/nottingham");
  MELODY_REQUIRE_SHARED("golden/midi/edge");
  std::vector<std::string> files;
  for (const char* dir : {"data/testmidi", "golden/midi/edge", "data/nottingham"}) {
    auto more = MidiFilesIn(testing::SharedPath(dir));
    files.insert(files.end(), more.begin(), more.end());
  }
  ASSERT_GT(files.size(), 1000u);
  for (const auto& path : files) ExpectSurvivesWriteAndRead(path);
}

}  // namespace
}  // namespace melody
