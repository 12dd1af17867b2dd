// Argument checks and dispatch of the melody feature ops (kernels/melody_features.h), and
// the error for an event that cannot be encoded.
#include "kernels/melody_features.h"

#include <vector>

#include "core/error.h"
#include "kernels/internal/melody_features_scan.h"
#include "kernels/op_checks.h"

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
  op_checks::CheckTensor(events, op, "events", {a.B, a.T}, DType::kInt32, ctx.device());
  op_checks::CheckOutput(features, op, "features", {a.B, a.T, a.F}, DType::kFloat32, ctx.device());
  a.lengths = op_checks::CheckedHostLengths(lengths, op, a.B, a.T, ctx.device());
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
  std::vector<int> bad;
  if (ctx.is_cpu()) {
    bad = cpu::LookbackFeatures(ctx, events, a.lengths, min_note, max_note, features);
  } else {
#if MELODY_HAVE_CUDA
    bad = cuda::LookbackFeatures(ctx, events, a.lengths, min_note, max_note, features);
#else
    op_checks::FailNoCuda(op, ctx);
#endif
  }
  ReportBadEvents(op, bad, events);
}

void KeyMelodyFeatures(Context& ctx, const Tensor& events, const Tensor& lengths,
                       int min_note, int max_note, Tensor* features) {
  const char* op = "KeyMelodyFeatures";
  const FeatureArgs a = CheckArgs(op, ctx, events, lengths, min_note, max_note,
                                  KeyMelodyFeatureSize(min_note, max_note), features);
  std::vector<int> bad;
  if (ctx.is_cpu()) {
    bad = cpu::KeyMelodyFeatures(ctx, events, a.lengths, min_note, max_note, features);
  } else {
#if MELODY_HAVE_CUDA
    bad = cuda::KeyMelodyFeatures(ctx, events, a.lengths, min_note, max_note, features);
#else
    op_checks::FailNoCuda(op, ctx);
#endif
  }
  ReportBadEvents(op, bad, events);
}

}  // namespace melody
