// Whole Melody RNN training step (forward + backward, dropout 0.5 as in training) on the
// CPU (or, with --device=cuda, on GPU 0) for the four default configs, batch 128, every sequence at full length T (128 and
// 512). Prints achieved GFLOP/s (GEMM FLOPs at the valid positions, see
// MelodyRnnModel::CountGemmFlops) next to the OpenBLAS sgemm ceiling measured in the same
// run, forward-only rows, and the peak resident memory (getrusage). Writes the table as
// JSON to --out.
#include <gflags/gflags.h>


#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "core/context.h"
#include "core/device.h"
#include "models/melody_rnn_config.h"
#include "models/melody_rnn_model.h"
#include "models/parameters.h"

DEFINE_int32(threads, 0, "CPU threads (0 = all cores).");
DEFINE_int32(batch, 128, "Batch size.");
DEFINE_string(lengths, "128,512", "Comma-separated sequence lengths T.");
DEFINE_string(configs, "basic_rnn,mono_rnn,lookback_rnn,attention_rnn", "Configs to run.");
DEFINE_int32(repeats, 2, "Timed runs per row (the minimum is kept), after one warm-up.");
DEFINE_string(out, "bench/results/model.json", "File receiving the numbers (JSON).");
DEFINE_string(device, "cpu", "cpu, or cuda (GPU 0; the sgemm ceiling column is then the "
              "CPU's OpenBLAS figure, for reference only).");

namespace {


std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  using namespace melody;
  if (FLAGS_device != "cpu" && FLAGS_device != "cuda") {
    std::fprintf(stderr, "model_bench: --device must be cpu or cuda, got %s\n",
                 FLAGS_device.c_str());
    return 2;
  }
  const bool on_gpu = FLAGS_device == "cuda";
  if (on_gpu && CudaDeviceCount() == 0) {
    std::fprintf(stderr, "model_bench: --device=cuda: %s\n", CudaUnavailableReason().c_str());
    return 1;
  }
  auto ctx = on_gpu ? Context::CreateCuda(0) : Context::CreateCpu(FLAGS_threads);
  const Device dev = ctx->device();
  std::printf("device: %s, CPU threads: %d\n", dev.ToString().c_str(), ctx->num_threads());
  const double ceiling = melody::bench::SgemmCeilingGflops(FLAGS_repeats + 1);
  std::printf("OpenBLAS sgemm ceiling: %.1f GFLOP/s\n\n", ceiling);
  std::printf("%-14s %5s %6s %10s %10s %9s %9s %8s %10s\n", "config", "B", "T", "fwd s",
              "fwd+bwd s", "GFLOP", "GFLOP/s", "ceiling", "peak MiB");
  nlohmann::json out;
  out["device"] = dev.ToString();
  out["threads"] = ctx->num_threads();
  out["sgemm_ceiling_gflops"] = ceiling;
  out["rows"] = nlohmann::json::array();
  for (const std::string& id : Split(FLAGS_configs)) {
    const MelodyRnnConfig config = DefaultMelodyRnnConfig(id);
    const ModelHParams hp = ModelHParamsFrom(config.hparams);
    const ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, hp));
    Parameters host_params(layout);
    host_params.InitializeRandom(1);
    const Parameters params = on_gpu ? host_params.CopyTo(*ctx) : host_params;
    Parameters grads(layout, dev);
    MelodyRnnModel model(layout, config.sizes.no_event_label);
    for (const std::string& t_text : Split(FLAGS_lengths)) {
      const int64_t T = std::stoll(t_text), B = FLAGS_batch, I = config.sizes.input_size;
      // A plausible one-hot-like input: one 1.0 per step; random labels.
      std::mt19937 rng(7);
      Tensor inputs = Tensor::Zeros({B, T, I}, DType::kFloat32);
      Tensor labels({B, T}, DType::kInt64);
      for (int64_t p = 0; p < B * T; ++p) {
        inputs.data<float>()[p * I + rng() % I] = 1.0f;
        labels.data<int64_t>()[p] = rng() % config.sizes.num_classes;
      }
      ModelBatch batch{inputs.CopyTo(dev), labels.CopyTo(dev),
                       std::vector<int32_t>(B, static_cast<int32_t>(T))};
      const DropoutSetting dropout{static_cast<float>(hp.dropout_keep_prob), 1, 0};
      const auto flops = model.CountGemmFlops(batch.lengths);
      // Synchronize: on a GPU, Run returns with the backward still queued.
      const double fwd_s = melody::bench::MinSeconds(FLAGS_repeats, [&] {
        model.Run(*ctx, params, batch, dropout, nullptr);
        ctx->Synchronize();
      });
      const double step_s = melody::bench::MinSeconds(FLAGS_repeats, [&] {
        model.Run(*ctx, params, batch, dropout, &grads);
        ctx->Synchronize();
      });
      // One more step with the per-section clock on (not part of the timed figures).
      MelodyRnnModel::Profile profile;
      model.set_profile(&profile);
      model.Run(*ctx, params, batch, dropout, &grads);
      model.set_profile(nullptr);
      const double total_gflop = (flops.forward + flops.backward) / 1e9;
      const double rate = total_gflop / step_s;
      const double rss = melody::bench::PeakRssMiB();
      std::printf("%-14s %5lld %6lld %10.3f %10.3f %9.1f %9.1f %7.0f%% %10.0f\n", id.c_str(),
                  static_cast<long long>(B), static_cast<long long>(T), fwd_s, step_s, total_gflop,
                  rate, 100 * rate / ceiling, rss);
      std::printf("    sections (s): recurrent fwd %.3f, recurrent bwd %.3f, dropout+residual %.3f, "
                  "input projection %.3f, output layer+loss %.3f\n",
                  profile.recurrent_forward, profile.recurrent_backward, profile.dropout_residual,
                  profile.input_projection, profile.output_and_loss);
      std::fflush(stdout);
      out["rows"].push_back({{"config", id},
                             {"batch", B},
                             {"time", T},
                             {"forward_seconds", fwd_s},
                             {"forward_gflops", flops.forward / 1e9 / fwd_s},
                             {"step_seconds", step_s},
                             {"step_gflop", total_gflop},
                             {"step_gflops", rate},
                             {"ratio_to_ceiling", rate / ceiling},
                             {"peak_rss_mib", rss},
                             {"sections_seconds",
                              {{"recurrent_forward", profile.recurrent_forward},
                               {"recurrent_backward", profile.recurrent_backward},
                               {"dropout_residual", profile.dropout_residual},
                               {"input_projection", profile.input_projection},
                               {"output_and_loss", profile.output_and_loss}}}});
    }
  }
  std::ofstream(FLAGS_out) << out.dump(2) << "\n";
  std::printf("\nwrote %s\n", FLAGS_out.c_str());
  return 0;
}
