#include "data/melody_encoder.h"

#include <algorithm>

#include "core/error.h"
#include "data/melody_lookback.h"
#include "data/melody_squash.h"

namespace melody {

void MelodyEncoder::EncodeInputRows(const std::vector<int>& events, size_t count,
                                    float* rows) const {
  const size_t width = static_cast<size_t>(input_size());
  for (size_t i = 0; i < count; ++i) EncodeInput(events, i, rows + i * width);
}

EncodedMelody MelodyEncoder::Encode(const std::vector<int>& events) const {
  EncodedMelody out;
  EncodeInto(events, &out);
  return out;
}

void MelodyEncoder::EncodeInto(const std::vector<int>& events, EncodedMelody* out) const {
  out->input_size = input_size();
  const size_t steps = events.size() < 2 ? 0 : events.size() - 1;
  out->inputs.resize(steps * static_cast<size_t>(out->input_size));
  out->labels.resize(steps);
  if (steps == 0) return;
  EncodeInputRows(events, steps, out->inputs.data());
  for (size_t i = 0; i < steps; ++i) out->labels[i] = Label(events, i + 1);
}

std::vector<float> MelodyEncoder::InputsForAllPositions(const std::vector<int>& events) const {
  std::vector<float> rows(events.size() * static_cast<size_t>(input_size()));
  EncodeInputRows(events, events.size(), rows.data());
  return rows;
}

std::vector<float> MelodyEncoder::InputsForLastPosition(const std::vector<int>& events) const {
  MELODY_REQUIRE(!events.empty()) << "cannot encode the last position of an empty melody";
  std::vector<float> row(static_cast<size_t>(input_size()));
  EncodeInput(events, events.size() - 1, row.data());
  return row;
}

namespace {

// Event <-> class of the one-hot melody encoding over [min_note, max_note).
class OneHotClasses {
 public:
  OneHotClasses(int min_note, int max_note) : min_note_(min_note), max_note_(max_note) {}
  int size() const { return max_note_ - min_note_ + 2; }
  int ClassOf(int event) const {
    if (event == kMelodyNoEvent) return 0;
    if (event == kMelodyNoteOff) return 1;
    MELODY_REQUIRE(event >= min_note_ && event < max_note_)
        << "melody event " << event << " cannot be encoded: outside the note range ["
        << min_note_ << ", " << max_note_ << ")";
    return event - min_note_ + 2;
  }
  int EventOf(int class_index) const {
    MELODY_REQUIRE(class_index >= 0 && class_index < size())
        << "class index " << class_index << " outside 0.." << size() - 1;
    return class_index < 2 ? class_index - 2 : class_index - 2 + min_note_;
  }

 private:
  int min_note_;
  int max_note_;
};

class OneHotMelodyEncoder : public MelodyEncoder {
 public:
  OneHotMelodyEncoder(int min_note, int max_note) : classes_(min_note, max_note) {}
  int input_size() const override { return classes_.size(); }
  int num_classes() const override { return classes_.size(); }
  int default_event_label() const override { return 0; }
  void EncodeInput(const std::vector<int>& events, size_t i, float* row) const override {
    std::fill(row, row + classes_.size(), 0.0f);
    row[classes_.ClassOf(events.at(i))] = 1.0f;
  }
  int Label(const std::vector<int>& events, size_t i) const override {
    return classes_.ClassOf(events.at(i));
  }
  int ClassToEvent(int class_index, const std::vector<int>&) const override {
    return classes_.EventOf(class_index);
  }

 private:
  OneHotClasses classes_;
};

constexpr int kLookbackCounterBits = 5;
using lookback::kNumDistances;
using lookback::kDistances;
using lookback::RepeatsAt;

class LookbackMelodyEncoder : public MelodyEncoder {
 public:
  LookbackMelodyEncoder(int min_note, int max_note) : classes_(min_note, max_note) {}
  int input_size() const override {
    const int n = classes_.size();
    return n + kNumDistances * n + kLookbackCounterBits + kNumDistances;
  }
  int num_classes() const override { return classes_.size() + kNumDistances; }
  int default_event_label() const override { return 0; }

  void EncodeInput(const std::vector<int>& events, size_t i, float* row) const override {
    const int n = classes_.size();
    std::fill(row, row + input_size(), 0.0f);
    row[classes_.ClassOf(events.at(i))] = 1.0f;
    // The event that followed the one a lookback distance ago ("repeat the bar").
    for (int k = 0; k < kNumDistances; ++k) {
      const long source = static_cast<long>(i) - kDistances[k] + 1;
      const int cls = source >= 0 ? classes_.ClassOf(events[source]) : 0;
      row[n * (k + 1) + cls] = 1.0f;
    }
    const int counter_at = n * (kNumDistances + 1);
    lookback::WriteCounterBits(i + 1, kLookbackCounterBits, row + counter_at);
    for (int k = 0; k < kNumDistances; ++k)
      if (RepeatsAt(events, i, kDistances[k])) row[counter_at + kLookbackCounterBits + k] = 1.0f;
  }

  int Label(const std::vector<int>& events, size_t i) const override {
    const int n = classes_.size();
    const int e = events.at(i);
    if (i < static_cast<size_t>(kDistances[kNumDistances - 1]) && e == kMelodyNoEvent)
      return n + kNumDistances - 1;
    for (int k = kNumDistances - 1; k >= 0; --k)
      if (RepeatsAt(events, i, kDistances[k])) return n + k;
    return classes_.ClassOf(e);
  }

  int ClassToEvent(int class_index, const std::vector<int>& events) const override {
    const int n = classes_.size();
    MELODY_REQUIRE(class_index >= 0 && class_index < num_classes())
        << "class index " << class_index << " outside 0.." << num_classes() - 1;
    if (class_index >= n) return lookback::RepeatedEvent(events, kDistances[class_index - n]);
    return classes_.EventOf(class_index);
  }

 private:
  OneHotClasses classes_;
};

}  // namespace

std::unique_ptr<MelodyEncoder> MakeOneHotMelodyEncoder(int min_note, int max_note) {
  return std::make_unique<OneHotMelodyEncoder>(min_note, max_note);
}

std::unique_ptr<MelodyEncoder> MakeLookbackMelodyEncoder(int min_note, int max_note) {
  return std::make_unique<LookbackMelodyEncoder>(min_note, max_note);
}

}  // namespace melody
