// Checks and dispatch of the melody feature ops (kernels/melody_features.h), and their CPU
// path: the shared per-position / per-sequence loops of melody_features_scan.h, split over
// sequences.
#include "kernels/melody_features.h"

#include <algorithm>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/cuda/melody_features_cuda.h"
#include "kernels/internal/attention_checks.h"
#include "kernels/internal/melody_features_scan.h"

namespace melody {
namespace {

namespace mf = melody_features;

struct FeatureArgs {
  int64_t B = 0, T = 0, F = 0;
  std::vector<int32_t> lengths;
};

FeatureArgs CheckArgs(const char* op, Context& ctx, const Tensor& events,
                      const Tensor& lengths, int min_note, int max_note, int width,
                      const Tensor* features) {
  MELODY_REQUIRE(min_note >= 0 && max_note <= 128 && max_note - min_note >= 1)
      << op << ": note range [" << min_note << ", " << max_note << ") is not valid";
  MELODY_REQUIRE(events.defined() && events.rank() == 2) << op << ": events must be [B, T]";
  FeatureArgs a;
  a.B = events.dim(0);
  a.T = events.dim(1);
  a.F = width;
  attention_internal::RequireTensor(op, "events", events, {a.B, a.T}, DType::kInt32,
                                    ctx.device());
  attention_internal::RequireOutput(op, "features", features, {a.B, a.T, a.F},
                                    DType::kFloat32, ctx.device());
  MELODY_REQUIRE(lengths.defined() && lengths.shape() == Shape{a.B} &&
                 lengths.dtype() == DType::kInt32 &&
                 (lengths.device().is_cpu() || lengths.device() == ctx.device()))
      << op << ": lengths must be int32 [" << a.B << "] on the CPU or " << ctx.device().ToString();
  const Tensor host = lengths.device().is_cpu() ? lengths : lengths.CopyTo(Device::CPU());
  a.lengths.assign(host.data<int32_t>(), host.data<int32_t>() + a.B);
  for (int64_t b = 0; b < a.B; ++b)
    MELODY_REQUIRE(a.lengths[b] >= 0 && a.lengths[b] <= a.T)
        << op << ": lengths[" << b << "] = " << a.lengths[b] << " is outside [0, " << a.T << "]";
  return a;
}

[[noreturn]] void ThrowBadEvent(const char* op, int64_t b, int position, int event) {
  MELODY_FAIL() << op << ": sequence " << b << ", position " << position << ": event "
                << event << " cannot be encoded (outside -2..127 or the note range)";
}

// Per-sequence first bad position (-1 if none) -> Error for the first bad sequence.
void ReportBadEvents(const char* op, const std::vector<int>& bad, const Tensor& events) {
  for (size_t b = 0; b < bad.size(); ++b) {
    if (bad[b] < 0) continue;
    const Tensor host = events.device().is_cpu() ? events : events.CopyTo(Device::CPU());
    ThrowBadEvent(op, static_cast<int64_t>(b), bad[b],
                  host.data<int32_t>()[b * events.dim(1) + bad[b]]);
  }
}

}  // namespace

int LookbackFeatureSize(int min_note, int max_note) {
  return 3 * (max_note - min_note + 2) + mf::kLookbackCounterBits + 2;
}

int KeyMelodyFeatureSize(int min_note, int max_note) { return (max_note - min_note) + 38; }

void LookbackFeatures(Context& ctx, const Tensor& events, const Tensor& lengths, int min_note,
                      int max_note, Tensor* features) {
  const char* op = "LookbackFeatures";
  const FeatureArgs a = CheckArgs(op, ctx, events, lengths, min_note, max_note,
                                  LookbackFeatureSize(min_note, max_note), features);
  std::vector<int> bad(a.B, -1);
  if (ctx.is_cpu()) {
    const int32_t* ev = events.data<int32_t>();
    float* out = features->data<float>();
    ParallelFor(ctx.num_threads(), a.B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        float* rows = out + b * a.T * a.F;
        std::fill(rows, rows + a.T * a.F, 0.0f);
        for (int i = 0; i < a.lengths[b]; ++i) {
          if (!mf::LookbackRow(ev + b * a.T, i, min_note, max_note, rows + i * a.F)) {
            bad[b] = i;
            break;
          }
        }
      }
    });
  } else {
#if MELODY_HAVE_CUDA
    bad = cuda::LookbackFeatures(ctx, events, a.lengths, min_note, max_note, features);
#else
    MELODY_FAIL() << op << ": CUDA context but " << CudaUnavailableReason();
#endif
  }
  ReportBadEvents(op, bad, events);
}

void KeyMelodyFeatures(Context& ctx, const Tensor& events, const Tensor& lengths,
                       int min_note, int max_note, Tensor* features) {
  const char* op = "KeyMelodyFeatures";
  const FeatureArgs a = CheckArgs(op, ctx, events, lengths, min_note, max_note,
                                  KeyMelodyFeatureSize(min_note, max_note), features);
  std::vector<int> bad(a.B, -1);
  if (ctx.is_cpu()) {
    const int32_t* ev = events.data<int32_t>();
    float* out = features->data<float>();
    ParallelFor(ctx.num_threads(), a.B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        bad[b] = mf::KeyMelodySequence(ev + b * a.T, a.lengths[b], static_cast<int>(a.T),
                                       min_note, max_note, out + b * a.T * a.F);
    });
  } else {
#if MELODY_HAVE_CUDA
    bad = cuda::KeyMelodyFeatures(ctx, events, a.lengths, min_note, max_note, features);
#else
    MELODY_FAIL() << op << ": CUDA context but " << CudaUnavailableReason();
#endif
  }
  ReportBadEvents(op, bad, events);
}

}  // namespace melody
