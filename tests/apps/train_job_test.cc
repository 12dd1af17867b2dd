// The training and eval jobs as a whole (apps/lib/train_job.h, eval_job.h) on a tiny
// dataset: files in the run directory, retention, summaries, resume equal to an
// uninterrupted run, the stored config, warm start, NaN and I/O failures.
#include "apps/lib/train_job.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "apps/lib/eval_job.h"
#include "apps/lib/run_config.h"
#include "core/error.h"
#include "core/event_file.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "core/tfrecord.h"
#include "models/model_checkpoint.h"
#include "generator.pb.h"
#include "data/sequence_example_io.h"
#include "tests/test_util.h"
#include "tests/apps/train_test_util.h"

namespace melody {
namespace {

constexpr const char* kTinyHParams = "batch_size=4,rnn_layer_sizes=[8],dropout_keep_prob=0.5";

struct TinyRun {
  std::string dir;
  std::string train_file;
  std::string eval_file;
};

TinyRun MakeTinyRun(const std::string& config = "basic_rnn") {
  TinyRun r;
  r.dir = testing::MakeTempDir("train_job");
  r.train_file = JoinPath(r.dir, "training_melodies.tfrecord");
  r.eval_file = JoinPath(r.dir, "eval_melodies.tfrecord");
  testing::WriteTinyTrainingSet(r.train_file, config, 20, 16, 1);
  testing::WriteTinyTrainingSet(r.eval_file, config, 9, 16, 2);
  return r;
}

TrainJobOptions TrainOptions(const TinyRun& r, const std::string& run, int64_t steps,
                             const std::string& config = "basic_rnn") {
  TrainJobOptions o;
  o.run_dir = JoinPath(r.dir, run);
  o.sequence_example_file = r.train_file;
  o.config_flags.config = config;
  o.config_flags.hparams = kTinyHParams;
  o.num_training_steps = steps;
  o.summary_frequency = 2;
  o.save_checkpoint_secs = 0;  // after every step
  o.num_checkpoints = 3;
  o.device = "cpu";
  o.num_threads = 1;
  o.seed = 9;
  return o;
}

TensorMap Latest(const std::string& run_dir) {
  const std::string prefix = LatestCheckpoint(TrainDirOf(run_dir));
  EXPECT_FALSE(prefix.empty());
  return ReadCheckpointV2(prefix);
}

TEST(TrainJobTest, WritesCheckpointsStateFileEventsAndRunConfig) {
  const TinyRun r = MakeTinyRun();
  const TrainJobResult res = RunTrainJob(TrainOptions(r, "run", 5));
  EXPECT_EQ(res.start_step, 0);
  EXPECT_EQ(res.final_step, 5);
  const std::string train = TrainDirOf(JoinPath(r.dir, "run"));
  // Retention 3: steps 3, 4, 5 remain; 0..2 deleted.
  const CheckpointStateRead state = ReadCheckpointStateFile(train);
  ASSERT_EQ(state.status, CheckpointStateRead::Status::kOk);
  EXPECT_EQ(state.state.all_model_checkpoint_paths.size(), 3u);
  EXPECT_TRUE(CheckpointV2Exists(JoinPath(train, "model.ckpt-5")));
  EXPECT_TRUE(CheckpointV2Exists(JoinPath(train, "model.ckpt-3")));
  EXPECT_FALSE(CheckpointV2Exists(JoinPath(train, "model.ckpt-2")));
  EXPECT_FALSE(CheckpointV2Exists(JoinPath(train, "model.ckpt-0")));
  // Absolute run dir -> absolute prefixes in the state file.
  EXPECT_EQ(state.state.model_checkpoint_path, JoinPath(train, "model.ckpt-5"));
  // The checkpoint holds model variables, Adam slots, powers and an int64 step.
  const TensorMap t = Latest(JoinPath(r.dir, "run"));
  EXPECT_EQ(t.at("global_step").dtype(), DType::kInt64);
  EXPECT_EQ(t.at("global_step").data<int64_t>()[0], 5);
  EXPECT_TRUE(t.count("fully_connected/weights/Adam_1"));
  EXPECT_FLOAT_EQ(t.at("beta1_power").data<float>()[0], std::pow(0.9f, 6));
  // Summaries at steps 1, 3, 5 (first step, then every summary_frequency global steps).
  const auto series = ReadScalarSeries(train);
  ASSERT_TRUE(series.count("loss"));
  std::vector<int64_t> steps;
  for (const auto& [step, value] : series.at("loss")) steps.push_back(step);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 3, 5}));
  for (const char* tag : {"metrics/perplexity", "metrics/accuracy", "metrics/event_accuracy",
                          "metrics/no_event_accuracy", "metrics/loss_per_step",
                          "metrics/perplexity_per_step", "global_step/sec"})
    EXPECT_TRUE(series.count(tag)) << tag;
  // The run remembers its config.
  const auto stored = ReadRunConfig(train);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->config, "basic_rnn");
  EXPECT_EQ(stored->hparams.GetIntList("rnn_layer_sizes"), (std::vector<int64_t>{8}));
}

TEST(TrainJobTest, ResumedRunEqualsUninterruptedRunBitForBit) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "straight", 7));
  RunTrainJob(TrainOptions(r, "split", 3));
  // Resume without repeating --config or --hparams: the run directory supplies them.
  TrainJobOptions again = TrainOptions(r, "split", 4);
  again.config_flags = ConfigFlags{};
  const TrainJobResult res = RunTrainJob(again);
  EXPECT_EQ(res.start_step, 3);
  EXPECT_EQ(res.final_step, 7);  // num_training_steps counts from the session's start
  std::string why;
  EXPECT_TRUE(testing::SameTensors(Latest(JoinPath(r.dir, "straight")),
                                   Latest(JoinPath(r.dir, "split")), &why))
      << why;
}

TEST(TrainJobTest, ResumeRemovesTemporariesOfAKilledSession) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "run", 1));
  const std::string train = TrainDirOf(JoinPath(r.dir, "run"));
  // What a kill -9 during a save leaves: a process that is gone, files no one locks.
  const std::string stale_index = JoinPath(train, "model.ckpt-2.index.tmp.999999999.0");
  const std::string stale_state = JoinPath(train, "checkpoint.tmp.999999999.3");
  WriteFileAtomically(stale_index, "partial");
  WriteFileAtomically(stale_state, "partial");
  RunTrainJob(TrainOptions(r, "run", 1));
  EXPECT_FALSE(PathExists(stale_index));
  EXPECT_FALSE(PathExists(stale_state));
  EXPECT_TRUE(CheckpointV2Exists(JoinPath(train, "model.ckpt-2")));
}

TEST(TrainJobTest, ShapeChangeOnResumeIsRefused) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "run", 1));
  TrainJobOptions changed = TrainOptions(r, "run", 1);
  changed.config_flags.hparams = "rnn_layer_sizes=[16]";
  try {
    RunTrainJob(changed);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rnn_layer_sizes=[8]"), std::string::npos) << e.what();
  }
}

TEST(TrainJobTest, MissingCheckpointNamedByStateFileIsAnError) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "run", 1));
  const std::string train = TrainDirOf(JoinPath(r.dir, "run"));
  DeleteCheckpointFiles(LatestCheckpoint(train));
  try {
    RunTrainJob(TrainOptions(r, "run", 1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid checkpoint"), std::string::npos) << e.what();
  }
}

TEST(TrainJobTest, FlagErrorsUseTheReferenceMessages) {
  const TinyRun r = MakeTinyRun();
  TrainJobOptions o = TrainOptions(r, "run", 1);
  o.summary_frequency = 0;
  EXPECT_THROW(
      {
        try {
          RunTrainJob(o);
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "invalid every_n_iter=0.");
          throw;
        }
      },
      Error);
  o = TrainOptions(r, "run", 1);
  o.num_checkpoints = -1;
  EXPECT_THROW(RunTrainJob(o), Error);
  o = TrainOptions(r, "run", 1);
  o.run_dir = "";
  EXPECT_THROW(RunTrainJob(o), Error);
  o = TrainOptions(r, "run", 1);
  o.sequence_example_file = JoinPath(r.dir, "nothing*.tfrecord");
  EXPECT_THROW(RunTrainJob(o), Error);
}

TEST(TrainJobTest, NanInTheDataStopsWithTheStepAndKeepsTheCheckpoint) {
  const TinyRun r = MakeTinyRun();
  // A record whose inputs hold a NaN (a damaged dataset).
  std::vector<std::string> records = ReadTFRecordFile(r.train_file);
  EncodedMelody bad = ParseSequenceExample(records[0], 38, "x");
  for (float& v : bad.inputs) v = std::numeric_limits<float>::quiet_NaN();
  for (auto& rec : records) rec = SerializeSequenceExample(bad);
  const std::string nan_file = JoinPath(r.dir, "nan.tfrecord");
  WriteTFRecordFile(nan_file, records);
  TrainJobOptions o = TrainOptions(r, "nan", 3);
  o.sequence_example_file = nan_file;
  try {
    RunTrainJob(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at step 1"), std::string::npos) << e.what();
  }
  // The step-0 checkpoint written at session start is intact and loadable.
  const TensorMap t = Latest(JoinPath(r.dir, "nan"));
  EXPECT_EQ(t.at("global_step").data<int64_t>()[0], 0);
}

TEST(TrainJobTest, WarmStartTakesWeightsOnly) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "base", 3));
  TrainJobOptions o = TrainOptions(r, "warm", 1);
  o.warm_start_checkpoint = TrainDirOf(JoinPath(r.dir, "base"));
  RunTrainJob(o);
  const std::string warm_train = TrainDirOf(JoinPath(r.dir, "warm"));
  // model.ckpt-0 of the warm run holds the base run's step-3 weights and fresh Adam state.
  const TensorMap warm0 = ReadCheckpointV2(JoinPath(warm_train, "model.ckpt-0"));
  const TensorMap base3 = ReadCheckpointV2(JoinPath(TrainDirOf(JoinPath(r.dir, "base")), "model.ckpt-3"));
  const std::string w = "fully_connected/weights";
  EXPECT_EQ(warm0.at(w).ToVector(), base3.at(w).ToVector());
  EXPECT_EQ(warm0.at("global_step").data<int64_t>()[0], 0);
  EXPECT_EQ(warm0.at("beta1_power").data<float>()[0], 0.9f);
  for (float v : warm0.at(w + "/Adam").ToVector()) ASSERT_EQ(v, 0.0f);
}

// A run directory holding the reference's own checkpoints (a user's 2019 attention_rnn
// run, TF 1.13; a 2017 basic_rnn run with TF 1.0 names and an int32 global_step): training
// resumes from them, keeping their step and optimizer state.
void ResumeFromCompatCheckpoint(const std::string& compat, const std::string& config,
                                int64_t step) {
  const std::string src = testing::SharedPath("data/compat/checkpoints_v2/" + compat);
  TinyRun r = MakeTinyRun(config);
  const std::string train = TrainDirOf(JoinPath(r.dir, "compat"));
  MakeDirectories(train);
  for (const char* suffix : {".index", ".data-00000-of-00001"})
    WriteFileAtomically(JoinPath(train, "model.ckpt-" + std::to_string(step) + suffix),
                        ReadFileToString(JoinPath(src, "model.ckpt-" + std::to_string(step) + suffix)));
  WriteFileAtomically(JoinPath(train, "checkpoint"),
                      "model_checkpoint_path: \"model.ckpt-" + std::to_string(step) + "\"\n");
  TrainJobOptions o = TrainOptions(r, "compat", 2, config);
  o.config_flags.hparams = "batch_size=4,rnn_layer_sizes=[64,64]";
  const TrainJobResult res = RunTrainJob(o);
  EXPECT_EQ(res.start_step, step);
  EXPECT_EQ(res.final_step, step + 2);
  const TensorMap before = CanonicalizeCheckpointTensors(
      ReadCheckpointV2(JoinPath(src, "model.ckpt-" + std::to_string(step))));
  const TensorMap after = Latest(JoinPath(r.dir, "compat"));
  // The powers continue from the reference's values (two more updates).
  EXPECT_FLOAT_EQ(after.at("beta2_power").data<float>()[0],
                  before.at("beta2_power").data<float>()[0] * 0.999f * 0.999f);
  EXPECT_EQ(after.count("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel") +
                after.count("rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/basic_lstm_cell/kernel"),
            1u);
}

TEST(TrainJobTest, ResumesFromTheReferencesAttentionCheckpoint) {
  MELODY_REQUIRE_SHARED("data/compat/checkpoints_v2/attention_rnn_64x64_tf1.13");
  ResumeFromCompatCheckpoint("attention_rnn_64x64_tf1.13", "attention_rnn", 12949);
}

TEST(TrainJobTest, ResumesFromTheReferences2017LegacyCheckpoint) {
  MELODY_REQUIRE_SHARED("data/compat/checkpoints_v2/basic_rnn_64x64_tf1.0");
  ResumeFromCompatCheckpoint("basic_rnn_64x64_tf1.0", "basic_rnn", 50);
}

TEST(TrainJobTest, WarmStartFromAUsersBundle) {
  MELODY_REQUIRE_SHARED("data/compat/attention_rnn_pipeline_2019/my_model.mag");
  const TinyRun r = MakeTinyRun("attention_rnn");
  TrainJobOptions o = TrainOptions(r, "bundle", 1, "attention_rnn");
  o.config_flags.hparams = "batch_size=4,rnn_layer_sizes=[64,64]";  // my_model.hparams
  o.warm_start_bundle_file =
      testing::SharedPath("data/compat/attention_rnn_pipeline_2019/my_model.mag");
  RunTrainJob(o);
  const TensorMap start =
      ReadCheckpointV2(JoinPath(TrainDirOf(JoinPath(r.dir, "bundle")), "model.ckpt-0"));
  const std::string v = "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/attention/attn_v";
  ASSERT_TRUE(start.count(v));
  // Glorot init would give values in ±sqrt(3/64) = ±0.2165 only; check against the bundle.
  magenta::GeneratorBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(ReadFileToString(o.warm_start_bundle_file)));
  const TensorMap from_bundle = ParseCheckpointV1(bundle.checkpoint_file(0), "bundle");
  EXPECT_EQ(start.at(v).ToVector(), from_bundle.at(v).ToVector());
  // A bundle of another shape is refused, naming the variable.
  TrainJobOptions wrong = TrainOptions(r, "bundle_wrong", 1, "attention_rnn");
  wrong.warm_start_bundle_file = o.warm_start_bundle_file;
  EXPECT_THROW(RunTrainJob(wrong), Error);
}

TEST(EvalJobTest, EvaluatesTheLatestCheckpointAndWritesEightTags) {
  const TinyRun r = MakeTinyRun();
  RunTrainJob(TrainOptions(r, "run", 4));
  EvalJobOptions e;
  e.run_dir = JoinPath(r.dir, "run");
  e.sequence_example_file = r.eval_file;
  e.max_evaluations = 1;
  e.eval_timeout_secs = 5;
  e.device = "cpu";
  e.num_threads = 1;
  const auto results = RunEvalJob(e);  // config from the run directory
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].global_step, 4);
  EXPECT_EQ(results[0].num_batches, 9 / 4);
  EXPECT_GT(results[0].metrics.loss, 0.0f);
  EXPECT_FLOAT_EQ(results[0].metrics.perplexity, std::exp(results[0].metrics.loss));
  const auto series = ReadScalarSeries(EvalDirOf(e.run_dir));
  for (const char* tag : {"loss", "metrics/accuracy", "metrics/per_class_accuracy",
                          "metrics/event_accuracy", "metrics/no_event_accuracy",
                          "metrics/loss_per_step", "metrics/perplexity",
                          "metrics/perplexity_per_step"}) {
    ASSERT_TRUE(series.count(tag)) << tag;
    EXPECT_EQ(series.at(tag).size(), 1u);
    EXPECT_EQ(series.at(tag)[0].first, 4);
  }
  // Re-evaluating the same checkpoint gives the same numbers (masks keyed by seed, batch).
  const auto again = RunEvalJob(e);
  EXPECT_EQ(again[0].metrics.loss, results[0].metrics.loss);
}

TEST(EvalJobTest, TimesOutWithoutACheckpointAndRejectsTooFewRecords) {
  const TinyRun r = MakeTinyRun();
  EvalJobOptions e;
  e.run_dir = JoinPath(r.dir, "empty");
  e.sequence_example_file = r.eval_file;
  e.config_flags.config = "basic_rnn";
  e.config_flags.hparams = kTinyHParams;
  e.eval_timeout_secs = 0.3;
  e.poll_secs = 0.1;
  e.device = "cpu";
  EXPECT_TRUE(RunEvalJob(e).empty());
  e.num_eval_examples = 3;  // < batch_size 4
  try {
    RunEvalJob(e);
    FAIL();
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("`num_batches` must be greater than 0"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace melody
