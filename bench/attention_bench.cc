// The attention-wrapped LSTM layer (layer 0 of attention_rnn, kernels/attention_layer.h)
// forward (with saved activations) and backward (all weight gradients and d inputs) on
// Google Benchmark, at the config's sizes: B = 128, N = 128, attn_length 40, I = 74
// (key-melody inputs), every sequence of full length T in --time_steps (128, 512),
// Glorot-uniform weights, inputs in {-1, 0, 1}.
//
// Registered (select with --benchmark_filter):
//   attention_layer_{forward,backward}/cpu/T/cpu_threads   one per T and --threads count
//   attention_layer_{forward,backward}/cuda:0/T            when a CUDA device is present
// Without a CUDA device the CUDA benchmarks are not registered; one entry,
// attention_bench/cuda:0, reports "no CUDA device: <reason>" as its error instead.
// Counters: items_per_second = sequence steps per second (B·T per run), time_per_step =
// seconds per time step of the whole batch (run time / T). Times are real time (CUDA:
// each timed region ends with Context::Synchronize()); CPU times are process CPU time
// (all threads). The backward is timed on the activations of one forward (it only reads
// them; the weight gradients accumulate across iterations, which costs the same).
// Each benchmark calls its op once untimed before timing. Repetitions, statistics (a
// "min" = best run is added to mean/median/stddev/cv) and the JSON report are Google
// Benchmark's; the report goes to bench/results/attention_bench.json unless
// --benchmark_out is given. Examples:
//   build/bench/attention_bench --benchmark_repetitions=3
//   build/bench/attention_bench --time_steps=16 --threads=1,2 --benchmark_min_time=0.01
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/gbench_main.h"
#include "core/context.h"
#include "core/tensor.h"
#include "kernels/attention_layer.h"

namespace melody {
namespace {

using benchmark::Counter;
using benchmark::State;

struct Sizes {
  int64_t batch = 128, units = 128, inputs = 74;
  int attn_length = 40;
};

Tensor Random(std::mt19937& rng, Shape shape, float scale) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Args: T[, cpu_threads]. `cuda` picks the process's CUDA context.
void BM_AttentionLayer(State& state, const Sizes& sizes, bool cuda, bool backward) {
  bench::Guarded(state, [&] {
    const int64_t B = sizes.batch, N = sizes.units, I = sizes.inputs, T = state.range(0);
    std::unique_ptr<Context> cpu;
    if (!cuda) cpu = Context::CreateCpu(static_cast<int>(state.range(1)));
    Context& ctx = cuda ? bench::CudaContext() : *cpu;
    const Device dev = ctx.device();
    std::mt19937 rng(12345);
    // Glorot-uniform ranges of model.md §3.3, biases zero.
    auto glorot = [&](Shape s, int64_t fan_in, int64_t fan_out) {
      return Random(rng, s, std::sqrt(6.0f / static_cast<float>(fan_in + fan_out))).CopyTo(dev);
    };
    AttentionLayerWeights w;
    w.input_kernel = glorot({I + N, I}, I + N, I);
    w.input_bias = Tensor::Zeros({I}, DType::kFloat32, dev);
    w.lstm_kernel = glorot({I + N, 4 * N}, I + N, 4 * N);
    w.lstm_bias = Tensor::Zeros({4 * N}, DType::kFloat32, dev);
    w.attn_w = glorot({1, 1, N, N}, N, N);
    w.attn_v = glorot({N}, N, N);
    w.query_kernel = glorot({2 * N, N}, 2 * N, N);
    w.query_bias = Tensor::Zeros({N}, DType::kFloat32, dev);
    w.output_kernel = glorot({2 * N, N}, 2 * N, N);
    w.output_bias = Tensor::Zeros({N}, DType::kFloat32, dev);
    // Key-melody-like inputs: values in {-1, 0, 1}.
    Tensor x({B, T, I}, DType::kFloat32);
    std::uniform_int_distribution<int> tri(-1, 1);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(tri(rng));
    const Tensor xd = x.CopyTo(dev);
    Tensor lengths({B}, DType::kInt32);
    for (int64_t b = 0; b < B; ++b) lengths.data<int32_t>()[b] = static_cast<int32_t>(T);
    const Tensor d_out = Random(rng, {B, T, N}, 1e-3f).CopyTo(dev);
    Tensor outputs({B, T, N}, DType::kFloat32, dev), d_inputs({B, T, I}, DType::kFloat32, dev);
    AttentionLayerActivations act;
    auto forward = [&] {
      AttentionLayerForward(ctx, xd, lengths, w, sizes.attn_length, nullptr, &outputs, &act,
                            nullptr);
    };
    if (!backward) {
      bench::TimeLoop(state, ctx, 0, forward);
    } else {
      forward();
      AttentionLayerWeights grads = ZerosLikeWeights(w, dev);
      bench::TimeLoop(state, ctx, 0,
                      [&] { AttentionLayerBackward(ctx, xd, w, act, d_out, &grads, &d_inputs); });
    }
    state.SetItemsProcessed(B * T * state.iterations());
    state.counters["time_per_step"] = Counter(static_cast<double>(T) * state.iterations(),
                                              Counter::kIsRate | Counter::kInvert);
  });
}

void RegisterAll(const Sizes& sizes, const std::string& threads_flag,
                 const std::string& time_steps_flag) {
  const std::vector<int> threads = bench::ResolvedThreadCounts(threads_flag);
  const std::vector<int64_t> times = bench::ParseIntList("time_steps", time_steps_flag);
  const bool have_cuda = bench::CudaBenchmarksAvailable("attention_bench");
  for (bool backward : {false, true}) {
    for (bool cuda : {false, true}) {
      if (cuda && !have_cuda) continue;
      const std::string name = std::string("attention_layer_") +
                               (backward ? "backward" : "forward") + (cuda ? "/cuda:0" : "/cpu");
      auto* b = bench::Configure(benchmark::RegisterBenchmark(
          name.c_str(), [=](State& s) { BM_AttentionLayer(s, sizes, cuda, backward); }));
      if (cuda) {
        b->ArgNames({"T"});
        for (int64_t T : times) b->Args({T});
      } else {
        b->ArgNames({"T", "cpu_threads"});
        for (int64_t T : times)
          for (int t : threads) b->Args({T, t});
      }
    }
  }
  benchmark::AddCustomContext(
      "sizes", "B=" + std::to_string(sizes.batch) + " N=" + std::to_string(sizes.units) +
                   " I=" + std::to_string(sizes.inputs) +
                   " attn_length=" + std::to_string(sizes.attn_length));
}

}  // namespace
}  // namespace melody

int main(int argc, char** argv) {
  std::string threads = "0", time_steps = "128,512", batch = "128", units = "128",
              inputs = "74", attn_length = "40";
  return melody::bench::BenchmarkMain(
      argc, argv,
      {{"threads", &threads, "CPU thread counts to time, comma-separated (0 = all cores)"},
       {"time_steps", &time_steps, "Sequence lengths T, comma-separated"},
       {"batch", &batch, "Batch size B"},
       {"units", &units, "LSTM / attention size N"},
       {"inputs", &inputs, "Input width I (74 = key-melody features)"},
       {"attn_length", &attn_length, "Attention window length"}},
      "bench/results/attention_bench.json", [&] {
        melody::Sizes sizes;
        auto one = [](const char* flag, const std::string& text) {
          const std::vector<int64_t> v = melody::bench::ParseIntList(flag, text);
          if (v.size() != 1 || v[0] < 1)
            throw std::invalid_argument(std::string("--") + flag + " must be one integer >= 1, got '" +
                                        text + "'");
          return v[0];
        };
        sizes.batch = one("batch", batch);
        sizes.units = one("units", units);
        sizes.inputs = one("inputs", inputs);
        sizes.attn_length = static_cast<int>(one("attn_length", attn_length));
        melody::RegisterAll(sizes, threads, time_steps);
      });
}
