// Melody event lists -> model inputs (float rows) and labels (class indices), and class
// indices -> events at generation time (shared/spec/encodings.md §5-§9).
//
// The encoders work on plain event ids (-2 no event, -1 note off, 0..127 note on), so the
// same definitions serve dataset creation, generation and the device-side feature code
// that must reproduce them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace melody {

// inputs: num_steps rows of input_size floats, row-major; labels: num_steps classes.
struct EncodedMelody {
  int input_size = 0;
  std::vector<float> inputs;
  std::vector<int64_t> labels;
  size_t num_steps() const { return labels.size(); }
};

class MelodyEncoder {
 public:
  virtual ~MelodyEncoder() = default;

  virtual int input_size() const = 0;
  virtual int num_classes() const = 0;
  // The label of a no-event step without repetition (used by the metrics).
  virtual int default_event_label() const = 0;

  // Writes the input vector of position i (which may depend on events[0..i]) into
  // row[0 .. input_size). Throws melody::Error on an event the encoder cannot represent.
  virtual void EncodeInput(const std::vector<int>& events, size_t i, float* row) const = 0;
  // Rows of positions 0 .. count-1 into rows[count * input_size]. Encoders whose input
  // depends on the whole prefix override this with a single linear pass.
  virtual void EncodeInputRows(const std::vector<int>& events, size_t count,
                               float* rows) const;
  // Class index of events[i] given the events before it.
  virtual int Label(const std::vector<int>& events, size_t i) const = 0;
  // The event that class `class_index` stands for when appended after `events`.
  virtual int ClassToEvent(int class_index, const std::vector<int>& events) const = 0;

  // Training form of a melody of n events: n - 1 steps, inputs of positions 0..n-2 with
  // the labels of positions 1..n-1 (each input predicts the next event).
  EncodedMelody Encode(const std::vector<int>& events) const;
  // The same into *out, reusing its buffers (dataset creation encodes many melodies).
  void EncodeInto(const std::vector<int>& events, EncodedMelody* out) const;
  // Generation: the inputs of every position 0..n-1 (first step, whole primer) ...
  std::vector<float> InputsForAllPositions(const std::vector<int>& events) const;
  // ... and of the last position only (every following step).
  std::vector<float> InputsForLastPosition(const std::vector<int>& events) const;
};

// One-hot over [min_note, max_note): class 0 = no event, 1 = note off, 2 + p - min_note.
std::unique_ptr<MelodyEncoder> MakeOneHotMelodyEncoder(int min_note, int max_note);
// The lookback encoder over that one-hot encoding: lookbacks of 16 and 32 steps and 5
// binary counter bits (lookback_rnn).
std::unique_ptr<MelodyEncoder> MakeLookbackMelodyEncoder(int min_note, int max_note);
// The key-melody encoder (attention_rnn): lookbacks 16 and 32, 7 counter bits, key
// histograms of the prefix and of the last three distinct pitches.
std::unique_ptr<MelodyEncoder> MakeKeyMelodyEncoder(int min_note, int max_note);

}  // namespace melody
