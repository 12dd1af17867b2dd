// The attention-wrapped LSTM layer (layer 0 of attention_rnn) forward and backward at the
// config's sizes: B = 128, N = 128, attn_length 40, I = 74 (key-melody inputs), full-length
// sequences of T steps. Prints a table and writes the numbers as JSON (--out). Runs on the
// CPU, and also on the GPU when one is present.
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/file_util.h"
#include "kernels/attention_layer.h"

DEFINE_string(time_steps, "128,512", "Comma-separated sequence lengths T to time.");
DEFINE_int32(batch, 128, "Batch size B.");
DEFINE_int32(units, 128, "LSTM / attention size N.");
DEFINE_int32(inputs, 74, "Input width I (74 = key-melody features).");
DEFINE_int32(attn_length, 40, "Attention window length.");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores).");
DEFINE_int32(repetitions, 3, "Timed runs per configuration (after one untimed warm-up).");
DEFINE_string(out, "bench/results/attention_bench.json", "File receiving the numbers (JSON).");

namespace {

using melody::AttentionLayerWeights;
using melody::Context;
using melody::DType;
using melody::Tensor;

Tensor Random(std::mt19937& rng, melody::Shape shape, float scale) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

struct Result {
  std::string device;
  int64_t T;
  int threads;
  std::vector<double> forward_s, backward_s;
  static double Best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
  static double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

Result Run(Context& ctx, const std::string& device, int64_t T) {
  const int64_t B = FLAGS_batch, N = FLAGS_units, I = FLAGS_inputs;
  std::mt19937 rng(12345);
  // Glorot-uniform ranges of model.md §3.3, biases zero.
  auto glorot = [&](melody::Shape s, int64_t fan_in, int64_t fan_out) {
    return Random(rng, s, std::sqrt(6.0f / static_cast<float>(fan_in + fan_out)));
  };
  AttentionLayerWeights w;
  w.input_kernel = glorot({I + N, I}, I + N, I);
  w.input_bias = Tensor::Zeros({I}, DType::kFloat32);
  w.lstm_kernel = glorot({I + N, 4 * N}, I + N, 4 * N);
  w.lstm_bias = Tensor::Zeros({4 * N}, DType::kFloat32);
  w.attn_w = glorot({1, 1, N, N}, N, N);
  w.attn_v = glorot({N}, N, N);
  w.query_kernel = glorot({2 * N, N}, 2 * N, N);
  w.query_bias = Tensor::Zeros({N}, DType::kFloat32);
  w.output_kernel = glorot({2 * N, N}, 2 * N, N);
  w.output_bias = Tensor::Zeros({N}, DType::kFloat32);
  const melody::Device dev = ctx.device();
  AttentionLayerWeights wd = w;
  for (Tensor* t : {&wd.input_kernel, &wd.input_bias, &wd.lstm_kernel, &wd.lstm_bias,
                    &wd.attn_w, &wd.attn_v, &wd.query_kernel, &wd.query_bias,
                    &wd.output_kernel, &wd.output_bias})
    *t = t->CopyTo(dev);
  // Key-melody-like inputs: values in {-1, 0, 1}.
  Tensor x({B, T, I}, DType::kFloat32);
  std::uniform_int_distribution<int> tri(-1, 1);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(tri(rng));
  const Tensor xd = x.CopyTo(dev);
  Tensor lengths({B}, DType::kInt32);
  for (int64_t b = 0; b < B; ++b) lengths.data<int32_t>()[b] = static_cast<int32_t>(T);
  const Tensor d_out = Random(rng, {B, T, N}, 1e-3f).CopyTo(dev);
  Tensor outputs({B, T, N}, DType::kFloat32, dev), d_inputs({B, T, I}, DType::kFloat32, dev);

  Result r{device, T, ctx.num_threads(), {}, {}};
  for (int rep = 0; rep <= FLAGS_repetitions; ++rep) {
    melody::AttentionLayerActivations act;
    AttentionLayerWeights grads = melody::ZerosLikeWeights(wd, dev);
    ctx.Synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    melody::AttentionLayerForward(ctx, xd, lengths, wd, FLAGS_attn_length, nullptr, &outputs,
                                  &act, nullptr);
    ctx.Synchronize();
    const auto t1 = std::chrono::steady_clock::now();
    melody::AttentionLayerBackward(ctx, xd, wd, act, d_out, &grads, &d_inputs);
    ctx.Synchronize();
    const auto t2 = std::chrono::steady_clock::now();
    if (rep == 0) continue;  // warm-up
    r.forward_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    r.backward_s.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::vector<int64_t> lengths;
  std::stringstream list(FLAGS_time_steps);
  for (std::string item; std::getline(list, item, ',');) lengths.push_back(std::stoll(item));

  std::vector<Result> results;
  auto cpu = Context::CreateCpu(FLAGS_threads);
  for (int64_t T : lengths) results.push_back(Run(*cpu, "cpu", T));
  if (melody::CudaDeviceCount() > 0) {
    auto gpu = Context::CreateCuda(0);
    for (int64_t T : lengths) results.push_back(Run(*gpu, "cuda:0", T));
  }

  std::printf("attention layer: B=%d N=%d I=%d attn_length=%d, %d timed runs (best / median)\n",
              FLAGS_batch, FLAGS_units, FLAGS_inputs, FLAGS_attn_length, FLAGS_repetitions);
  std::printf("| device | threads | T | forward s | backward s | fwd+bwd steps/s (best) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::ostringstream json;
  json << "{\"batch\": " << FLAGS_batch << ", \"units\": " << FLAGS_units
       << ", \"inputs\": " << FLAGS_inputs << ", \"attn_length\": " << FLAGS_attn_length
       << ", \"results\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    const double fb = Result::Best(r.forward_s), bb = Result::Best(r.backward_s);
    const double steps_per_s = static_cast<double>(FLAGS_batch * r.T) / (fb + bb);
    std::printf("| %s | %d | %lld | %.3f / %.3f | %.3f / %.3f | %.0f |\n", r.device.c_str(),
                r.threads, static_cast<long long>(r.T), fb, Result::Median(r.forward_s), bb,
                Result::Median(r.backward_s), steps_per_s);
    json << (i ? ", " : "") << "{\"device\": \"" << r.device << "\", \"threads\": " << r.threads
         << ", \"T\": " << r.T << ", \"forward_best_s\": " << fb
         << ", \"forward_median_s\": " << Result::Median(r.forward_s)
         << ", \"backward_best_s\": " << bb
         << ", \"backward_median_s\": " << Result::Median(r.backward_s)
         << ", \"sequence_steps_per_s\": " << steps_per_s << "}";
  }
  json << "]}\n";
  melody::MakeDirectories(melody::Dirname(FLAGS_out));
  std::ofstream out(FLAGS_out);
  out << json.str();
  std::printf("numbers written to %s\n", FLAGS_out.c_str());
  return out.good() ? 0 : 1;
}
