// Fast CPU path of the melody feature ops (kernels/melody_features.h): the shared
// per-position / per-sequence loops of kernels/internal/melody_features_scan.h, split over
// sequences.
#include <algorithm>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/internal/melody_features_scan.h"
#include "kernels/melody_features.h"

namespace melody::cpu {

namespace mf = melody_features;

std::vector<int> LookbackFeatures(Context& ctx, const Tensor& events,
                                  const std::vector<int32_t>& lengths, int min_note,
                                  int max_note, Tensor* features) {
  const int64_t B = events.dim(0), T = events.dim(1), F = features->dim(2);
  std::vector<int> bad(B, -1);
  const int32_t* ev = events.data<int32_t>();
  float* out = features->data<float>();
  ParallelFor(ctx.num_threads(), B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* rows = out + b * T * F;
      std::fill(rows, rows + T * F, 0.0f);
      for (int i = 0; i < lengths[b]; ++i) {
        if (!mf::LookbackRow(ev + b * T, i, min_note, max_note, rows + i * F)) {
          bad[b] = i;
          break;
        }
      }
    }
  });
  return bad;
}

std::vector<int> KeyMelodyFeatures(Context& ctx, const Tensor& events,
                                   const std::vector<int32_t>& lengths, int min_note,
                                   int max_note, Tensor* features) {
  const int64_t B = events.dim(0), T = events.dim(1), F = features->dim(2);
  std::vector<int> bad(B, -1);
  const int32_t* ev = events.data<int32_t>();
  float* out = features->data<float>();
  ParallelFor(ctx.num_threads(), B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      bad[b] = mf::KeyMelodySequence(ev + b * T, lengths[b], static_cast<int>(T), min_note,
                                     max_note, out + b * T * F);
  });
  return bad;
}

}  // namespace melody::cpu
