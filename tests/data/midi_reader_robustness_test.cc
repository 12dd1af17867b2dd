// Robustness of the MIDI reader: 120,000 deterministic mutations (bit flips, byte inserts
// and deletes, truncation, splices of two files, huge variable-length quantities and chunk
// lengths) of real and hand-made MIDI files must each give a NoteSequence or a
// MidiConversionError: no crash, no other exception, no runaway allocation. The libFuzzer
// targets in fuzz/ explore further; this test keeps a fixed-seed slice of that in CI.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "data/midi_reader.h"
#include "tests/data/midi_bytes.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using testing::Bytes;
using testing::EndOfTrack;
using testing::Header;
using testing::Track;
using testing::Vlq;

constexpr int kMutations = 120000;

// splitmix64: small, fast and fully determined by its seed on every platform.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0.
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

// Hand-made files so the test exercises the parser without shared/: running status,
// sysex, meta events, several tracks, tempo and key changes, drums, bends and controls.
std::vector<std::string> EmbeddedMidiFiles() {
  std::vector<std::string> files;
  files.push_back(testing::SmallValidMidi());
  std::string format0 =
      Bytes({0x00, 0xff, 0x03, 0x03, 'P', 0xe9, 'n', 0x00, 0xff, 0x51, 0x03, 0x06, 0x1a, 0x80,
             0x00, 0xff, 0x59, 0x02, 0xfd, 0x01, 0x00, 0xf0, 0x05, 0x7e, 0x7f, 0x09, 0x01, 0xf7,
             0x00, 0xc1, 0x18, 0x00, 0x91, 0x40, 0x50, 0x00, 0x99, 0x24, 0x64, 0x60, 0x40, 0x00,
             0x00, 0x89, 0x24, 0x00, 0x00, 0xe1, 0x10, 0x40, 0x30, 0xb1, 0x40, 0x7f, 0x00, 0xff,
             0x51, 0x03, 0x0f, 0x42, 0x40, 0x81, 0x00, 0x91, 0x43, 0x60, 0x20, 0x81, 0x43, 0x00,
             0x00, 0xff, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08, 0x00, 0xff, 0x06, 0x02, 'A', 'B',
             0x00, 0xf7, 0x02, 0x43, 0x12, 0x00, 0xf8, 0x00, 0xfe}) +
      EndOfTrack();
  files.push_back(Header(0, 1, 96) + Track(format0));
  std::string conductor = Bytes({0x00, 0xff, 0x58, 0x04, 0x06, 0x03, 0x18, 0x08, 0x00, 0xff,
                                 0x51, 0x03, 0x07, 0xa1, 0x20, 0x83, 0x00, 0xff, 0x51, 0x03,
                                 0x0a, 0x2c, 0x2b, 0x00, 0xff, 0x59, 0x02, 0x02, 0x00}) +
                          EndOfTrack();
  std::string voice = Bytes({0x00, 0xff, 0x03, 0x02, 'V', '1'});
  for (int i = 0; i < 24; ++i)
    voice += Bytes({0x00, 0x90, 0x30 + i, 0x40 + i, 0x60, 0x30 + i, 0x00});
  files.push_back(Header(1, 3, 384) + Track(conductor) + Track(voice + EndOfTrack()) +
                  Track(Bytes({0x00, 0xc2, 0x49, 0x00, 0xb2, 0x07, 0x64, 0x00, 0x92, 0x48,
                               0x40, 0x83, 0x00, 0x82, 0x48, 0x00}) + EndOfTrack()));
  return files;
}

std::vector<std::string> SharedMidiFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"data/testmidi", "golden/midi/edge", "data/nottingham"}) {
    std::string path = testing::SharedPath(dir);
    std::vector<std::string> names;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > 4 && name.substr(name.size() - 4) == ".mid") names.push_back(name);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());  // directory order must not change the test
    for (const auto& name : names) files.push_back(ReadFileToString(path + "/" + name));
  }
  return files;
}

// Values that sit on parser boundaries: status bytes, VLQ continuation, 0x7f/0x80.
const uint8_t kInterestingBytes[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, 0xf0, 0xf7, 0xf1,
                                     0xf4, 0x90, 0x80, 0xb0, 0xc0, 0xe0, 0x51, 0x58, 0x59,
                                     0x03, 0x2f, 0x54, 0x20};

std::string Mutate(const std::vector<std::string>& pool, Random* rng) {
  std::string data = pool[rng->Below(pool.size())];
  // Mostly one mutation, so that many inputs stay close to valid and reach the converter.
  int rounds = rng->Below(4) == 0 ? 2 + static_cast<int>(rng->Below(2)) : 1;
  for (int r = 0; r < rounds; ++r) {
    size_t size = data.size();
    size_t at = size == 0 ? 0 : rng->Below(size);
    switch (rng->Below(9)) {
      case 0:  // flip one bit
        if (size) data[at] = static_cast<char>(data[at] ^ (1 << rng->Below(8)));
        break;
      case 1:  // overwrite with a boundary value
        if (size) data[at] = static_cast<char>(kInterestingBytes[rng->Below(sizeof kInterestingBytes)]);
        break;
      case 2:  // insert a byte
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at),
                    static_cast<char>(rng->Next() & 0xff));
        break;
      case 3:  // delete a run of bytes
        if (size) data.erase(at, 1 + rng->Below(std::min<size_t>(16, size - at)));
        break;
      case 4:  // truncate
        data.resize(at);
        break;
      case 5: {  // splice: our prefix + another file's suffix
        const std::string& other = pool[rng->Below(pool.size())];
        size_t from = other.empty() ? 0 : rng->Below(other.size());
        data = data.substr(0, at) + other.substr(from);
        break;
      }
      case 6: {  // insert a large variable-length quantity (delta time or length)
        static const uint64_t kLarge[] = {0x0fffffff, 10000000000ULL, 9999999999ULL, 1000000,
                                          1000001, uint64_t{1} << 40, ~uint64_t{0} >> 1};
        std::string vlq = Vlq(kLarge[rng->Below(sizeof kLarge / sizeof kLarge[0])]);
        data.insert(at, vlq);
        break;
      }
      case 7: {  // overwrite 4 bytes with a big-endian length (chunk lengths, tempos)
        static const uint32_t kLengths[] = {0, 1, 5, 6, 0x7fffffff, 0xffffffff, 0x00010000};
        std::string be = testing::BigEndian32(kLengths[rng->Below(sizeof kLengths / 4)]);
        for (size_t i = 0; i < 4 && at + i < data.size(); ++i) data[at + i] = be[i];
        break;
      }
      default: {  // duplicate a run of bytes in place (repeated events)
        size_t n = size == 0 ? 0 : 1 + rng->Below(std::min<size_t>(64, size - at));
        data.insert(at, data.substr(at, n));
        break;
      }
    }
  }
  return data;
}

// Properties every accepted file has, whatever its bytes.
void CheckInvariants(const magenta::NoteSequence& ns) {
  ASSERT_GE(ns.tempos_size(), 1);
  EXPECT_EQ(ns.tempos(0).time(), 0.0);
  for (const auto& note : ns.notes()) {
    ASSERT_GE(note.end_time(), note.start_time());
    ASSERT_TRUE(note.pitch() >= 0 && note.pitch() <= 127);
    ASSERT_TRUE(note.velocity() >= 1 && note.velocity() <= 127);
    ASSERT_TRUE(note.program() >= 0 && note.program() <= 127);
    ASSERT_LE(note.end_time(), ns.total_time());
  }
  for (const auto& info : ns.instrument_infos()) ASSERT_FALSE(info.name().empty());
}

struct Outcome {
  int accepted = 0;
  int rejected = 0;
};

void RunMutations(const std::vector<std::string>& pool, uint64_t seed, int count, Outcome* out) {
  Random rng(seed);
  for (int i = 0; i < count; ++i) {
    std::string input = Mutate(pool, &rng);
    try {
      magenta::NoteSequence ns = MidiToNoteSequence(input);
      ++out->accepted;
      CheckInvariants(ns);
      if (::testing::Test::HasFatalFailure()) {
        ADD_FAILURE() << "invariant broken by mutation " << i << " (seed " << seed << ")";
        return;
      }
    } catch (const MidiConversionError&) {
      ++out->rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutation " << i << " (seed " << seed
                    << ") threw something other than MidiConversionError: " << e.what();
      return;
    }
  }
}

TEST(MidiReaderRobustness, EmbeddedFilesConvertUnmutated) {
  for (const std::string& file : EmbeddedMidiFiles()) {
    magenta::NoteSequence ns = MidiToNoteSequence(file);
    EXPECT_GT(ns.notes_size(), 0);
    CheckInvariants(ns);
  }
}

TEST(MidiReaderRobustness, MutationsOfEmbeddedFiles) {
  Outcome outcome;
  RunMutations(EmbeddedMidiFiles(), 20240611, kMutations / 6, &outcome);
  std::printf("[ mutate   ] embedded: %d accepted, %d rejected\n", outcome.accepted,
              outcome.rejected);
  EXPECT_EQ(outcome.accepted + outcome.rejected, kMutations / 6);
  EXPECT_GT(outcome.accepted, 0);  // mutations must not all be trivially fatal
}

TEST(MidiReaderRobustness, MutationsOfSharedFiles) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  std::vector<std::string> pool = SharedMidiFiles();
  ASSERT_FALSE(pool.empty());
  for (const std::string& file : EmbeddedMidiFiles()) pool.push_back(file);
  Outcome outcome;
  const int count = kMutations - kMutations / 6;
  auto start = std::chrono::steady_clock::now();
  RunMutations(pool, 7, count, &outcome);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ mutate   ] %zu shared+embedded files: %d accepted, %d rejected in %.1f s\n",
              pool.size(), outcome.accepted, outcome.rejected, seconds);
  EXPECT_EQ(outcome.accepted + outcome.rejected, count);
  EXPECT_GT(outcome.accepted, 0);
  EXPECT_GT(outcome.rejected, 0);
}

}  // namespace
}  // namespace melody
