// The cost model on paper of data-parallel training (issue 9.5): for each config at its
// default hparams, the gradient bytes summed per step and the time a ring all-reduce of
// them takes over N ranks: 2·(N−1)/N · bytes / bandwidth + 2·(N−1) · latency (NCCL's ring;
// its tree is no faster at these sizes). Defaults: N = 8, NVLink at 400 GB/s of NCCL bus
// bandwidth (an 8-GPU H100/H200 node measures 350-480), a 100 Gb/s network at 12.5 GB/s;
// latency 10 µs (NVLink) and 25 µs (network) per ring step. Nothing here is measured;
// bench/run_scaling.sh measures 1 and 2 ranks on this machine's CPU.
#include <gflags/gflags.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "models/melody_rnn_config.h"
#include "models/parameters.h"

DEFINE_string(configs, "basic_rnn,mono_rnn,lookback_rnn,attention_rnn", "Configs to model.");
DEFINE_int32(ranks, 8, "Ranks (GPUs) of the modelled job.");
DEFINE_double(nvlink_gb_per_s, 400, "NCCL bus bandwidth within a node, GB/s.");
DEFINE_double(network_gbit_per_s, 100, "Network bandwidth between nodes, Gb/s.");
DEFINE_double(nvlink_latency_us, 10, "Latency per ring step within a node, µs.");
DEFINE_double(network_latency_us, 25, "Latency per ring step across the network, µs.");

namespace {

double RingSeconds(double bytes, int ranks, double bytes_per_s, double latency_s) {
  const double n = ranks;
  return 2.0 * (n - 1) / n * bytes / bytes_per_s + 2.0 * (n - 1) * latency_s;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const int n = FLAGS_ranks;
  std::printf("ring all-reduce of fp32 gradients over %d ranks: NVLink %.0f GB/s + %.0f us, "
              "network %.0f Gb/s + %.0f us per step of the ring\n\n",
              n, FLAGS_nvlink_gb_per_s, FLAGS_nvlink_latency_us, FLAGS_network_gbit_per_s,
              FLAGS_network_latency_us);
  std::printf("%-14s %12s %12s %14s %14s\n", "config", "parameters", "grad MB", "NVLink ms",
              "100Gb/s ms");
  std::stringstream configs(FLAGS_configs);
  std::string id;
  while (std::getline(configs, id, ',')) {
    const melody::MelodyRnnConfig config = melody::DefaultMelodyRnnConfig(id);
    const melody::ModelHParams hp = melody::ModelHParamsFrom(config.hparams);
    const melody::ModelLayout layout =
        melody::ModelLayout::Build(melody::ModelShape::From(config.sizes, hp));
    const double params = static_cast<double>(layout.NumParameters());
    const double bytes = 4 * params;
    const double nvlink = RingSeconds(bytes, n, FLAGS_nvlink_gb_per_s * 1e9,
                                      FLAGS_nvlink_latency_us * 1e-6);
    const double network = RingSeconds(bytes, n, FLAGS_network_gbit_per_s * 1e9 / 8,
                                       FLAGS_network_latency_us * 1e-6);
    std::printf("%-14s %12.0f %12.3f %14.3f %14.3f\n", id.c_str(), params, bytes / 1e6,
                nvlink * 1e3, network * 1e3);
  }
  return 0;
}
