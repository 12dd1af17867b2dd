// Whole training steps as melody_rnn_train runs them (input pipeline thread, forward,
// backward, per-tensor clipping, Adam), on the Nottingham dataset made with our own tools
// (shared/data/nottingham -> NoteSequences -> training_melodies.tfrecord per config), for
// each config at default hparams and attention_rnn at batch 64, 2x64. Prints steps/s,
// examples/s, events/s (valid positions), the time the step waited on input, CPU user and
// system seconds, peak RSS, and the GEMM GFLOP/s (at valid positions) as a fraction of the
// OpenBLAS sgemm ceiling measured in the same run. Writes JSON to --out.
#include <gflags/gflags.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/lib/convert_dir.h"
#include "apps/lib/create_dataset.h"
#include "apps/lib/device_select.h"
#include "apps/lib/train_data.h"
#include "apps/lib/trainer.h"
#include "bench/bench_util.h"
#include "core/file_util.h"

DEFINE_string(cases, "basic_rnn,mono_rnn,lookback_rnn,attention_rnn,attention_rnn@batch_size=64;rnn_layer_sizes=[64,64]",
              "Comma-separated configs, each optionally @hparams with ';' between assignments.");
DEFINE_int32(steps, 5, "Timed steps per case (after --warmup steps).");
DEFINE_int32(warmup, 1, "Untimed steps first (page faults, thread pools).");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores).");
DEFINE_string(device, "cpu", "cpu or cuda.");
DEFINE_string(shared_dir, "", "shared/ directory (default: $MELODY_SHARED_DIR or ../shared).");
DEFINE_string(scratch_dir, "/tmp/train_bench", "Where the datasets are written (reused).");
DEFINE_string(out, "bench/results/train.json", "File receiving the numbers (JSON).");

namespace {

using namespace melody;
using bench::Clock;

// Splits on `sep` outside [...] (so "rnn_layer_sizes=[64,64]" stays whole).
std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  int depth = 0;
  for (char c : s) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == sep && depth == 0) {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item.push_back(c);
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

// <scratch>/<config>/training_melodies.tfrecord, made once by our own two tools.
std::string DatasetFor(const std::string& config_id) {
  const std::string shared = FLAGS_shared_dir.empty() ? bench::DefaultSharedDir() : FLAGS_shared_dir;
  const std::string notesequences = JoinPath(FLAGS_scratch_dir, "notesequences.tfrecord");
  if (!PathExists(notesequences)) {
    ConvertDirOptions convert;
    convert.input_dir = JoinPath(shared, "data/nottingham");
    convert.output_file = notesequences;
    ConvertDirToNoteSequences(convert);
  }
  const std::string out_dir = JoinPath(FLAGS_scratch_dir, config_id);
  const std::string training = JoinPath(out_dir, "training_melodies.tfrecord");
  if (!PathExists(training)) {
    CreateDatasetOptions options;
    options.config = MelodyConfigById(config_id);
    options.log_progress = false;
    CreateDatasetFiles files;
    files.input = notesequences;
    files.output_dir = out_dir;
    CreateDataset(files, options);
  }
  return training;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  auto ctx = CreateContextForFlag(FLAGS_device, FLAGS_threads);
  const double ceiling = bench::SgemmCeilingGflops(2);
  std::printf("device %s, %d CPU threads, OpenBLAS sgemm ceiling %.1f GFLOP/s\n\n",
              ctx->device().ToString().c_str(), ctx->num_threads(), ceiling);
  std::printf("%-44s %8s %10s %11s %9s %8s %8s %9s %8s %9s\n", "case", "steps/s", "examples/s",
              "events/s", "wait %", "user s", "sys s", "GFLOP/s", "ceiling", "peak MiB");
  nlohmann::json out;
  out["device"] = ctx->device().ToString();
  out["threads"] = ctx->num_threads();
  out["sgemm_ceiling_gflops"] = ceiling;
  out["rows"] = nlohmann::json::array();
  for (const std::string& spec : Split(FLAGS_cases, ',')) {
    const auto parts = Split(spec, '@');
    ConfigFlags flags;
    flags.config = parts.at(0);
    if (parts.size() > 1) {
      std::string h = parts[1];
      for (char& c : h)
        if (c == ';') c = ',';
      flags.hparams = h;
    }
    const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
    const ModelHParams hp = ModelHParamsFrom(config.hparams);
    const ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, hp));
    const SequenceExampleSet data = SequenceExampleSet::Load(
        {DatasetFor(flags.config)}, config.sizes.input_size, config.sizes.num_classes);
    Trainer trainer(*ctx, layout, config.sizes.no_event_label, TrainerOptionsFrom(hp, 1));
    trainer.InitializeFresh(1);
    EpochOrder order(1, data.size());
    BatchPrefetcher prefetcher(
        [&](int64_t step) {
          return MakePaddedBatch(data, TrainingBatchRecords(&order, step, hp.batch_size));
        },
        0);
    for (int i = 0; i < FLAGS_warmup; ++i) trainer.Step(prefetcher.Next());
    const double wait0 = prefetcher.blocked_seconds();
    const auto [user0, sys0] = bench::ProcessCpuSeconds();
    double gflop = 0;
    int64_t events = 0, padded = 0;
    const auto t0 = Clock::now();
    for (int i = 0; i < FLAGS_steps; ++i) {
      const HostBatch batch = prefetcher.Next();
      const auto flops = trainer.CountGemmFlops(batch.lengths);
      gflop += (flops.forward + flops.backward) / 1e9;
      events += trainer.Step(batch).num_positions;
      padded += batch.inputs.dim(0) * batch.inputs.dim(1);
    }
    ctx->Synchronize();
    const double seconds = bench::SecondsSince(t0);
    const auto [user1, sys1] = bench::ProcessCpuSeconds();
    const double wait = prefetcher.blocked_seconds() - wait0;
    const double rate = gflop / seconds;
    std::printf("%-44s %8.3f %10.1f %11.0f %8.2f%% %8.1f %8.1f %9.1f %7.0f%% %9.0f\n",
                spec.c_str(), FLAGS_steps / seconds, FLAGS_steps * hp.batch_size / seconds,
                events / seconds, 100 * wait / seconds, user1 - user0, sys1 - sys0, rate,
                100 * rate / ceiling, bench::PeakRssMiB());
    std::fflush(stdout);
    out["rows"].push_back({{"case", spec},
                           {"batch_size", hp.batch_size},
                           {"steps", FLAGS_steps},
                           {"seconds", seconds},
                           {"steps_per_second", FLAGS_steps / seconds},
                           {"examples_per_second", FLAGS_steps * hp.batch_size / seconds},
                           {"events_per_second", events / seconds},
                           {"valid_fraction", static_cast<double>(events) / padded},
                           {"input_wait_seconds", wait},
                           {"user_seconds", user1 - user0},
                           {"system_seconds", sys1 - sys0},
                           {"gemm_gflop", gflop},
                           {"gemm_gflops", rate},
                           {"ratio_to_ceiling", rate / ceiling},
                           {"peak_rss_mib", bench::PeakRssMiB()}});
  }
  MakeDirectories(Dirname(FLAGS_out));
  std::ofstream(FLAGS_out) << out.dump(2) << "\n";
  std::printf("\nwrote %s\n", FLAGS_out.c_str());
  return 0;
}
