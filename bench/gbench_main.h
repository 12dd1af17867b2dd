// The main() shared by the op micro-benchmarks that run on Google Benchmark
// (attention_bench, lstm_bench), and the small pieces their benchmark bodies share.
//
// Flags: Google Benchmark parses its own (--benchmark_filter, --benchmark_repetitions,
// --benchmark_min_time, --benchmark_out, --benchmark_out_format, ...). Each program adds a
// few of its own (sizes, CPU thread counts) as plain --name=value arguments, taken out of
// argv before Google Benchmark sees the rest; gflags is not used, since both libraries
// would claim --help and each rejects the other's flags. Without --benchmark_out (and
// without $BENCHMARK_OUT) the JSON report goes to the program's default file, as the
// hand-written programs did, so the scripts that read it need no flag.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/device.h"
#include "core/file_util.h"

namespace melody::bench {

inline bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// One flag of the program's own: --<name>=<value>.
struct ExtraFlag {
  std::string name;    // without the leading "--"
  std::string* value;  // holds the default on entry, the value given on return
  std::string help;
};

// "128,512" -> {128, 512}; throws std::invalid_argument naming the flag otherwise.
inline std::vector<int64_t> ParseIntList(const std::string& flag, const std::string& text) {
  std::vector<int64_t> values;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0)
      throw std::invalid_argument("--" + flag + " must be a comma-separated list of integers >= 0, got '" +
                                  text + "'");
    values.push_back(v);
    begin = end + 1;
  }
  return values;
}

// The CPU thread counts of --threads, each resolved as Context::CreateCpu does (0 = all
// cores), so benchmark names carry the real count.
inline std::vector<int> ResolvedThreadCounts(const std::string& text) {
  std::vector<int> counts;
  for (int64_t t : ParseIntList("threads", text))
    counts.push_back(Context::CreateCpu(static_cast<int>(t))->num_threads());
  return counts;
}

// Process CPU seconds (all threads). Timed CPU benchmarks also report work per CPU-second:
// on a loaded machine the wall time includes waiting for a core, the CPU time does not.
inline double CpuSecondsAllThreads() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// "min" across repetitions (the best run, as the hand-written programs kept) besides
// Google Benchmark's mean, median, stddev and cv.
inline double MinOf(const std::vector<double>& v) {
  double best = v.empty() ? 0.0 : v.front();
  for (double x : v) best = x < best ? x : best;
  return best;
}

// The one CUDA context of the process (stream and cuBLAS/cuDNN handles are made once, not
// per benchmark run). Only called when CudaDeviceCount() > 0.
inline Context& CudaContext() {
  static std::unique_ptr<Context> ctx = Context::CreateCuda(0);
  return *ctx;
}

// Runs `body`, turning an exception (a melody::Error from an op) into a benchmark error
// instead of terminating the process.
template <typename Body>
void Guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Work counters of a finished loop: FLOP/s per wall second and, on the CPU, FLOP per
// process CPU-second (`cpu_seconds`: CPU time of the timed regions, all threads).
inline void SetFlopCounters(benchmark::State& state, const Context& ctx, double flop,
                            double cpu_seconds) {
  if (flop <= 0) return;
  state.counters["FLOP/s"] = benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
  if (ctx.is_cpu() && cpu_seconds > 0)
    state.counters["FLOP/cpu_s"] =
        benchmark::Counter(flop * static_cast<double>(state.iterations()) / cpu_seconds);
}

// The timing loop of every op benchmark: one untimed warm-up call of `op` (page faults,
// cuDNN plans), then per iteration the untimed `setup` and the timed `op`. The context is
// synchronized inside the timed region, so CUDA times are whole kernel times. `flop` =
// matrix-product work of one `op` (0: no FLOP counters).
template <typename Setup, typename Op>
void TimeLoop(benchmark::State& state, Context& ctx, double flop, Setup&& setup, Op&& op) {
  setup();
  op();
  ctx.Synchronize();
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    setup();
    ctx.Synchronize();
    state.ResumeTiming();
    const double c0 = CpuSecondsAllThreads();
    op();
    ctx.Synchronize();
    cpu_seconds += CpuSecondsAllThreads() - c0;
  }
  SetFlopCounters(state, ctx, flop, cpu_seconds);
}

// Same without a setup, so without PauseTiming/ResumeTiming in the loop.
template <typename Op>
void TimeLoop(benchmark::State& state, Context& ctx, double flop, Op&& op) {
  op();
  ctx.Synchronize();
  double cpu_seconds = 0;
  for (auto _ : state) {
    const double c0 = CpuSecondsAllThreads();
    op();
    ctx.Synchronize();
    cpu_seconds += CpuSecondsAllThreads() - c0;
  }
  SetFlopCounters(state, ctx, flop, cpu_seconds);
}

// Real time (CUDA work and waiting for a core both count), process CPU time (all
// threads), milliseconds, and the best of the repetitions as a "min" statistic.
inline benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b) {
  return b->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond)
      ->ComputeStatistics("min", MinOf);
}

// Whether CUDA device 0 is usable. Without it the caller registers no CUDA benchmarks and
// this registers one entry, <prefix>/cuda:0, that stands in for them, so the console and
// the JSON say why ("no CUDA device: <reason>"). Either way the report's context gets a
// "cuda" entry.
inline bool CudaBenchmarksAvailable(const std::string& prefix) {
  if (CudaDeviceCount() > 0) {
    benchmark::AddCustomContext("cuda", "cuda:0");
    return true;
  }
  std::string why = CudaUnavailableReason();
  const std::string usual = "no usable CUDA device: ";  // core's wording; said once here
  if (StartsWith(why, usual)) why = why.substr(usual.size());
  const std::string reason = "no CUDA device: " + why;
  benchmark::AddCustomContext("cuda", reason);
  benchmark::RegisterBenchmark((prefix + "/cuda:0").c_str(),
                               [reason](benchmark::State& state) {
                                 state.SkipWithError(reason.c_str());
                               })
      ->Iterations(1);
  return false;
}

// Parses the program's flags out of argv, calls `register_benchmarks`, then runs Google
// Benchmark with the rest of argv (plus --benchmark_out=<default_out> when no output file
// was named). Returns the process exit status.
inline int BenchmarkMain(int argc, char** argv, const std::vector<ExtraFlag>& flags,
                         const std::string& default_out,
                         const std::function<void()>& register_benchmarks) {
  std::vector<char*> rest{argv[0]};
  std::string out_path;
  bool want_help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool ours = false;
    for (const ExtraFlag& f : flags) {
      if (StartsWith(arg, "--" + f.name + "=")) {
        *f.value = arg.substr(f.name.size() + 3);
        ours = true;
      }
    }
    if (ours) continue;
    if (arg == "--help" || arg == "-h") want_help = true;
    if (StartsWith(arg, "--benchmark_out=")) out_path = arg.substr(16);
    rest.push_back(argv[i]);
  }
  if (want_help) {
    std::printf("%s: op micro-benchmarks on Google Benchmark. Own flags:\n", argv[0]);
    for (const ExtraFlag& f : flags)
      std::printf("  --%s=%s\n      %s\n", f.name.c_str(), f.value->c_str(), f.help.c_str());
    std::printf("  (the JSON report goes to %s unless --benchmark_out is given)\n\n"
                "Google Benchmark's flags:\n", default_out.c_str());
  }
  std::string default_out_arg = "--benchmark_out=" + default_out;
  if (out_path.empty()) {
    if (const char* env = std::getenv("BENCHMARK_OUT"); env && *env) {
      out_path = env;
    } else {
      out_path = default_out;
      rest.insert(rest.begin() + 1, default_out_arg.data());
    }
  }
  if (!want_help) {
    try {
      MakeDirectories(Dirname(out_path));
      register_benchmarks();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
      return 1;
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("JSON report: %s\n", out_path.c_str());
  return 0;
}

}  // namespace melody::bench
