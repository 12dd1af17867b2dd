// Helpers shared by the benchmarks: best-of timing, the OpenBLAS sgemm ceiling that model
// figures are compared with, peak resident memory, process CPU seconds, and where shared/
// is. Header-only so each *_bench.cc stays one program.
#pragma once

#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace melody::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One warm-up call, then the fastest of `repeats` timed calls.
template <typename Fn>
double MinSeconds(int repeats, Fn fn) {
  fn();
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, SecondsSince(t0));
  }
  return best;
}

// The best rate of a few large single-call row-major sgemm products (including the model's
// own big shape [B·T, 256] x [256, 512]), with OpenBLAS's current thread setting.
inline double SgemmCeilingGflops(int repeats) {
  double best = 0;
  for (auto [m, n, k] : std::vector<std::array<int, 3>>{{2048, 2048, 2048}, {16384, 512, 256}, {4096, 1024, 512}}) {
    std::vector<float> a(static_cast<size_t>(m) * k, 0.5f), b(static_cast<size_t>(k) * n, 0.25f),
        c(static_cast<size_t>(m) * n);
    const double s = MinSeconds(repeats, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(),
                  n, 0.0f, c.data(), n);
    });
    best = std::max(best, 2.0 * m * n * k / s / 1e9);
  }
  return best;
}

inline double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

// User and system CPU seconds of this process so far.
inline std::pair<double, double> ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec * 1e-6; };
  return {sec(usage.ru_utime), sec(usage.ru_stime)};
}

// $MELODY_SHARED_DIR, else the shared/ that CMake was configured with (beside the
// source tree unless -DMELODY_SHARED_DIR says otherwise; bench/CMakeLists.txt).
inline std::string DefaultSharedDir() {
  if (const char* env = std::getenv("MELODY_SHARED_DIR")) return env;
  return MELODY_SHARED_DIR_DEFAULT;
}

}  // namespace melody::bench
