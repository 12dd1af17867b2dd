// melody_rnn_generate end to end: MIDI output byte-identical to what Magenta wrote for the
// same melodies (shared/data/compat/.../generated_midi), flag checks with messages naming
// the flag, output names, generation from the real 2019 bundle (reproducible by seed
// across thread counts), a directory of primers, bundles written by us read back exactly,
// and bundles of other models refused.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <limits>

#include "apps/lib/generate_bundle.h"
#include "apps/lib/generate_flags.h"
#include "apps/lib/generate_run.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "apps/lib/run_config.h"
#include "models/model_checkpoint.h"
#include "data/melody_extractor.h"
#include "data/midi_reader.h"
#include "data/midi_writer.h"
#include "data/quantize.h"
#include "models/generator_bundle.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using melody::testing::MakeTempDir;
using melody::testing::SharedPath;

constexpr const char* kPipeline = "data/compat/attention_rnn_pipeline_2019";
constexpr const char* kBundle = "data/compat/attention_rnn_pipeline_2019/my_model.mag";

using melody::testing::FilesIn;

// The one melody of a generated file, as the generator would have held it.
Melody MelodyOfMidi(const std::string& bytes) {
  const magenta::NoteSequence q = QuantizeNoteSequence(MidiToNoteSequence(bytes), 4);
  MelodyExtractorOptions o;
  o.min_bars = 0;
  o.max_steps_truncate = std::nullopt;
  o.min_unique_pitches = 1;
  o.gap_bars = std::numeric_limits<double>::infinity();
  o.ignore_polyphonic_notes = true;
  Statistics stats;
  std::vector<Melody> melodies = ExtractMelodies(q, o, &stats);
  MELODY_REQUIRE(melodies.size() == 1) << "expected one melody";
  return melodies[0];
}

TEST(GenerateOutputTest, MagentaGeneratedMidiReencodesByteForByte) {
  MELODY_REQUIRE_SHARED(std::string(kPipeline) + "/generated_midi");
  const std::string dir = SharedPath(std::string(kPipeline) + "/generated_midi");
  int matched = 0;
  for (const std::string& name : FilesIn(dir)) {
    const std::string bytes = ReadFileToString(JoinPath(dir, name));
    const Melody m = MelodyOfMidi(bytes);
    EXPECT_EQ(NoteSequenceToMidi(MelodyToNoteSequence(m, 120.0)), bytes) << name;
    matched += NoteSequenceToMidi(MelodyToNoteSequence(m, 120.0)) == bytes;
  }
  EXPECT_EQ(matched, 20);
}

GenerateFlags BundleFlags(const std::string& out) {
  GenerateFlags f;
  f.bundle_file = SharedPath(kBundle);
  f.output_dir = out;
  f.num_outputs = 3;
  f.num_steps = 48;
  f.seed = 1234;
  f.seed_given = true;
  f.num_threads = 1;
  return f;
}

std::string FlagError(const GenerateFlags& f) {
  try {
    ValidateGenerateFlags(f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GenerateFlagsTest, EveryBadValueNamesItsFlag) {
  const GenerateFlags good = BundleFlags("/tmp/x");
  EXPECT_EQ(FlagError(good), "");
  auto with = [&](auto change) {
    GenerateFlags f = good;
    change(f);
    return FlagError(f);
  };
  EXPECT_NE(with([](GenerateFlags& f) { f.temperature = 0; }).find("--temperature"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.temperature = -1; }).find("--temperature"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.temperature = NAN; }).find("--temperature"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.beam_size = 0; }).find("--beam_size"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.branch_factor = 0; }).find("--branch_factor"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.steps_per_iteration = 0; }).find("--steps_per_iteration"),
            std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.num_outputs = 0; }).find("--num_outputs"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.num_steps = 0; }).find("--num_steps"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.qpm = -5; }).find("--qpm"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.device = "tpu"; }).find("--device"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.output_dir = ""; }).find("--output_dir required"), std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.primer_melody = "[60, 300]"; }).find("--primer_melody"),
            std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.run_dir = "/r"; }).find("Cannot specify both bundle_file"),
            std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) { f.bundle_file = ""; }).find("Either checkpoint or bundle"),
            std::string::npos);
  EXPECT_NE(with([](GenerateFlags& f) {
              f.save_generator_bundle = true;
              f.bundle_file = "";
              f.run_dir = "/r";
            }).find("--bundle_file"),
            std::string::npos);
}

TEST(GenerateOutputTest, FileNames) {
  EXPECT_EQ(OutputFileName("2019-02-20_002628", "", 1, 10), "2019-02-20_002628_01.mid");
  EXPECT_EQ(OutputFileName("2019-02-20_002628", "", 10, 10), "2019-02-20_002628_10.mid");
  EXPECT_EQ(OutputFileName("s", "", 1, 1), "s_1.mid");
  EXPECT_EQ(OutputFileName("s", "", 7, 100), "s_007.mid");
  EXPECT_EQ(OutputFileName("s", "tune", 2, 20), "s_tune_02.mid");
  EXPECT_EQ(LocalTimeStamp().size(), std::string("2019-02-20_002628").size());
}

TEST(GenerateBundleTest, GeneratesFromTheMagenta2019BundleReproducibly) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string out = MakeTempDir("generate_bundle");
  GenerateFlags f = BundleFlags(out);
  auto ctx1 = Context::CreateCpu(1);
  auto ctx2 = Context::CreateCpu(2);
  const GeneratorModel model = LoadGeneratorFromBundle(*ctx1, f.bundle_file, "");
  EXPECT_EQ(model.config.melody.id, "attention_rnn");
  EXPECT_EQ(model.layout.shape.layer_sizes, (std::vector<int>{64, 64}));
  EXPECT_EQ(model.layout.shape.attn_length, 40);
  EXPECT_EQ(model.layout.shape.input_size, 74);
  EXPECT_EQ(model.layout.shape.num_classes, 40);
  EXPECT_EQ(model.layout.NumParameters(), 102166);
  const GenerateReport a = GenerateMidiFiles(*ctx1, model, CollectPrimers(f), f, "a");
  const GenerateReport b = GenerateMidiFiles(*ctx2, model, CollectPrimers(f), f, "b");
  ASSERT_EQ(a.files.size(), 3u);
  EXPECT_EQ(Basename(a.files[0]), "a_1.mid");
  for (size_t i = 0; i < a.files.size(); ++i) {
    const std::string bytes = ReadFileToString(a.files[i]);
    EXPECT_EQ(bytes, ReadFileToString(b.files[i])) << i;
    const magenta::NoteSequence s = MidiToNoteSequence(bytes);
    ASSERT_GT(s.notes_size(), 0);
    EXPECT_EQ(s.notes(0).pitch(), 60);  // the default primer survives squash and back
    EXPECT_EQ(s.notes(0).start_time(), 0.0);
    EXPECT_LE(s.total_time(), 48 * 0.125 + 1e-9);
    EXPECT_LT(a.log_likelihoods[i], 0.0f);
    // Same header and timing track as Magenta's files (formats.md §10).
    EXPECT_EQ(bytes.substr(0, 14), std::string("MThd\0\0\0\x06\0\x01\0\x02\0\xdc", 14));
    EXPECT_EQ(bytes.substr(14, 27),
              std::string("MTrk\0\0\0\x13\0\xff\x51\x03\x07\xa1\x20\0\xff\x58\x04\x04\x02\x18\x08\x01\xff\x2f\0", 27));
  }
  // Another seed gives other melodies.
  f.seed = 1235;
  const GenerateReport c = GenerateMidiFiles(*ctx1, model, CollectPrimers(f), f, "c");
  int differing = 0;
  for (size_t i = 0; i < c.files.size(); ++i)
    differing += ReadFileToString(c.files[i]) != ReadFileToString(a.files[i]);
  EXPECT_GT(differing, 0);
}

TEST(GenerateBundleTest, BeamSearchAndPrimerMelody) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string out = MakeTempDir("generate_beam");
  GenerateFlags f = BundleFlags(out);
  f.primer_melody = "[60, -2, 60, -2, 67, -2, 67, -2]";
  f.beam_size = 3;
  f.branch_factor = 2;
  f.steps_per_iteration = 4;
  f.num_outputs = 2;
  f.qpm = 90;
  auto ctx = Context::CreateCpu(2);
  const GeneratorModel model = LoadGeneratorFromBundle(*ctx, f.bundle_file, "");
  const GenerateReport r = GenerateMidiFiles(*ctx, model, CollectPrimers(f), f, "beam");
  ASSERT_EQ(r.files.size(), 2u);
  for (const std::string& file : r.files) {
    const magenta::NoteSequence s = MidiToNoteSequence(ReadFileToString(file));
    ASSERT_GE(s.notes_size(), 4);
    EXPECT_NEAR(s.tempos(0).qpm(), 90.0, 1e-3);  // µs per quarter in the file
    EXPECT_EQ(s.notes(0).pitch(), 60);
    EXPECT_EQ(s.notes(2).pitch(), 67);
  }
}

TEST(GenerateBundleTest, DirectoryOfPrimers) {
  MELODY_REQUIRE_SHARED(std::string(kPipeline) + "/generated_midi");
  const std::string primers = MakeTempDir("generate_primers");
  const std::string src = SharedPath(std::string(kPipeline) + "/generated_midi");
  // Two-bar primers cut from two of Magenta's outputs.
  for (const char* name : {"2019-02-16_011341_01.mid", "2019-02-20_002628_05.mid"}) {
    Melody m = MelodyOfMidi(ReadFileToString(JoinPath(src, name)));
    m.SetLength(32);
    WriteFileAtomically(JoinPath(primers, name), NoteSequenceToMidi(MelodyToNoteSequence(m, 120)));
  }
  const std::string out = MakeTempDir("generate_dir_out");
  GenerateFlags f = BundleFlags(out);
  f.primer_midi = primers;
  f.num_outputs = 2;
  auto ctx = Context::CreateCpu(2);
  const GeneratorModel model = LoadGeneratorFromBundle(*ctx, f.bundle_file, "");
  const GenerateReport r = GenerateMidiFiles(*ctx, model, CollectPrimers(f), f, "S");
  EXPECT_EQ(FilesIn(out), (std::vector<std::string>{"S_2019-02-16_011341_01_1.mid", "S_2019-02-16_011341_01_2.mid",
                                                     "S_2019-02-20_002628_05_1.mid", "S_2019-02-20_002628_05_2.mid"}));
  // Each output starts with its own primer.
  for (size_t i = 0; i < r.files.size(); ++i) {
    const Melody primer = MelodyOfMidi(ReadFileToString(JoinPath(primers, i < 2 ? "2019-02-16_011341_01.mid" : "2019-02-20_002628_05.mid")));
    const Melody got = MelodyOfMidi(ReadFileToString(r.files[i]));
    ASSERT_GE(got.events.size(), 30u);
    EXPECT_EQ(std::vector<int>(got.events.begin(), got.events.begin() + 30),
              std::vector<int>(primer.events.begin(), primer.events.begin() + 30)) << i;
  }
  // A glob of the same files gives the same names.
  f.primer_midi = primers + "/*.mid";
  EXPECT_EQ(CollectPrimers(f).size(), 2u);
  f.primer_midi = primers + "/*.nothing";
  EXPECT_THROW(CollectPrimers(f), Error);
}

TEST(GenerateBundleTest, BundleOfAnotherModelIsRefused) {
  MELODY_REQUIRE_SHARED(kBundle);
  GeneratorBundleContents b = ReadGeneratorBundle(SharedPath(kBundle));
  b.generator_id = "polyphony";
  const std::string path = JoinPath(MakeTempDir("generate_poly"), "poly.mag");
  WriteFileAtomically(path, SerializeGeneratorBundle(b));
  auto ctx = Context::CreateCpu(1);
  try {
    LoadGeneratorFromBundle(*ctx, path, "");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'polyphony'"), std::string::npos) << m;
    EXPECT_NE(m.find("attention_rnn"), std::string::npos) << m;
  }
  // An HTML page saved as a .mag.
  WriteFileAtomically(path, "<!DOCTYPE html>\n<html><head><title>404</title></head></html>");
  EXPECT_THROW(LoadGeneratorFromBundle(*ctx, path, ""), Error);
}

TEST(GenerateBundleTest, SavedBundleReadsBackExactly) {
  // A checkpoint of a small lookback_rnn, as training writes it.
  const std::string run = MakeTempDir("generate_save");
  MelodyRnnConfig config = DefaultMelodyRnnConfig("lookback_rnn");
  config.hparams.Parse("rnn_layer_sizes=[16,8],batch_size=7,learning_rate=0.0123");
  ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, ModelHParamsFrom(config.hparams)));
  Parameters params(layout);
  params.InitializeRandom(99);
  TensorMap tensors;
  for (size_t i = 0; i < params.size(); ++i) tensors[params.name(i)] = params.at(i);
  MakeDirectories(JoinPath(run, "train"));
  WriteCheckpointV2(JoinPath(run, "train/model.ckpt-5"), tensors);
  WriteCheckpointStateFile(JoinPath(run, "train"), {"model.ckpt-5", {"model.ckpt-5"}});

  GenerateFlags f;
  f.config.config = "lookback_rnn";
  f.config.hparams = "rnn_layer_sizes=[16,8],batch_size=7,learning_rate=0.0123";
  f.run_dir = run;
  f.save_generator_bundle = true;
  f.bundle_file = JoinPath(run, "out.mag");
  f.bundle_description = "test bundle";
  f.seed_given = true;
  RunGenerateTool(f);

  const GeneratorBundleContents b = ReadGeneratorBundle(f.bundle_file);
  EXPECT_EQ(b.generator_id, "lookback_rnn");
  EXPECT_EQ(b.bundle_description, "test bundle");
  EXPECT_TRUE(b.metagraph.empty());
  auto ctx = Context::CreateCpu(1);
  const GeneratorModel back = LoadGeneratorFromBundle(*ctx, f.bundle_file, "");
  EXPECT_EQ(back.selection.config, "lookback_rnn");
  ASSERT_EQ(back.config.hparams.entries().size(), config.hparams.entries().size());
  for (const auto& [name, value] : config.hparams.entries())
    EXPECT_TRUE(back.config.hparams.Get(name) == value) << name;
  ASSERT_EQ(back.params.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_EQ(back.params.name(i), params.name(i));
    EXPECT_EQ(back.params.at(i).ToVector(), params.at(i).ToVector()) << params.name(i);
  }
}

// Generation from a run directory that remembers its config (run_config.json): no --config
// needed, the stored hparams build the network, and --hparams that contradict them are refused.
TEST(GenerateRunDirTest, UsesTheStoredConfig) {
  const std::string run = MakeTempDir("generate_run_dir");
  const std::string train = JoinPath(run, "train");
  MakeDirectories(train);
  ConfigFlags cf;
  cf.config = "attention_rnn";
  cf.hparams = "rnn_layer_sizes=[10,6],attn_length=3";
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(cf);
  WriteRunConfig(train, RunConfigOf(cf, config));
  ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, ModelHParamsFrom(config.hparams)));
  Parameters params(layout);
  params.InitializeRandom(4);
  TensorMap tensors;
  AddParameters(params, "", &tensors);
  WriteCheckpointV2(JoinPath(train, "model.ckpt-10"), tensors);
  WriteCheckpointStateFile(train, {"model.ckpt-10", {"model.ckpt-10"}});

  GenerateFlags f;
  f.run_dir = run;
  f.output_dir = JoinPath(run, "generated");
  f.num_outputs = 2;
  f.num_steps = 32;
  f.seed = 3;
  f.seed_given = true;
  RunGenerateTool(f);
  EXPECT_EQ(FilesIn(f.output_dir).size(), 2u);
  f.config.hparams = "rnn_layer_sizes=[10,7]";
  EXPECT_THROW(RunGenerateTool(f), Error);
  // A checkpoint for another network is refused naming the variable.
  f.config.hparams = "";
  f.run_dir = "";
  f.checkpoint_file = JoinPath(train, "model.ckpt-10");
  f.config.config = "basic_rnn";
  try {
    RunGenerateTool(f);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.ckpt-10"), std::string::npos) << e.what();
  }
  f.checkpoint_file = JoinPath(train, "model.ckpt-99");
  EXPECT_THROW(RunGenerateTool(f), Error);
}

}  // namespace
}  // namespace melody
