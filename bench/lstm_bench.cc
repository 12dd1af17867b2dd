// Op micro-benchmarks of the dense kernels on Google Benchmark: linear, one LSTM layer and
// output dropout, each forward and backward, on the CPU at every count of --threads and on
// CUDA device 0 when one is present; plus the row-major sgemm products the CPU figures are
// set against (melody::cpu::Sgemm: OpenBLAS single-threaded, split over our own pool as
// the kernels run it, on the same shapes).
//
// Sizes (defaults as the hand-written program had): B = 128, N = 128; linear [16384, 128] x
// [128, 38] and [16384, 130] x [130, 128]; LSTM T in --time_steps (128, 512) x I in
// --inputs (38, 121, 74, 130 = the encoder widths of basic/lookback/attention/key-melody-ish
// configs), all sequences full length, plus per T one batch of the first input width with
// lengths uniform in [T/4, T] (mixed:1); dropout keep 0.5 on [B, T, N].
//
// Registered (names are <op>/<device>/<args>; select with --benchmark_filter):
//   sgemm/cpu/M/N/K/cpu_threads                       FLOP/s, FLOP/cpu_s
//   linear_{forward,backward}/{cpu,cuda:0}/M/in/out[/cpu_threads]
//   lstm_layer_{forward,backward}/{cpu,cuda:0}/T/I/mixed[/cpu_threads]
//   dropout_{forward,backward}/{cpu,cuda:0}/T[/cpu_threads]   items/s = elements/s
// Counters: FLOP/s counts only the matrix products (linear forward 2·M·in·out, backward
// twice that; LSTM forward 2·(valid positions)·(I + N)·4N, backward twice that), per wall
// second; FLOP/cpu_s the same per process CPU-second (all threads; CPU benchmarks only);
// items/s for the LSTM = valid sequence positions per second. CPU times are process CPU
// time (MeasureProcessCPUTime), rates use real time. The LSTM backward is timed alone:
// each iteration runs an untimed forward first (a cache serves one backward).
//
// CUDA: the CUDA benchmarks are registered only when a device is present; otherwise one
// entry, lstm_bench/cuda:0, reports "no CUDA device: <reason>" as its error. Each timed
// region ends with Context::Synchronize(), so CUDA times are complete kernel times.
//
// Every benchmark makes its inputs once per run and calls the op once untimed (page
// faults, cuDNN plans) before timing. The JSON report goes to bench/results/lstm.json
// unless --benchmark_out is given. Examples:
//   build/bench/lstm_bench --threads=1,2 --benchmark_repetitions=3
//   build/bench/lstm_bench --time_steps=128 --inputs=38 --benchmark_min_time=0.01
//   build/bench/lstm_bench --benchmark_filter='lstm_layer_.*/cpu/' --benchmark_out=x.json
#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "bench/gbench_main.h"
#include "core/context.h"
#include "core/tensor.h"
#include "kernels/cpu/blas.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/lstm_layer.h"

namespace melody {
namespace {

using benchmark::State;

constexpr int64_t kBatch = 128, kUnits = 128;
constexpr int64_t kLinearRows = kBatch * 128;  // B·T rows at T = 128

Tensor RandomTensor(std::mt19937& rng, const Shape& shape, float scale, Device device) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t.CopyTo(device);
}

// A CPU context with `threads` threads (the argument), or the process's CUDA context.
struct Target {
  bool cuda = false;
  int threads = 0;
  Context& Get() {
    if (cuda) return bench::CudaContext();
    if (!cpu) cpu = Context::CreateCpu(threads);
    return *cpu;
  }
  std::unique_ptr<Context> cpu;
};

// C[M, N] = A[M, K]·B[K, N] as the CPU kernels run it (args M, N, K, cpu_threads).
void BM_Sgemm(State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  auto ctx = Context::CreateCpu(threads);
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n, 0.0f);
  bench::TimeLoop(state, *ctx, 2.0 * m * n * k, [&] {
    cpu::Sgemm(threads, false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
  });
}

// Linear layer y = x·W + b (args M, in, out[, cpu_threads]).
void BM_Linear(State& state, Target target, bool backward) {
  bench::Guarded(state, [&] {
    const int64_t m = state.range(0), in = state.range(1), out = state.range(2);
    if (!target.cuda) target.threads = static_cast<int>(state.range(3));
    Context& ctx = target.Get();
    const Device dev = ctx.device();
    std::mt19937 rng(7);
    const Tensor x = RandomTensor(rng, {m, in}, 1.0f, dev), w = RandomTensor(rng, {in, out}, 0.1f, dev);
    const Tensor b = RandomTensor(rng, {out}, 0.1f, dev), dy = RandomTensor(rng, {m, out}, 1.0f, dev);
    Tensor y({m, out}, DType::kFloat32, dev), dx({m, in}, DType::kFloat32, dev);
    Tensor dw({in, out}, DType::kFloat32, dev), db({out}, DType::kFloat32, dev);
    const double fwd_flop = 2.0 * m * in * out;
    if (!backward) {
      bench::TimeLoop(state, ctx, fwd_flop, [&] { LinearForward(ctx, x, w, b, &y); });
    } else {
      // dx = dy·Wᵀ and dW = xᵀ·dy: two products of the forward's size (db is a column sum).
      bench::TimeLoop(state, ctx, 2 * fwd_flop, [&] {
        LinearBackward(ctx, x, w, dy, &dx, &dw, &db, GradMode::kOverwrite);
      });
    }
  });
}

// One LSTM layer over [B, T, I] (args T, I, mixed[, cpu_threads]).
void BM_LstmLayer(State& state, Target target, bool backward) {
  bench::Guarded(state, [&] {
    const int64_t T = state.range(0), I = state.range(1), B = kBatch, N = kUnits;
    const bool mixed = state.range(2) != 0;
    if (!target.cuda) target.threads = static_cast<int>(state.range(3));
    Context& ctx = target.Get();
    const Device dev = ctx.device();
    // Seeded by the case, so every device and thread count times the same lengths.
    std::mt19937 rng(static_cast<uint32_t>(1000 * T + I));
    const Tensor x = RandomTensor(rng, {B, T, I}, 1.0f, dev);
    const Tensor kernel = RandomTensor(rng, {I + N, 4 * N}, 0.08f, dev);
    const Tensor bias = RandomTensor(rng, {4 * N}, 0.1f, dev);
    const Tensor dy = RandomTensor(rng, {B, T, N}, 1.0f, dev);
    Tensor lengths({B}, DType::kInt32);
    std::uniform_int_distribution<int32_t> len_dist(static_cast<int32_t>(T / 4),
                                                    static_cast<int32_t>(T));
    int64_t valid = 0;
    for (int64_t b = 0; b < B; ++b) {
      lengths.data<int32_t>()[b] = mixed ? len_dist(rng) : static_cast<int32_t>(T);
      valid += lengths.data<int32_t>()[b];
    }
    Tensor y({B, T, N}, DType::kFloat32, dev), dx({B, T, I}, DType::kFloat32, dev);
    Tensor dk = Tensor::Zeros(kernel.shape(), DType::kFloat32, dev);
    Tensor db = Tensor::Zeros({4 * N}, DType::kFloat32, dev);
    LstmLayerCache cache;
    const double fwd_flop = 2.0 * static_cast<double>(valid) * (I + N) * 4 * N;
    auto forward = [&] { LstmLayerForward(ctx, x, lengths, kernel, bias, &y, &cache); };
    if (!backward) {
      bench::TimeLoop(state, ctx, fwd_flop, forward);
    } else {
      // Backward: the recurrent and input-gradient products plus dW, twice the forward's.
      bench::TimeLoop(state, ctx, 2 * fwd_flop, forward, [&] {
        LstmLayerBackward(ctx, x, lengths, kernel, bias, y, dy, cache, &dx, &dk, &db);
      });
    }
    state.SetItemsProcessed(valid * state.iterations());
  });
}

// Output dropout, keep 0.5, over [B, T, N] (args T[, cpu_threads]).
void BM_Dropout(State& state, Target target, bool backward) {
  bench::Guarded(state, [&] {
    const int64_t T = state.range(0);
    if (!target.cuda) target.threads = static_cast<int>(state.range(1));
    Context& ctx = target.Get();
    std::mt19937 rng(3);
    const Tensor x = RandomTensor(rng, {kBatch, T, kUnits}, 1.0f, ctx.device());
    Tensor y({kBatch, T, kUnits}, DType::kFloat32, ctx.device());
    DropoutConfig config;
    config.keep_prob = 0.5;
    config.seed = 42;
    if (!backward) {
      bench::TimeLoop(state, ctx, 0, [&] { DropoutForward(ctx, x, config, &y); });
    } else {
      bench::TimeLoop(state, ctx, 0, [&] { DropoutBackward(ctx, x, config, &y); });
    }
    state.SetItemsProcessed(x.numel() * state.iterations());
  });
}

void RegisterAll(const std::string& threads_flag, const std::string& time_steps_flag,
                 const std::string& inputs_flag) {
  const std::vector<int> threads = bench::ResolvedThreadCounts(threads_flag);
  const std::vector<int64_t> times = bench::ParseIntList("time_steps", time_steps_flag);
  const std::vector<int64_t> inputs = bench::ParseIntList("inputs", inputs_flag);
  const bool have_cuda = bench::CudaBenchmarksAvailable("lstm_bench");
  const int64_t B = kBatch, N = kUnits;

  // Ceiling products: square 1024, the per-step recurrent product [B, N]x[N, 4N], the
  // linear shapes and each LSTM case's input product [B·T, I]x[I, 4N].
  std::set<std::tuple<int64_t, int64_t, int64_t>> shapes{
      {1024, 1024, 1024}, {B, 4 * N, N}, {kLinearRows, 38, 128}, {kLinearRows, 128, 130}};
  for (int64_t T : times)
    for (int64_t I : inputs) shapes.insert({B * T, 4 * N, I});
  auto* sgemm = bench::Configure(benchmark::RegisterBenchmark("sgemm/cpu", BM_Sgemm))
                    ->ArgNames({"M", "N", "K", "cpu_threads"});
  for (const auto& [m, n, k] : shapes)
    for (int t : threads) sgemm->Args({m, n, k, t});

  for (bool backward : {false, true}) {
    const std::string dir = backward ? "backward" : "forward";
    for (bool cuda : {false, true}) {
      if (cuda && !have_cuda) continue;
      const std::string dev = cuda ? "/cuda:0" : "/cpu";
      const std::vector<int> thread_args = cuda ? std::vector<int>{-1} : threads;
      auto with_threads = [&](benchmark::internal::Benchmark* b, std::vector<int64_t> args) {
        for (int t : thread_args) {
          std::vector<int64_t> a = args;
          if (t >= 0) a.push_back(t);
          b->Args(a);
        }
      };
      auto names = [&](std::vector<std::string> n) {
        if (!cuda) n.push_back("cpu_threads");
        return n;
      };
      auto* linear = bench::Configure(benchmark::RegisterBenchmark(
          ("linear_" + dir + dev).c_str(),
          [=](State& s) { BM_Linear(s, Target{cuda, 0, nullptr}, backward); }));
      linear->ArgNames(names({"M", "in", "out"}));
      with_threads(linear, {kLinearRows, 128, 38});
      with_threads(linear, {kLinearRows, 130, 128});

      auto* lstm = bench::Configure(benchmark::RegisterBenchmark(
          ("lstm_layer_" + dir + dev).c_str(),
          [=](State& s) { BM_LstmLayer(s, Target{cuda, 0, nullptr}, backward); }));
      lstm->ArgNames(names({"T", "I", "mixed"}));
      for (int64_t T : times) {
        for (int64_t I : inputs) with_threads(lstm, {T, I, 0});
        with_threads(lstm, {T, inputs.front(), 1});  // one mixed-length case per T
      }

      auto* dropout = bench::Configure(benchmark::RegisterBenchmark(
          ("dropout_" + dir + dev).c_str(),
          [=](State& s) { BM_Dropout(s, Target{cuda, 0, nullptr}, backward); }));
      dropout->ArgNames(names({"T"}));
      for (int64_t T : times) with_threads(dropout, {T});
    }
  }
  benchmark::AddCustomContext("sizes", "B=128 N=128; linear M=16384");
}

}  // namespace
}  // namespace melody

int main(int argc, char** argv) {
  std::string threads = "0", time_steps = "128,512", inputs = "38,121,74,130";
  return melody::bench::BenchmarkMain(
      argc, argv,
      {{"threads", &threads, "CPU thread counts to time, comma-separated (0 = all cores)"},
       {"time_steps", &time_steps, "LSTM and dropout sequence lengths T, comma-separated"},
       {"inputs", &inputs, "LSTM input widths I, comma-separated (the first also gets a mixed-length case)"}},
      "bench/results/lstm.json", [&] { melody::RegisterAll(threads, time_steps, inputs); });
}
