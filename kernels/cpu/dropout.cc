// Fast CPU path of kernels/dropout.h. Each (batch row, step) is a contiguous run of N
// elements with consecutive Philox indices, so its draws come four per Philox call
// (PhiloxUniformPackedRun); rows are split over threads.
#include <vector>

#include "core/parallel_for.h"
#include "core/philox.h"
#include "kernels/dropout.h"

namespace melody::cpu {
namespace {

// Rows of N elements per thread chunk: Philox costs ~10 multiply rounds per element, so
// even a few rows of N = 128 are worth handing to another thread.
constexpr int64_t kRowsPerChunk = 8;

template <typename RowFn>
void ForEachRow(Context& ctx, const internal::DropoutView& v, RowFn&& fn) {
  const int64_t rows = v.batch * v.steps;
  ParallelFor(ctx.num_threads(), rows, kRowsPerChunk, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / v.steps, s = r % v.steps;
      const uint64_t row = v.row0 + static_cast<uint64_t>(b);
      const uint64_t base = (row * static_cast<uint64_t>(v.time) + static_cast<uint64_t>(v.t0 + s)) *
                            static_cast<uint64_t>(v.units);
      fn(r * v.units, base);
    }
  });
}

}  // namespace

void DropoutApply(Context& ctx, const float* src, const DropoutConfig& config,
                  const DropoutConstants& k, const internal::DropoutView& view, float* dst) {
  const int64_t n = view.units;
  const uint64_t seed = config.seed;
  const uint32_t c1 = config.step, c2 = config.layer;
  ForEachRow(ctx, view, [&](int64_t offset, uint64_t base) {
    const float* in = src + offset;
    float* out = dst + offset;
    thread_local std::vector<float> draws;
    draws.resize(static_cast<size_t>(n));
    PhiloxUniformPackedRun(seed, c1, c2, base, n, draws.data());
    for (int64_t u = 0; u < n; ++u) {
      const float keep = draws[u] >= k.threshold ? 1.0f : 0.0f;
      out[u] = in[u] * k.scale * keep;
    }
  });
}

void DropoutMask(Context& ctx, const DropoutConfig& config, const DropoutConstants& k,
                 const internal::DropoutView& view, float* mask) {
  const int64_t n = view.units;
  ForEachRow(ctx, view, [&](int64_t offset, uint64_t base) {
    thread_local std::vector<float> draws;
    draws.resize(static_cast<size_t>(n));
    PhiloxUniformPackedRun(config.seed, config.step, config.layer, base, n, draws.data());
    for (int64_t u = 0; u < n; ++u) mask[offset + u] = draws[u] >= k.threshold ? 1.0f : 0.0f;
  });
}

}  // namespace melody::cpu
