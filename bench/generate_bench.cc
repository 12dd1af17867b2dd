// melody_rnn_generate speed (issue 8): 10 outputs x 128 steps from the primer [60], plain
// sampling and --beam_size=4 --branch_factor=2, for each config at default hparams (random
// weights) and for the 2019 Magenta bundle; "generation" is the batched beam search alone
// (best of --repeats, wall and process CPU seconds), "process" runs the melody_rnn_generate
// binary on a bundle (best of --repeats: wall and the child's CPU from wait4). Then one batched run of
// --large_outputs attention_rnn melodies (melodies/s). Writes the numbers as JSON to --out;
// with --checkpoints_dir it also writes each config's weights as a training run directory
// (<dir>/<config>/train) so that bench/run_generate_bench.sh can time the reference on the
// same weights.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/lib/generate_beam_search.h"
#include "apps/lib/generate_bundle.h"
#include "apps/lib/generate_model.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "data/melody_squash.h"
#include "models/model_checkpoint.h"

DEFINE_string(configs, "basic_rnn,mono_rnn,lookback_rnn,attention_rnn", "Configs to time.");
DEFINE_string(bundle, "../shared/data/compat/attention_rnn_pipeline_2019/my_model.mag",
              "A Magenta bundle to time as well (skipped when missing).");
DEFINE_string(generate_binary, "", "melody_rnn_generate (default: ../apps/ beside this binary).");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores).");
DEFINE_int32(repeats, 3, "Timed generation runs per row (the best is kept).");
DEFINE_int64(large_outputs, 10000, "attention_rnn outputs of the large batched run (0: skip).");
DEFINE_string(checkpoints_dir, "", "Also write each config's weights as <dir>/<config>/train.");
DEFINE_string(out, "bench/results/generate.json", "File receiving the numbers (JSON).");

namespace melody {
namespace {

using Clock = std::chrono::steady_clock;

double Now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }
double CpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  for (char c : s + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

struct Timing {
  double wall = 1e30, cpu = 1e30;
};

// 10 outputs of 125 events after the primer [60] padded to [60, -1, -2] (generation.md §4).
Timing TimeGeneration(Context& ctx, const GeneratorModel& model, int64_t outputs, int beam,
                      int branch, int repeats) {
  std::vector<int> primer{60, -1, -2};
  const MelodyConfig& mc = model.config.melody;
  SquashMelody(&primer, mc.min_note, mc.max_note, mc.transpose_to_key);
  std::vector<GenerationJob> jobs;
  for (int64_t i = 0; i < outputs; ++i) jobs.push_back({primer, 125, static_cast<uint64_t>(i)});
  BeamSearchOptions o;
  o.beam_size = beam;
  o.branch_factor = branch;
  o.seed = 1;
  auto encoder = mc.MakeEncoder();
  Timing best;
  for (int r = 0; r < repeats; ++r) {
    const double w0 = Now(), c0 = CpuNow();
    GenerateWithBeamSearch(ctx, model.layout, model.params, *encoder, jobs, o);
    best.wall = std::min(best.wall, Now() - w0);
    best.cpu = std::min(best.cpu, CpuNow() - c0);
  }
  return best;
}

// Runs the binary; wall seconds and the child's user+system CPU seconds.
Timing TimeProcess(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const double w0 = Now();
  pid_t pid = 0;
  MELODY_REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0)
      << "cannot run " << args[0];
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  posix_spawn_file_actions_destroy(&actions);
  MELODY_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args[0] << " failed";
  Timing t;
  t.wall = Now() - w0;
  t.cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
          usage.ru_stime.tv_usec * 1e-6;
  return t;
}

GeneratorModel RandomModel(Context& ctx, const std::string& config_id) {
  GeneratorModel model;
  model.config = DefaultMelodyRnnConfig(config_id);
  model.selection.config = config_id;
  model.layout = ModelLayout::Build(ModelShape::From(model.config.sizes, ModelHParamsFrom(model.config.hparams)));
  model.params = Parameters(model.layout);
  model.params.InitializeRandom(2026);
  model.source = "random " + config_id;
  (void)ctx;
  return model;
}

int Main(const std::string& argv0) {
  auto ctx = Context::CreateCpu(FLAGS_threads);
  const std::string binary = !FLAGS_generate_binary.empty()
                                 ? FLAGS_generate_binary
                                 : JoinPath(Dirname(Dirname(argv0)), "apps/melody_rnn_generate");
  const std::string tmp = "/tmp/generate_bench." + std::to_string(getpid());
  MakeDirectories(tmp);
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  std::printf("%-14s %-10s %10s %10s %10s %10s\n", "model", "search", "gen wall", "gen cpu",
              "proc wall", "proc cpu");
  struct Row {
    std::string name;
    GeneratorModel model;
    std::string bundle;
  };
  std::vector<Row> rows;
  for (const std::string& id : Split(FLAGS_configs)) {
    Row r{id, RandomModel(*ctx, id), JoinPath(tmp, id + ".mag")};
    SaveBundleOptions save;
    save.bundle_file = r.bundle;
    save.bundle_description = "generate_bench";
    SaveGeneratorBundle(r.model, save);
    if (!FLAGS_checkpoints_dir.empty()) {
      const std::string train = JoinPath(JoinPath(FLAGS_checkpoints_dir, id), "train");
      MakeDirectories(train);
      TensorMap tensors;
      AddParameters(r.model.params, "", &tensors);
      WriteCheckpointV2(JoinPath(train, "model.ckpt-1"), tensors);
      WriteCheckpointStateFile(train, {"model.ckpt-1", {"model.ckpt-1"}});
    }
    rows.push_back(std::move(r));
  }
  if (PathExists(FLAGS_bundle))
    rows.push_back({"bundle_2019", LoadGeneratorFromBundle(*ctx, FLAGS_bundle, ""), FLAGS_bundle});
  else
    std::printf("(bundle %s not found: skipped)\n", FLAGS_bundle.c_str());

  for (const Row& r : rows) {
    for (int mode = 0; mode < 2; ++mode) {
      const int beam = mode ? 4 : 1, branch = mode ? 2 : 1;
      const Timing gen = TimeGeneration(*ctx, r.model, 10, beam, branch, FLAGS_repeats);
      Timing proc;
      for (int rep = 0; rep < FLAGS_repeats; ++rep) {
        const Timing t = TimeProcess(
          {binary, "--bundle_file=" + r.bundle, "--output_dir=" + JoinPath(tmp, "out"),
           "--num_outputs=10", "--num_steps=128", "--primer_melody=[60]", "--seed=1",
           "--beam_size=" + std::to_string(beam), "--branch_factor=" + std::to_string(branch),
           "--num_threads=" + std::to_string(FLAGS_threads), "--log=ERROR"});
        proc.wall = std::min(proc.wall, t.wall);
        proc.cpu = std::min(proc.cpu, t.cpu);
      }
      const char* search = mode ? "beam 4x2" : "sampling";
      std::printf("%-14s %-10s %9.4fs %9.4fs %9.4fs %9.4fs\n", r.name.c_str(), search, gen.wall,
                  gen.cpu, proc.wall, proc.cpu);
      results.push_back({{"model", r.name}, {"search", search}, {"outputs", 10}, {"num_steps", 128},
                         {"generation_wall_s", gen.wall}, {"generation_cpu_s", gen.cpu},
                         {"process_wall_s", proc.wall}, {"process_cpu_s", proc.cpu}});
    }
  }
  if (FLAGS_large_outputs > 0) {
    const GeneratorModel model = RandomModel(*ctx, "attention_rnn");
    const Timing t = TimeGeneration(*ctx, model, FLAGS_large_outputs, 1, 1, 1);
    std::printf("attention_rnn: %lld outputs x 128 steps in one batch: %.2f s wall, %.2f s cpu, "
                "%.0f melodies/s\n", static_cast<long long>(FLAGS_large_outputs), t.wall, t.cpu,
                FLAGS_large_outputs / t.wall);
    results.push_back({{"model", "attention_rnn"}, {"search", "sampling"},
                       {"outputs", FLAGS_large_outputs}, {"num_steps", 128},
                       {"generation_wall_s", t.wall}, {"generation_cpu_s", t.cpu},
                       {"melodies_per_s", FLAGS_large_outputs / t.wall}});
  }
  nlohmann::ordered_json doc;
  doc["threads"] = ctx->num_threads();
  doc["results"] = results;
  MakeDirectories(Dirname(FLAGS_out).empty() ? "." : Dirname(FLAGS_out));
  std::ofstream(FLAGS_out) << doc.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace melody

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  FLAGS_minloglevel = 1;
  try {
    return melody::Main(argv[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate_bench: %s\n", e.what());
    return 1;
  }
}
