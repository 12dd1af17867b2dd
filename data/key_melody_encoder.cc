// The key-melody encoder of attention_rnn (shared/spec/encodings.md §7).
//
// The reference rescans the prefix events[0..i] for every position (quadratic); here a
// scan state is advanced one event at a time, which gives identical vectors in linear time.
#include <algorithm>

#include "core/error.h"
#include "data/melody_encoder.h"
#include "data/melody_lookback.h"
#include "data/melody_squash.h"

namespace melody {
namespace {

constexpr int kCounterBits = 7;

// kTonicsOf[p] lists the tonics j whose major scale holds pitch class p (7 of them).
struct TonicTable {
  int tonics[12][7];
  TonicTable() {
    for (int p = 0; p < 12; ++p) {
      int n = 0;
      for (int j = 0; j < 12; ++j)
        if (InMajorScale(j, p)) tonics[p][n++] = j;
    }
  }
};
const TonicTable& Tonics() {
  static const TonicTable table;
  return table;
}

// What the prefix scan keeps (encodings.md §7).
class KeyMelodyScan {
 public:
  // Advances over one event. A note off before the first note on counts as a no event
  // (the melody cleanup of §1).
  void Advance(int e) {
    MELODY_REQUIRE(e >= kMelodyMinEvent && e <= kMelodyMaxEvent)
        << "melody event " << e << " is outside -2..127";
    if (e == kMelodyNoEvent || (e == kMelodyNoteOff && !seen_note_)) {
      attack_ = false;
    } else if (e == kMelodyNoteOff) {
      current_ = -1;  // the attack flag is left as it was
    } else {
      seen_note_ = true;
      attack_ = true;
      current_ = e;
      if (last3_count_ > 0) {
        const int newest = last3_[last3_count_ - 1];
        if (e > newest) ascending_ = 1;
        if (e < newest) ascending_ = -1;
      }
      int* end = last3_ + last3_count_;
      int* found = std::find(last3_, end, e);
      if (found != end) {
        std::copy(found + 1, end, found);
        --last3_count_;
      }
      if (last3_count_ == 3) {
        std::copy(last3_ + 1, last3_ + 3, last3_);
        --last3_count_;
      }
      last3_[last3_count_++] = e;
      for (int tonic : Tonics().tonics[e % 12]) ++key_histogram_[tonic];
    }
  }

  // Pitch 0 counts as silence: the reference tests the sounding pitch for truth.
  bool note_sounds() const { return current_ > 0; }
  int current() const { return current_; }
  bool attack() const { return attack_; }
  int ascending() const { return ascending_; }
  const PitchClassCounts& key_histogram() const { return key_histogram_; }
  PitchClassCounts last3_key_histogram() const {
    PitchClassCounts k{};
    for (int n = 0; n < last3_count_; ++n)
      for (int tonic : Tonics().tonics[last3_[n] % 12]) ++k[tonic];
    return k;
  }

 private:
  bool seen_note_ = false;
  int current_ = -1;
  bool attack_ = false;
  int ascending_ = 0;  // +1 ascending, -1 descending, 0 unknown
  int last3_[3] = {0, 0, 0};
  int last3_count_ = 0;
  PitchClassCounts key_histogram_{};
};

// 1.0 at every key whose histogram value equals the maximum.
void WriteMaxKeys(const PitchClassCounts& k, float* out) {
  const int top = *std::max_element(k.begin(), k.end());
  for (int j = 0; j < 12; ++j) out[j] = k[j] == top ? 1.0f : 0.0f;
}

class KeyMelodyEncoder : public MelodyEncoder {
 public:
  KeyMelodyEncoder(int min_note, int max_note)
      : min_note_(min_note), note_range_(max_note - min_note) {}

  // Layout: note one-hot, sounds, silent, attack, direction, lookback repeats, counter,
  // bar-end flag, prefix keys, last-3 keys.
  int input_size() const override {
    return note_range_ + 2 + 1 + 1 + lookback::kNumDistances + kCounterBits + 1 + 12 + 12;
  }
  int num_classes() const override { return note_range_ + 2 + lookback::kNumDistances; }
  int default_event_label() const override { return note_range_; }

  void EncodeInput(const std::vector<int>& events, size_t i, float* row) const override {
    MELODY_REQUIRE(i < events.size()) << "position " << i << " outside a melody of "
                                      << events.size() << " events";
    KeyMelodyScan scan;
    for (size_t k = 0; k <= i; ++k) scan.Advance(events[k]);
    WriteRow(events, i, scan, row);
  }

  void EncodeInputRows(const std::vector<int>& events, size_t count,
                       float* rows) const override {
    MELODY_REQUIRE(count <= events.size()) << "asked for " << count << " positions of a melody of "
                                           << events.size() << " events";
    KeyMelodyScan scan;
    const size_t width = static_cast<size_t>(input_size());
    for (size_t i = 0; i < count; ++i) {
      scan.Advance(events[i]);
      WriteRow(events, i, scan, rows + i * width);
    }
  }

  int Label(const std::vector<int>& events, size_t i) const override {
    const int e = events.at(i);
    if (i < static_cast<size_t>(lookback::kLongest) && e == kMelodyNoEvent)
      return note_range_ + 1 + lookback::kNumDistances;
    for (int k = lookback::kNumDistances - 1; k >= 0; --k)
      if (lookback::RepeatsAt(events, i, lookback::kDistances[k])) return note_range_ + 2 + k;
    if (e == kMelodyNoteOff) return note_range_ + 1;
    if (e == kMelodyNoEvent) return note_range_;
    return PitchIndex(e);
  }

  int ClassToEvent(int class_index, const std::vector<int>& events) const override {
    MELODY_REQUIRE(class_index >= 0 && class_index < num_classes())
        << "class index " << class_index << " outside 0.." << num_classes() - 1;
    if (class_index >= note_range_ + 2)
      return lookback::RepeatedEvent(events, lookback::kDistances[class_index - note_range_ - 2]);
    if (class_index == note_range_ + 1) return kMelodyNoteOff;
    if (class_index == note_range_) return kMelodyNoEvent;
    return min_note_ + class_index;
  }

 private:
  int PitchIndex(int pitch) const {
    MELODY_REQUIRE(pitch >= min_note_ && pitch < min_note_ + note_range_)
        << "melody event " << pitch << " cannot be encoded: outside the note range ["
        << min_note_ << ", " << min_note_ + note_range_ << ")";
    return pitch - min_note_;
  }

  void WriteRow(const std::vector<int>& events, size_t i, const KeyMelodyScan& scan,
                float* row) const {
    std::fill(row, row + input_size(), 0.0f);
    float* out = row;
    if (scan.note_sounds()) out[PitchIndex(scan.current())] = 1.0f;
    out += note_range_;
    out[0] = scan.note_sounds() ? 1.0f : 0.0f;
    out[1] = scan.note_sounds() ? 0.0f : 1.0f;
    out[2] = scan.attack() ? 1.0f : 0.0f;
    out[3] = static_cast<float>(scan.ascending());
    out += 4;
    for (int k = 0; k < lookback::kNumDistances; ++k)
      out[k] = lookback::RepeatsAt(events, i, lookback::kDistances[k]) ? 1.0f : 0.0f;
    out += lookback::kNumDistances;
    lookback::WriteCounterBits(i + 1, kCounterBits, out);
    out += kCounterBits;
    out[0] = (i + 1) % 16 == 0 ? 1.0f : 0.0f;  // the next step starts a 16-step bar
    out += 1;
    WriteMaxKeys(scan.key_histogram(), out);
    WriteMaxKeys(scan.last3_key_histogram(), out + 12);
  }

  int min_note_;
  int note_range_;
};

}  // namespace

std::unique_ptr<MelodyEncoder> MakeKeyMelodyEncoder(int min_note, int max_note) {
  return std::make_unique<KeyMelodyEncoder>(min_note, max_note);
}

}  // namespace melody
