// melody_rnn_export --format=tfjs and the import side (apps/lib/export.h, tfjs_model.h):
// exports of the real 2019 bundle, of a run directory (Adam slots, step and beta powers
// left out) and of a model larger than one 4 MiB shard read back bit for bit (quantized:
// within one step of the format); config.json says what magenta.js needs; the real
// converted checkpoint in shared/data/compat/tfjs_attention_rnn_128x128 loads and
// generates; generating from an export gives the same MIDI as from its source.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "apps/lib/device_select.h"
#include "apps/lib/export.h"
#include "apps/lib/generate_flags.h"
#include "apps/lib/generate_run.h"
#include "apps/lib/run_config.h"
#include "apps/lib/tfjs_config.h"
#include "apps/lib/tfjs_model.h"
#include "apps/lib/train_job.h"
#include "core/error.h"
#include "core/file_util.h"
#include "models/generator_bundle.h"
#include "models/model_checkpoint.h"
#include "tests/apps/train_test_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using melody::testing::MakeTempDir;
using melody::testing::SharedPath;

constexpr const char* kBundle = "data/compat/attention_rnn_pipeline_2019/my_model.mag";
constexpr const char* kCompatTfjs = "data/compat/tfjs_attention_rnn_128x128";

using melody::testing::FilesIn;

TensorMap BundleTensors() {
  const GeneratorBundleContents b = ReadGeneratorBundle(SharedPath(kBundle));
  return CanonicalizeCheckpointTensors(ParseCheckpointV1(b.checkpoint_v1, kBundle));
}

ExportReport ExportBundle(const std::string& out, const std::string& quantize) {
  ExportOptions o;
  o.source.bundle_file = SharedPath(kBundle);
  o.output_dir = out;
  o.quantize = quantize;
  return RunExport(o);
}

void ExpectBitExact(const TensorMap& expected, const TensorMap& got) {
  ASSERT_EQ(expected.size(), got.size());
  for (const auto& [name, t] : expected) {
    ASSERT_TRUE(got.count(name)) << name;
    const Tensor& u = got.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    ASSERT_EQ(u.dtype(), DType::kFloat32) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()), 0) << name;
  }
}

// Largest |a - b| over every tensor.
double MaxDifference(const TensorMap& a, const TensorMap& b) {
  double worst = 0;
  for (const auto& [name, t] : a) {
    const std::vector<float> x = t.ToVector(), y = b.at(name).ToVector();
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
  }
  return worst;
}

TEST(ExportTfjs, BundleExportReadsBackBitExact) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string out = MakeTempDir("export_bundle_");
  const ExportReport report = ExportBundle(out, "none");
  EXPECT_EQ(report.num_tensors, 14);
  EXPECT_EQ(report.num_parameters, 102166);
  EXPECT_EQ(FilesIn(out), (std::vector<std::string>{"config.json", "group1-shard1of1.bin",
                                                    "weights_manifest.json"}));
  // 102,166 float32 values, nothing else.
  EXPECT_EQ(ReadFileToString(JoinPath(out, "group1-shard1of1.bin")).size(), 102166u * 4);
  ExpectBitExact(BundleTensors(), ReadTfjsWeights(out));

  // What magenta.js reads: MelodyConverter over attention_rnn's range [48, 84), and
  // attentionLength from the bundle's graph (40); our record restores the config.
  const nlohmann::json spec = testing::LoadJson(JoinPath(out, "config.json"));
  EXPECT_EQ(spec["type"], "MusicRNN");
  EXPECT_EQ(spec["dataConverter"]["type"], "MelodyConverter");
  EXPECT_EQ(spec["dataConverter"]["args"]["minPitch"], 48);
  EXPECT_EQ(spec["dataConverter"]["args"]["maxPitch"], 83);
  EXPECT_EQ(spec["attentionLength"], 40);
  EXPECT_EQ(spec["melodyRnn"]["config"], "attention_rnn");
  EXPECT_EQ(report.magenta_js_problems.size(), 2u);  // key-melody inputs, layer-0 attention
}

TEST(ExportTfjs, ImportRestoresTheModelExactly) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string out = MakeTempDir("export_import_");
  ExportBundle(out, "none");
  auto ctx = CreateContextForFlag("cpu", 1);
  const GeneratorModel from_bundle = LoadGeneratorFromBundle(*ctx, SharedPath(kBundle), "");
  const GeneratorModel from_tfjs = LoadGeneratorFromTfjs(*ctx, out, ConfigFlags{});
  EXPECT_EQ(from_tfjs.selection.config, "attention_rnn");
  EXPECT_EQ(from_tfjs.layout.shape.attn_length, 40);
  EXPECT_EQ(from_tfjs.layout.shape.layer_sizes, (std::vector<int>{64, 64}));
  EXPECT_EQ(HParamsLogLine(from_tfjs.config.hparams), HParamsLogLine(from_bundle.config.hparams));
  ASSERT_EQ(from_tfjs.params.size(), from_bundle.params.size());
  for (size_t i = 0; i < from_bundle.params.size(); ++i) {
    const Tensor& a = from_bundle.params.at(i);
    const Tensor& b = from_tfjs.params.Get(from_bundle.params.name(i));
    EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0) << from_bundle.params.name(i);
  }
}

TEST(ExportTfjs, QuantizedExportsWithinOneStep) {
  MELODY_REQUIRE_SHARED(kBundle);
  const TensorMap original = BundleTensors();
  const std::string f16 = MakeTempDir("export_f16_");
  ExportBundle(f16, "float16");
  EXPECT_EQ(ReadFileToString(JoinPath(f16, "group1-shard1of1.bin")).size(), 102166u * 2);
  const TensorMap half = ReadTfjsWeights(f16);
  for (const auto& [name, t] : original) {
    const std::vector<float> x = t.ToVector(), y = half.at(name).ToVector();
    for (size_t i = 0; i < x.size(); ++i)  // half an ulp of binary16 (11 significant bits)
      ASSERT_LE(std::fabs(x[i] - y[i]), std::fabs(x[i]) * std::ldexp(1.0f, -11) + 3e-8f) << name;
  }
  const std::string u8 = MakeTempDir("export_u8_");
  ExportBundle(u8, "uint8");
  EXPECT_EQ(ReadFileToString(JoinPath(u8, "group1-shard1of1.bin")).size(), 102166u);
  const TensorMap levels = ReadTfjsWeights(u8);
  const nlohmann::json weights = testing::LoadJson(JoinPath(u8, "weights_manifest.json"))[0]["weights"];
  for (const nlohmann::json& w : weights) {
    const std::string name = w["name"];
    const double scale = w["quantization"]["scale"];
    TensorMap one_a{{name, original.at(name)}}, one_b{{name, levels.at(name)}};
    EXPECT_LE(MaxDifference(one_a, one_b), scale / 2 * (1 + 1e-6) + 1e-7) << name;
  }
  std::printf("2019 bundle: max |diff| float16 %.3g, uint8 %.3g\n", MaxDifference(original, half),
              MaxDifference(original, levels));
  // A quantized export still loads as a model.
  auto ctx = CreateContextForFlag("cpu", 1);
  EXPECT_EQ(LoadGeneratorFromTfjs(*ctx, u8, ConfigFlags{}).layout.NumParameters(), 102166);
}

// A run directory: the checkpoint holds Adam slots, beta powers and global_step; the export
// holds the 6 model variables of a basic_rnn only, and the run's stored config.
TEST(ExportTfjs, RunDirectoryExportHasModelTensorsOnly) {
  const std::string run = MakeTempDir("export_run_");
  const std::string train = JoinPath(run, "train");
  MakeDirectories(train);
  ConfigFlags flags;
  flags.config = "basic_rnn";
  flags.hparams = "rnn_layer_sizes=[24,16]";
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
  WriteRunConfig(train, RunConfigOf(flags, config));
  const ModelLayout layout =
      ModelLayout::Build(ModelShape::From(config.sizes, ModelHParamsFrom(config.hparams)));
  TrainingCheckpoint checkpoint{Parameters(layout), Parameters(layout), Parameters(layout)};
  checkpoint.weights.InitializeRandom(5);
  checkpoint.adam_m.InitializeRandom(6);
  checkpoint.adam_s.InitializeRandom(7);
  checkpoint.global_step = 321;
  const TensorMap all = TrainingCheckpointTensors(checkpoint);
  WriteCheckpointV2(JoinPath(train, "model.ckpt-321"), all);
  WriteCheckpointStateFile(train, {"model.ckpt-321", {"model.ckpt-321"}});

  ExportOptions o;
  o.source.run_dir = run;
  o.output_dir = JoinPath(run, "tfjs");
  const ExportReport report = RunExport(o);
  EXPECT_TRUE(report.magenta_js_problems.empty());  // one-hot, no attention: magenta.js runs it
  const TensorMap exported = ReadTfjsWeights(o.output_dir);
  TensorMap model_only;
  for (const auto& [name, t] : all)
    if (name.find("Adam") == std::string::npos && name.find("power") == std::string::npos &&
        name != "global_step")
      model_only[name] = t;
  EXPECT_EQ(model_only.size(), 6u);  // 2 LSTM kernels and biases, fully_connected weights and biases
  EXPECT_EQ(all.size(), 21u);        // + 12 Adam slots, 2 beta powers, global_step
  ExpectBitExact(model_only, exported);
  const nlohmann::json spec = testing::LoadJson(JoinPath(o.output_dir, "config.json"));
  EXPECT_FALSE(spec.contains("attentionLength"));
  EXPECT_EQ(spec["melodyRnn"]["hparams"]["rnn_layer_sizes"], nlohmann::json::array({24, 16}));

  // And back: --warm_start_tfjs_dir / --tfjs_dir read the same tensors.
  auto ctx = CreateContextForFlag("cpu", 1);
  const GeneratorModel model = LoadGeneratorFromTfjs(*ctx, o.output_dir, ConfigFlags{});
  EXPECT_EQ(model.selection.config, "basic_rnn");
  for (size_t i = 0; i < model.params.size(); ++i)
    EXPECT_EQ(std::memcmp(model.params.at(i).raw_data(), checkpoint.weights.Get(model.params.name(i)).raw_data(),
                          model.params.at(i).nbytes()), 0);
}

// 2 x 512 units (about the size of magenta.js's basic_rnn, 13 MB): four shards, each at
// most 4 MiB, a tensor split across shard boundaries, read back bit for bit.
TEST(ExportTfjs, LargeModelIsShardedAtFourMiB) {
  const std::string dir = MakeTempDir("export_large_");
  ConfigFlags flags;
  flags.config = "basic_rnn";
  flags.hparams = "rnn_layer_sizes=[512,512]";
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
  const ModelLayout layout =
      ModelLayout::Build(ModelShape::From(config.sizes, ModelHParamsFrom(config.hparams)));
  Parameters weights(layout);
  weights.InitializeRandom(11);
  TensorMap tensors;
  AddParameters(weights, "", &tensors);
  WriteCheckpointV2(JoinPath(dir, "model.ckpt-1"), tensors);
  ExportOptions o;
  o.source.checkpoint_file = JoinPath(dir, "model.ckpt-1");
  o.config = flags;
  o.output_dir = JoinPath(dir, "tfjs");
  RunExport(o);
  EXPECT_EQ(layout.NumParameters(), 3247142);  // formats.md §6: magenta.js's basic_rnn size
  const std::vector<std::string> files = FilesIn(o.output_dir);
  EXPECT_EQ(files, (std::vector<std::string>{"config.json", "group1-shard1of4.bin",
                                             "group1-shard2of4.bin", "group1-shard3of4.bin",
                                             "group1-shard4of4.bin", "weights_manifest.json"}));
  int64_t total = 0;
  for (int i = 1; i <= 4; ++i) {
    const size_t size =
        ReadFileToString(JoinPath(o.output_dir, "group1-shard" + std::to_string(i) + "of4.bin")).size();
    EXPECT_LE(size, 4u * 1024 * 1024);
    if (i < 4) {
      EXPECT_EQ(size, 4u * 1024 * 1024);
    }
    total += static_cast<int64_t>(size);
  }
  EXPECT_EQ(total, 3247142 * 4);
  ExpectBitExact(tensors, ReadTfjsWeights(o.output_dir));

  // Re-exporting a one-shard model into the same directory leaves no stale shard.
  o.config.hparams = "rnn_layer_sizes=[16]";
  Parameters small(ModelLayout::Build(ModelShape::From(
      config.sizes, ModelHParamsFrom(MelodyRnnConfigFromFlags(o.config).hparams))));
  small.InitializeRandom(12);
  TensorMap small_tensors;
  AddParameters(small, "", &small_tensors);
  WriteCheckpointV2(JoinPath(dir, "model.ckpt-2"), small_tensors);
  o.source.checkpoint_file = JoinPath(dir, "model.ckpt-2");
  RunExport(o);
  EXPECT_EQ(FilesIn(o.output_dir), (std::vector<std::string>{"config.json", "group1-shard1of1.bin",
                                                             "weights_manifest.json"}));
  ExpectBitExact(small_tensors, ReadTfjsWeights(o.output_dir));
}

TEST(ExportTfjs, BadOptionsNameTheFlag) {
  ExportOptions o;
  o.output_dir = "/tmp/x";
  EXPECT_THROW(RunExport(o), Error);  // no source
  o.source.bundle_file = "a.mag";
  o.source.run_dir = "r";
  EXPECT_THROW(RunExport(o), Error);  // two sources
  o.source.run_dir.clear();
  o.format = "onnx";
  try {
    RunExport(o);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--format"), std::string::npos);
  }
  o.format = "tfjs";
  o.quantize = "int4";
  try {
    RunExport(o);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--quantize"), std::string::npos);
  }
}

// The user's converted attention_rnn (h = 128): Adam slots ignored, attention_rnn found
// from the tensors, attn_length defaulting to the config's 40 (its config.json has none).
TEST(ImportTfjs, CompatCheckpointLoadsAndGenerates) {
  MELODY_REQUIRE_SHARED(kCompatTfjs);
  auto ctx = CreateContextForFlag("cpu", 1);
  const GeneratorModel model = LoadGeneratorFromTfjs(*ctx, SharedPath(kCompatTfjs), ConfigFlags{});
  EXPECT_EQ(model.selection.config, "attention_rnn");
  EXPECT_EQ(model.layout.shape.layer_sizes, (std::vector<int>{128, 128}));
  EXPECT_EQ(model.layout.shape.attn_length, 40);
  EXPECT_EQ(model.params.size(), 14u);

  GenerateFlags flags;
  flags.tfjs_dir = SharedPath(kCompatTfjs);
  flags.output_dir = MakeTempDir("import_compat_gen_");
  flags.num_outputs = 2;
  flags.num_steps = 32;
  flags.primer_melody = "[60]";
  flags.seed = 3;
  flags.seed_given = true;
  flags.num_threads = 1;
  RunGenerateTool(flags);
  EXPECT_EQ(FilesIn(flags.output_dir).size(), 2u);
}

// Generating from the export equals generating from the bundle it came from (same seed).
TEST(ImportTfjs, GenerationFromExportEqualsBundle) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string out = MakeTempDir("import_equal_");
  ExportBundle(JoinPath(out, "tfjs"), "none");
  GenerateFlags flags;
  flags.num_outputs = 3;
  flags.num_steps = 48;
  flags.primer_melody = "[60, -2, 62]";
  flags.seed = 17;
  flags.seed_given = true;
  flags.num_threads = 1;
  GenerateFlags a = flags, b = flags;
  a.bundle_file = SharedPath(kBundle);
  a.output_dir = JoinPath(out, "from_bundle");
  b.tfjs_dir = JoinPath(out, "tfjs");
  b.output_dir = JoinPath(out, "from_tfjs");
  RunGenerateTool(a);
  RunGenerateTool(b);
  const std::vector<std::string> fa = FilesIn(a.output_dir), fb = FilesIn(b.output_dir);
  ASSERT_EQ(fa.size(), 3u);
  ASSERT_EQ(fb.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(ReadFileToString(JoinPath(a.output_dir, fa[i])),
              ReadFileToString(JoinPath(b.output_dir, fb[i])))
        << fa[i] << " vs " << fb[i];
}

// --warm_start_tfjs_dir: the session-start checkpoint of a fresh run holds the export's
// weights bit for bit (and fresh Adam slots).
TEST(ImportTfjs, WarmStartTrainingFromExport) {
  const std::string dir = MakeTempDir("import_warm_");
  ConfigFlags flags;
  flags.config = "basic_rnn";
  flags.hparams = "batch_size=4,rnn_layer_sizes=[16,12]";
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
  const ModelLayout layout =
      ModelLayout::Build(ModelShape::From(config.sizes, ModelHParamsFrom(config.hparams)));
  Parameters weights(layout);
  weights.InitializeRandom(21);
  TensorMap tensors;
  AddParameters(weights, "", &tensors);
  WriteCheckpointV2(JoinPath(dir, "model.ckpt-9"), tensors);
  ExportOptions e;
  e.source.checkpoint_file = JoinPath(dir, "model.ckpt-9");
  e.config = flags;
  e.output_dir = JoinPath(dir, "tfjs");
  RunExport(e);

  TrainJobOptions o;
  o.run_dir = JoinPath(dir, "run");
  o.sequence_example_file = JoinPath(dir, "training_melodies.tfrecord");
  testing::WriteTinyTrainingSet(o.sequence_example_file, "basic_rnn", 8, 8, 1);
  o.config_flags = flags;
  o.num_training_steps = 1;
  o.save_checkpoint_secs = 0;
  o.device = "cpu";
  o.num_threads = 1;
  o.warm_start_tfjs_dir = e.output_dir;
  RunTrainJob(o);
  const TensorMap start = ReadCheckpointV2(JoinPath(TrainDirOf(o.run_dir), "model.ckpt-0"));
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(start.count(name)) << name;
    EXPECT_EQ(std::memcmp(start.at(name).raw_data(), t.raw_data(), t.nbytes()), 0) << name;
  }
  o.warm_start_bundle_file = "x.mag";  // two warm-start sources
  o.run_dir = JoinPath(dir, "run2");
  EXPECT_THROW(RunTrainJob(o), Error);
}

TEST(ImportTfjs, FlagConflictsAreRefused) {
  GenerateFlags f;
  f.tfjs_dir = "d";
  f.bundle_file = "b.mag";
  EXPECT_THROW(ValidateWeightSource(f), Error);
  f.bundle_file.clear();
  EXPECT_NO_THROW(ValidateWeightSource(f));
  f.run_dir = "r";
  EXPECT_THROW(ValidateWeightSource(f), Error);
}

TEST(ImportTfjs, ConfigJsonErrors) {
  EXPECT_THROW(ParseTfjsConfigJson("[1]", "c.json"), Error);
  EXPECT_THROW(ParseTfjsConfigJson(R"({"type": "MusicVAE"})", "c.json"), Error);
  EXPECT_THROW(ParseTfjsConfigJson(R"({"type": "MusicRNN", "attentionLength": 0})", "c.json"), Error);
  const TfjsModelSpec spec = ParseTfjsConfigJson(
      R"({"type": "MusicRNN", "dataConverter": {"type": "MelodyConverter", "args": {"minPitch": 0, "maxPitch": 127}}})",
      "c.json");
  EXPECT_EQ(spec.converter_type, "MelodyConverter");
  EXPECT_EQ(*spec.min_pitch, 0);
  EXPECT_EQ(*spec.max_pitch, 127);
  EXPECT_FALSE(spec.attention_length);
  EXPECT_FALSE(spec.config_record);
}

}  // namespace
}  // namespace melody
