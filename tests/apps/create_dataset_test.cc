// melody_rnn_create_dataset against the reference: the whole Nottingham set for every
// config (shared/golden/create_dataset), real data from a 2019 attention_rnn pipeline run
// (shared/data/compat/attention_rnn_pipeline_2019), determinism over thread counts and
// seeds, and the error cases.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <sys/wait.h>

#include "apps/lib/create_dataset.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "data/midi_reader.h"
#include "data/sequence_example_io.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using melody::testing::LoadJson;
using melody::testing::MakeTempDir;
using melody::testing::Sha1Hex;
using melody::testing::Sha256Hex;
using melody::testing::SharedPath;

std::vector<std::string> SortedMidiNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".mid") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The serialized NoteSequences convert_dir_to_note_sequences writes for data/nottingham:
// MidiToNoteSequence plus id, filename and collection_name. Converted once per test
// binary, in parallel.
const std::vector<std::string>& NottinghamSequences() {
  static const std::vector<std::string> sequences = [] {
    const std::string dir = SharedPath("data/nottingham");
    const std::vector<std::string> names = SortedMidiNames(dir);
    std::vector<std::string> out(names.size());
    std::atomic<size_t> next{0};
    std::mutex error_mutex;
    std::string first_error;
    auto work = [&] {
      for (size_t i = next++; i < names.size(); i = next++) {
        try {
          magenta::NoteSequence ns =
              MidiToNoteSequence(ReadFileToString(JoinPath(dir, names[i])));
          ns.set_filename(names[i]);
          ns.set_collection_name("nottingham");
          ns.set_id("/id/midi/nottingham/" + Sha1Hex(names[i]));
          out[i] = SerializeDeterministic(ns);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.empty()) first_error = names[i] + ": " + e.what();
        }
      }
    };
    std::vector<std::thread> threads;
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < n; ++t) threads.emplace_back(work);
    for (auto& t : threads) t.join();
    if (!first_error.empty()) throw Error("converting nottingham: " + first_error);
    return out;
  }();
  return sequences;
}

// Statistics in the golden JSON form.
nlohmann::json StatisticsJson(const Statistics& stats) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, count] : stats.counters()) out[name] = count;
  for (const auto& [name, histogram] : stats.histograms()) {
    nlohmann::json buckets = nlohmann::json::array();
    for (size_t i = 0; i < histogram.counts().size(); ++i) {
      const double lower = histogram.lower_bounds()[i];
      nlohmann::json bound = std::isinf(lower) ? nlohmann::json("-inf") : nlohmann::json(lower);
      buckets.push_back({bound, histogram.counts()[i]});
    }
    out[name] = {{"histogram", buckets}};
  }
  return out;
}

// Golden bounds are written as ints or doubles; compare numerically.
nlohmann::json NormalizeStatistics(nlohmann::json stats) {
  for (auto& [name, value] : stats.items()) {
    if (!value.is_object()) continue;
    for (auto& bucket : value["histogram"])
      if (bucket[0].is_number()) bucket[0] = bucket[0].get<double>();
  }
  return stats;
}

class NottinghamTest : public ::testing::TestWithParam<const char*> {};

TEST(NottinghamConversionTest, MatchesConvertDirIndex) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  MELODY_REQUIRE_SHARED("golden/convert_dir/nottingham_index.json");
  const auto index = LoadJson(SharedPath("golden/convert_dir/nottingham_index.json"));
  const std::vector<std::string>& sequences = NottinghamSequences();
  ASSERT_EQ(sequences.size(), index["records"].size());
  int matched = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto& record = index["records"][i];
    EXPECT_EQ(sequences[i].size(), record["serialized_size"].get<size_t>()) << i;
    if (Sha256Hex(sequences[i]) == record["serialized_sha256"].get<std::string>()) ++matched;
  }
  EXPECT_EQ(matched, static_cast<int>(sequences.size()));
}

TEST_P(NottinghamTest, MatchesReferenceDataset) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  MELODY_REQUIRE_SHARED("golden/create_dataset");
  const std::string config_id = GetParam();
  const auto golden = LoadJson(SharedPath("golden/create_dataset/" + config_id + "_summary.json"));
  CreateDatasetOptions options;
  options.config = MelodyConfigById(config_id);
  options.eval_ratio = 0.0;
  options.log_progress = false;
  const DatasetRun run = CreateDatasetFromRecords(NottinghamSequences(), options);

  EXPECT_EQ(run.inputs_processed, golden["inputs_processed"].get<int64_t>());
  EXPECT_TRUE(run.eval.empty());
  ASSERT_EQ(run.training.size(), golden["num_examples"].get<size_t>());
  EXPECT_EQ(run.training_steps, golden["total_steps"].get<int64_t>());
  EXPECT_EQ(StatisticsJson(run.stats), NormalizeStatistics(golden["stats"]));

  // The per-input report adds up to the totals.
  ASSERT_EQ(run.reports.size(), 1034u);
  int64_t report_examples = 0, steps = 0, polyphonic = 0, too_short = 0, pieces = 0;
  for (const InputReport& r : run.reports) {
    report_examples += r.examples;
    steps += r.steps;
    pieces += r.pieces;
    polyphonic += r.stage_stats.extractor.counter("polyphonic_tracks_discarded");
    too_short += r.stage_stats.extractor.counter("melodies_discarded_too_short");
  }
  EXPECT_EQ(report_examples, golden["num_examples"].get<int64_t>());
  EXPECT_EQ(steps, golden["total_steps"].get<int64_t>());
  EXPECT_EQ(pieces, run.stats.counter("DAGPipeline_TranspositionPipeline_training_transpositions_generated"));
  EXPECT_EQ(polyphonic,
            run.stats.counter("DAGPipeline_MelodyExtractor_training_polyphonic_tracks_discarded"));
  EXPECT_EQ(too_short,
            run.stats.counter("DAGPipeline_MelodyExtractor_training_melodies_discarded_too_short"));

  const int input_size = options.config.MakeEncoder()->input_size();
  const auto& examples = golden["examples"];
  std::vector<std::string> lines;
  int in_order = 0;
  for (size_t i = 0; i < run.training.size(); ++i) {
    const EncodedMelody e = ParseSequenceExample(run.training[i], input_size, "example");
    const std::string inputs_sha = testing::InputsSha256((e.inputs));
    const std::string labels_sha = testing::LabelsSha256((e.labels));
    lines.push_back(std::to_string(e.num_steps()) + " " + inputs_sha + " " + labels_sha + "\n");
    const auto& g = examples[i];
    const bool same = e.num_steps() == g["length"].get<size_t>() &&
                      inputs_sha == g["inputs_sha256"].get<std::string>() &&
                      labels_sha == g["labels_sha256"].get<std::string>() &&
                      Sha256Hex(run.training[i]) == g["sequence_example_sha256"].get<std::string>();
    EXPECT_TRUE(same) << "example " << i << " (" << g["source"].get<std::string>() << ")";
    in_order += same;
  }
  EXPECT_EQ(in_order, static_cast<int>(examples.size()));
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const std::string& l : lines) joined += l;
  EXPECT_EQ(Sha256Hex(joined), golden["examples_multiset_sha256"].get<std::string>());

  // The first four outputs, framed, are the golden sample file.
  std::string framed;
  for (size_t i = 0; i < 4; ++i) framed += FrameTFRecord(run.training[i]);
  EXPECT_EQ(framed,
            ReadFileToString(SharedPath("golden/create_dataset/" + config_id + "_sample.tfrecord")));
}

INSTANTIATE_TEST_SUITE_P(Configs, NottinghamTest,
                         ::testing::Values("basic_rnn", "mono_rnn", "lookback_rnn",
                                           "attention_rnn"));

std::vector<std::string> FirstNottingham(size_t n) {
  const auto& all = NottinghamSequences();
  return std::vector<std::string>(all.begin(), all.begin() + std::min(n, all.size()));
}

TEST(CreateDatasetTest, OutputDoesNotDependOnThreadCount) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  const std::vector<std::string> inputs = FirstNottingham(150);
  CreateDatasetOptions options;
  options.config = MelodyConfigById("lookback_rnn");
  options.eval_ratio = 0.3;
  options.seed = 7;
  options.log_progress = false;
  options.num_threads = 1;
  const DatasetRun one = CreateDatasetFromRecords(inputs, options);
  options.num_threads = 3;
  const DatasetRun three = CreateDatasetFromRecords(inputs, options);
  EXPECT_EQ(one.training, three.training);
  EXPECT_EQ(one.eval, three.eval);
  EXPECT_EQ(one.stats, three.stats);
  EXPECT_FALSE(one.eval.empty());
  EXPECT_FALSE(one.training.empty());
}

TEST(CreateDatasetTest, PartitionIsOneSeededDrawPerInput) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  const std::vector<std::string> inputs = FirstNottingham(200);
  CreateDatasetOptions options;
  options.config = MelodyConfigById("basic_rnn");
  options.log_progress = false;
  options.eval_ratio = 0.5;
  const DatasetRun a = CreateDatasetFromRecords(inputs, options);
  const DatasetRun a_again = CreateDatasetFromRecords(inputs, options);
  EXPECT_EQ(a.eval, a_again.eval);
  options.seed = 1;
  const DatasetRun b = CreateDatasetFromRecords(inputs, options);
  EXPECT_NE(a.eval, b.eval);
  // Each input goes wholly to one set; the partition counters add up to the inputs.
  int64_t eval_inputs = 0;
  for (const InputReport& r : a.reports) eval_inputs += r.eval;
  EXPECT_EQ(a.stats.counter("DAGPipeline_RandomPartition_eval_melodies_count"), eval_inputs);
  EXPECT_EQ(a.stats.counter("DAGPipeline_RandomPartition_training_melodies_count"),
            200 - eval_inputs);
  EXPECT_GT(eval_inputs, 60);
  EXPECT_LT(eval_inputs, 140);
  // All the examples of all inputs, whatever the split.
  EXPECT_EQ(a.training.size() + a.eval.size(), b.training.size() + b.eval.size());

  options.eval_ratio = 1.0;
  const DatasetRun all_eval = CreateDatasetFromRecords(inputs, options);
  EXPECT_TRUE(all_eval.training.empty());
  EXPECT_EQ(all_eval.eval.size(), a.training.size() + a.eval.size());
}

TEST(CreateDatasetTest, WritesFilesAndReport) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  const std::vector<std::string> inputs = FirstNottingham(40);
  const std::string dir = MakeTempDir("create_dataset_test");
  WriteTFRecordFile(dir + "/in.tfrecord", inputs);
  CreateDatasetOptions options;
  options.config = MelodyConfigById("attention_rnn");
  options.eval_ratio = 0.25;
  options.log_progress = false;
  CreateDatasetFiles files{dir + "/in.tfrecord", dir + "/out/nested", dir + "/report.tsv"};
  const DatasetRun run = CreateDataset(files, options);
  const DatasetRun memory = CreateDatasetFromRecords(inputs, options);
  EXPECT_EQ(ReadTFRecordFile(dir + "/out/nested/training_melodies.tfrecord"), memory.training);
  EXPECT_EQ(ReadTFRecordFile(dir + "/out/nested/eval_melodies.tfrecord"), memory.eval);
  EXPECT_EQ(run.stats, memory.stats);
  const std::string report = ReadFileToString(dir + "/report.tsv");
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 41);
  EXPECT_NE(report.find("\tashover1.mid\t/id/midi/nottingham/"), std::string::npos);
  EXPECT_NE(report.find("MelodyExtractor_polyphonic_tracks_discarded"), std::string::npos);
}

TEST(CreateDatasetTest, ExpandsHomeInPaths) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  const std::string home = MakeTempDir("create_dataset_home");
  WriteTFRecordFile(home + "/in.tfrecord", FirstNottingham(3));
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home ? old_home : "";
  setenv("HOME", home.c_str(), 1);
  CreateDatasetOptions options;
  options.log_progress = false;
  options.eval_ratio = 0;
  EXPECT_NO_THROW(CreateDataset({"~/in.tfrecord", "~/out", "~/report.tsv"}, options));
  if (old_home) setenv("HOME", saved.c_str(), 1); else unsetenv("HOME");
  EXPECT_TRUE(PathExists(home + "/out/training_melodies.tfrecord"));
  EXPECT_TRUE(PathExists(home + "/out/eval_melodies.tfrecord"));
  EXPECT_TRUE(PathExists(home + "/report.tsv"));
}

// Real data: the reference's attention_rnn pipeline output for these NoteSequences (its
// train/eval split was random, and its map order may differ: compare parsed multisets).
TEST(CompatDataTest, AttentionRnnPipeline2019) {
  MELODY_REQUIRE_SHARED("data/compat/attention_rnn_pipeline_2019");
  const std::string dir = SharedPath("data/compat/attention_rnn_pipeline_2019");
  CreateDatasetOptions options;
  options.config = MelodyConfigById("attention_rnn");
  options.eval_ratio = 0.0;
  options.log_progress = false;
  const DatasetRun run = CreateDatasetFromRecords(ReadTFRecordFile(dir + "/notesequences.tfrecord"),
                                                  options);
  auto key = [](const EncodedMelody& e) {
    return std::to_string(e.num_steps()) + " " + testing::InputsSha256((e.inputs)) + " " +
           testing::LabelsSha256((e.labels));
  };
  std::vector<std::string> ours, theirs;
  for (const std::string& bytes : run.training)
    ours.push_back(key(ParseSequenceExample(bytes, 74, "ours")));
  for (const char* name : {"/training_melodies.tfrecord", "/eval_melodies.tfrecord"})
    for (const EncodedMelody& e : ReadSequenceExampleFile(dir + name, 74)) theirs.push_back(key(e));
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  EXPECT_EQ(theirs.size(), 18u);
  EXPECT_EQ(ours, theirs);
}

// ---- errors --------------------------------------------------------------------------

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

magenta::NoteSequence ShortSequence() {
  magenta::NoteSequence ns;
  ns.set_filename("tiny.mid");
  for (int i = 0; i < 4; ++i) {
    auto* note = ns.add_notes();
    note->set_pitch(60 + i);
    note->set_velocity(80);
    note->set_start_time(0.5 * i);
    note->set_end_time(0.5 * i + 0.5);
  }
  ns.set_total_time(2.0);
  return ns;
}

CreateDatasetOptions QuietOptions() {
  CreateDatasetOptions options;
  options.log_progress = false;
  return options;
}

TEST(CreateDatasetErrorTest, MissingAndEmptyInput) {
  const std::string dir = MakeTempDir("create_dataset_test");
  std::string what = ErrorOf([&] {
    CreateDataset({dir + "/missing.tfrecord", dir + "/out", ""}, QuietOptions());
  });
  EXPECT_NE(what.find("missing.tfrecord: input file does not exist"), std::string::npos) << what;
  EXPECT_NE(ErrorOf([&] { CreateDataset({"", dir + "/out", ""}, QuietOptions()); })
                .find("--input is required"),
            std::string::npos);
  WriteFileAtomically(dir + "/empty.tfrecord", "");
  what = ErrorOf([&] { CreateDataset({dir + "/empty.tfrecord", dir + "/out", ""}, QuietOptions()); });
  EXPECT_NE(what.find("no NoteSequence records"), std::string::npos) << what;
}

TEST(CreateDatasetErrorTest, CorruptRecordNamesFileIndexAndOffset) {
  const std::string dir = MakeTempDir("create_dataset_test");
  const std::string good = SerializeDeterministic(ShortSequence());
  std::string bytes = FrameTFRecord(good) + FrameTFRecord(good);
  bytes[FrameTFRecord(good).size() + 12 + 5] ^= 0x40;  // a payload byte of record 1
  WriteFileAtomically(dir + "/corrupt.tfrecord", bytes);
  const std::string what = ErrorOf(
      [&] { CreateDataset({dir + "/corrupt.tfrecord", dir + "/out", ""}, QuietOptions()); });
  EXPECT_NE(what.find("corrupt.tfrecord"), std::string::npos) << what;
  EXPECT_NE(what.find("record 1"), std::string::npos) << what;
  EXPECT_NE(what.find(std::to_string(FrameTFRecord(good).size())), std::string::npos) << what;
  // Nothing was left behind.
  EXPECT_FALSE(PathExists(dir + "/out/training_melodies.tfrecord"));

  // Valid framing around bytes that are not a NoteSequence.
  WriteTFRecordFile(dir + "/garbage.tfrecord", {good, std::string("\xff\xff\xff", 3)});
  const std::string garbage = ErrorOf(
      [&] { CreateDataset({dir + "/garbage.tfrecord", dir + "/out", ""}, QuietOptions()); });
  EXPECT_NE(garbage.find("garbage.tfrecord: record 1"), std::string::npos) << garbage;
  EXPECT_NE(garbage.find("NoteSequence"), std::string::npos) << garbage;
}

TEST(CreateDatasetErrorTest, ZeroMelodiesIsAnErrorThatKeepsEarlierOutputs) {
  const std::string dir = MakeTempDir("create_dataset_test");
  WriteTFRecordFile(dir + "/short.tfrecord", {SerializeDeterministic(ShortSequence())});
  // A dataset from an earlier run must survive the failed one.
  MakeDirectories(dir + "/out");
  WriteFileAtomically(dir + "/out/training_melodies.tfrecord", "earlier dataset");
  const std::string what = ErrorOf([&] {
    CreateDataset({dir + "/short.tfrecord", dir + "/out", dir + "/report.tsv"}, QuietOptions());
  });
  EXPECT_NE(what.find("no melodies were extracted"), std::string::npos) << what;
  EXPECT_NE(what.find("report.tsv"), std::string::npos) << what;
  EXPECT_EQ(ReadFileToString(dir + "/out/training_melodies.tfrecord"), "earlier dataset");
  EXPECT_FALSE(PathExists(dir + "/out/eval_melodies.tfrecord"));
  // The report still says why the input gave nothing.
  EXPECT_NE(ReadFileToString(dir + "/report.tsv").find("tiny.mid"), std::string::npos);
}

TEST(CreateDatasetErrorTest, PipelineErrorNamesTheInput) {
  // A note that ends before it starts: the extractor's BadNoteError, which the reference
  // does not catch either.
  magenta::NoteSequence ns = ShortSequence();
  ns.mutable_notes(1)->set_end_time(0.25);
  const std::string dir = MakeTempDir("create_dataset_test");
  WriteTFRecordFile(dir + "/negative.tfrecord",
                    {SerializeDeterministic(ShortSequence()), SerializeDeterministic(ns)});
  const std::string what = ErrorOf(
      [&] { CreateDataset({dir + "/negative.tfrecord", dir + "/out", ""}, QuietOptions()); });
  EXPECT_NE(what.find("negative.tfrecord: record 1"), std::string::npos) << what;
  EXPECT_NE(what.find("('tiny.mid')"), std::string::npos) << what;
  EXPECT_FALSE(PathExists(dir + "/out/training_melodies.tfrecord"));
}

// The binary: exit status and the reference's messages for flag errors, and a run.
class CreateDatasetBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = std::string(MELODY_BINARY_DIR) + "/apps/melody_rnn_create_dataset";
    if (!PathExists(binary_)) GTEST_SKIP() << "binary not built: " << binary_;
    dir_ = MakeTempDir("create_dataset_test");
  }
  // Exit status; stderr in *err.
  int Run(const std::string& flags, std::string* err) {
    const std::string command = binary_ + " " + flags + " 2>" + dir_ + "/err";
    const int status = std::system(command.c_str());
    *err = ReadFileToString(dir_ + "/err");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string binary_, dir_;
};

TEST_F(CreateDatasetBinaryTest, ConfigErrors) {
  std::string err;
  EXPECT_EQ(Run("--input=x --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("Exactly one of `--config` or `--melody_encoder_decoder` must be supplied."),
            std::string::npos) << err;
  EXPECT_EQ(Run("--config=basic_rnn --melody_encoder_decoder=key --input=x --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("Exactly one of"), std::string::npos) << err;
  EXPECT_EQ(Run("--config=basic --input=x --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("`--config` must be one of dict_keys(['basic_rnn', 'mono_rnn', "
                     "'lookback_rnn', 'attention_rnn']). Got basic."),
            std::string::npos) << err;
  EXPECT_EQ(Run("--melody_encoder_decoder=keys --input=x --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("`--melody_encoder_decoder` must be one of dict_keys(['onehot', "
                     "'lookback', 'key']). Got keys."),
            std::string::npos) << err;
  // --melody_encoder_decoder parses --hparams into an empty set.
  EXPECT_EQ(Run("--melody_encoder_decoder=key --hparams=batch_size=8 --input=x --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("Unknown hyperparameter type for batch_size"), std::string::npos) << err;
  EXPECT_EQ(Run("--config=basic_rnn --input=" + dir_ + "/missing --output_dir=" + dir_, &err), 1);
  EXPECT_NE(err.find("missing: input file does not exist"), std::string::npos) << err;
  EXPECT_EQ(Run("--config=basic_rnn --input=x", &err), 1);
  EXPECT_NE(err.find("--output_dir is required"), std::string::npos) << err;
}

TEST_F(CreateDatasetBinaryTest, RunLogsTotalsAndStatistics) {
  MELODY_REQUIRE_SHARED("data/nottingham");
  WriteTFRecordFile(dir_ + "/in.tfrecord", FirstNottingham(12));
  std::string err;
  ASSERT_EQ(Run("--config=lookback_rnn --hparams=batch_size=8 --eval_ratio=0 --seed=5 "
                "--num_threads=2 --input=" + dir_ + "/in.tfrecord --output_dir=" + dir_ + "/out",
                &err),
            0)
      << err;
  EXPECT_NE(err.find("seed 5"), std::string::npos) << err;
  EXPECT_NE(err.find("Processed 12 inputs total. Produced "), std::string::npos) << err;
  EXPECT_NE(err.find("DAGPipeline_RandomPartition_training_melodies_count: 12"),
            std::string::npos) << err;
  EXPECT_NE(err.find("DAGPipeline_MelodyExtractor_training_melody_lengths_in_bars:\n  ["),
            std::string::npos) << err;
  CreateDatasetOptions options;
  options.config = MelodyConfigById("lookback_rnn");
  options.eval_ratio = 0;
  options.log_progress = false;
  EXPECT_EQ(ReadTFRecordFile(dir_ + "/out/training_melodies.tfrecord"),
            CreateDatasetFromRecords(FirstNottingham(12), options).training);
  EXPECT_EQ(ReadFileToString(dir_ + "/out/eval_melodies.tfrecord"), "");
}

}  // namespace
}  // namespace melody
