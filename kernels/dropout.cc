// Constants, argument checks and dispatch for kernels/dropout.h.
#include "kernels/dropout.h"

#include "core/error.h"
#include "kernels/op_checks.h"

namespace melody {

DropoutConstants DropoutConstantsFor(double keep_prob) {
  MELODY_REQUIRE(keep_prob > 0.0 && keep_prob <= 1.0)
      << "dropout keep probability must be in (0, 1], got " << keep_prob;
  const double rate = 1.0 - keep_prob;
  DropoutConstants k;
  k.scale = static_cast<float>(1.0 / (1.0 - rate));
  k.threshold = static_cast<float>(rate);
  return k;
}

namespace {

// Runs `src` -> `dst` (same shape) through the mask of `view`, on ctx's device.
void Apply(Context& ctx, const char* op, const Tensor& src, const DropoutConfig& config,
           const internal::DropoutView& view, Tensor* dst) {
  const DropoutConstants k = DropoutConstantsFor(config.keep_prob);
  MELODY_REQUIRE(src.device() == ctx.device())
      << op << ": input lives on " << src.device().ToString() << ", context on "
      << ctx.device().ToString();
  op_checks::CheckOutput(dst, op, "output", src.shape(), DType::kFloat32, ctx.device());
  if (config.keep_prob == 1.0) {  // identity, no mask drawn
    if (dst->raw_data() != src.raw_data()) dst->CopyFrom(src);
    return;
  }
  if (ctx.is_cpu()) return cpu::DropoutApply(ctx, src.data<float>(), config, k, view, dst->data<float>());
#if MELODY_HAVE_CUDA
  cuda::DropoutApply(ctx, src.data<float>(), config, k, view, dst->data<float>());
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

// The Philox row stride: the sequence's own length unless the config fixes a longer one.
int64_t RowStride(const char* op, const DropoutConfig& config, int64_t time) {
  MELODY_REQUIRE(config.time_stride == 0 || config.time_stride >= time)
      << op << ": time_stride " << config.time_stride << " is shorter than the " << time
      << " steps of the sequence";
  return config.time_stride == 0 ? time : config.time_stride;
}

internal::DropoutView SequenceView(const char* op, const Tensor& x, const DropoutConfig& config) {
  op_checks::CheckRank(x, op, "x", 3, DType::kFloat32, x.device());
  return {x.dim(0), x.dim(1), x.dim(2), 0, RowStride(op, config, x.dim(1)), config.row_offset};
}

internal::DropoutView StepView(const char* op, const Tensor& x, const DropoutConfig& config,
                               int64_t t, int64_t time) {
  op_checks::CheckRank(x, op, "x", 2, DType::kFloat32, x.device());
  MELODY_REQUIRE(t >= 0 && t < time) << op << ": step " << t << " outside [0, " << time << ")";
  return {x.dim(0), 1, x.dim(1), t, RowStride(op, config, time), config.row_offset};
}

}  // namespace

void DropoutForward(Context& ctx, const Tensor& x, const DropoutConfig& config, Tensor* y) {
  Apply(ctx, "DropoutForward", x, config, SequenceView("DropoutForward", x, config), y);
}

void DropoutBackward(Context& ctx, const Tensor& dy, const DropoutConfig& config, Tensor* dx) {
  Apply(ctx, "DropoutBackward", dy, config, SequenceView("DropoutBackward", dy, config), dx);
}

void DropoutStepForward(Context& ctx, const Tensor& x, const DropoutConfig& config, int64_t t,
                        int64_t time, Tensor* y) {
  Apply(ctx, "DropoutStepForward", x, config, StepView("DropoutStepForward", x, config, t, time), y);
}

void DropoutStepBackward(Context& ctx, const Tensor& dy, const DropoutConfig& config,
                         int64_t t, int64_t time, Tensor* dx) {
  Apply(ctx, "DropoutStepBackward", dy, config, StepView("DropoutStepBackward", dy, config, t, time),
        dx);
}

void DropoutKeepMask(Context& ctx, const DropoutConfig& config, Tensor* mask) {
  const char* op = "DropoutKeepMask";
  MELODY_REQUIRE(mask != nullptr) << op << ": mask is null";
  const auto view = SequenceView(op, *mask, config);
  MELODY_REQUIRE(mask->device() == ctx.device()) << op << ": mask not on the context's device";
  const DropoutConstants k = DropoutConstantsFor(config.keep_prob);
  if (ctx.is_cpu()) return cpu::DropoutMask(ctx, config, k, view, mask->data<float>());
#if MELODY_HAVE_CUDA
  cuda::DropoutMask(ctx, config, k, view, mask->data<float>());
#else
  op_checks::FailNoCuda(op, ctx);
#endif
}

}  // namespace melody
