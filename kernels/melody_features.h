// Model input features computed from melody event ids on the device that trains, so that
// a batch travels as ints (gpu-design.md §4): the lookback encoding of lookback_rnn and the
// key-melody encoding of attention_rnn (shared/spec/encodings.md §6, §7), identical to the
// encoders in data/melody_encoder.h (which the tests compare against, with the golden
// vectors).
//
// events [B, T] int32: event ids (-2 no event, -1 note off, 0..127 note on), padded;
// lengths [B] int32 (on the CPU or ctx.device()), each in [0, T].
// features [B, T, F] float32 on ctx.device(), overwritten: row (b, t) for t < len[b] is the
// encoder's input of position t of sequence b (which depends on events[b, 0..t]); rows
// t >= len[b] are zero. An event the encoder cannot represent throws melody::Error naming
// the sequence and the position.
#pragma once

#include <cstdint>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// F = 3·(max_note − min_note + 2) + 5 + 2 (121 for [48, 84)).
int LookbackFeatureSize(int min_note, int max_note);
// F = (max_note − min_note) + 38 (74 for [48, 84)).
int KeyMelodyFeatureSize(int min_note, int max_note);

void LookbackFeatures(Context& ctx, const Tensor& events, const Tensor& lengths, int min_note,
                      int max_note, Tensor* features);
void KeyMelodyFeatures(Context& ctx, const Tensor& events, const Tensor& lengths,
                       int min_note, int max_note, Tensor* features);

// The twins the dispatcher (kernels/melody_features.cc) calls with checked arguments and
// the checked host lengths. Both run the per-position / per-sequence scans of
// kernels/internal/melody_features_scan.h and return, per sequence, the first position
// whose event could not be encoded (-1 if none); the dispatcher turns that into the error.
// There is no reference:: twin here: the reference is the encoders of data/melody_encoder.h,
// which the tests compare against (with the golden vectors).
namespace cpu {  // kernels/cpu/melody_features.cc: sequences split over threads
std::vector<int> LookbackFeatures(Context& ctx, const Tensor& events,
                                  const std::vector<int32_t>& lengths, int min_note,
                                  int max_note, Tensor* features);
std::vector<int> KeyMelodyFeatures(Context& ctx, const Tensor& events,
                                   const std::vector<int32_t>& lengths, int min_note,
                                   int max_note, Tensor* features);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/melody_features.cu: one thread per position / sequence
std::vector<int> LookbackFeatures(Context& ctx, const Tensor& events,
                                  const std::vector<int32_t>& lengths, int min_note,
                                  int max_note, Tensor* features);
std::vector<int> KeyMelodyFeatures(Context& ctx, const Tensor& events,
                                   const std::vector<int32_t>& lengths, int min_note,
                                   int max_note, Tensor* features);
}  // namespace cuda
#endif

}  // namespace melody
