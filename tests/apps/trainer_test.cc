// The training step (apps/lib/trainer.h): it learns, its state round-trips through a V2
// checkpoint so a restored trainer continues bit for bit, the Adam powers follow TF's
// float32 products, and a non-finite loss stops it before any variable changes.
#include "apps/lib/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "tests/test_util.h"
#include "tests/apps/train_test_util.h"

namespace melody {
namespace {

struct TrainSetup {
  MelodyRnnConfig config;
  ModelHParams hp;
  ModelLayout layout;
  SequenceExampleSet data;
};

TrainSetup MakeTrainSetup(const std::string& config_id, const std::string& hparams) {
  TrainSetup s;
  ConfigFlags flags;
  flags.config = config_id;
  flags.hparams = hparams;
  s.config = MelodyRnnConfigFromFlags(flags);
  s.hp = ModelHParamsFrom(s.config.hparams);
  s.layout = ModelLayout::Build(ModelShape::From(s.config.sizes, s.hp));
  const std::string path = JoinPath(testing::MakeTempDir("trainer"), "train.tfrecord");
  testing::WriteTinyTrainingSet(path, config_id, 12, 12, 5);
  s.data = SequenceExampleSet::Load({path}, s.config.sizes.input_size, s.config.sizes.num_classes);
  return s;
}

HostBatch BatchFor(const TrainSetup& s, int64_t step) {
  EpochOrder order(3, s.data.size());
  return MakePaddedBatch(s.data, TrainingBatchRecords(&order, step, s.hp.batch_size));
}

TEST(TrainerTest, LossFallsOnASmallSet) {
  const TrainSetup s = MakeTrainSetup("basic_rnn", "batch_size=4,rnn_layer_sizes=[16],dropout_keep_prob=1.0,learning_rate=0.01");
  auto ctx = Context::CreateCpu(1);
  Trainer trainer(*ctx, s.layout, s.config.sizes.no_event_label, TrainerOptionsFrom(s.hp, 1));
  trainer.InitializeFresh(1);
  const HostBatch batch = BatchFor(s, 0);
  const float first = trainer.Step(batch).metrics.loss;
  float last = first;
  for (int i = 0; i < 40; ++i) last = trainer.Step(batch).metrics.loss;
  EXPECT_LT(last, 0.7f * first) << "first " << first << ", last " << last;
  EXPECT_EQ(trainer.global_step(), 41);
}

TEST(TrainerTest, PowersAreFloat32Products) {
  const TrainSetup s = MakeTrainSetup("basic_rnn", "batch_size=2,rnn_layer_sizes=[4]");
  auto ctx = Context::CreateCpu(1);
  Trainer trainer(*ctx, s.layout, s.config.sizes.no_event_label, TrainerOptionsFrom(s.hp, 1));
  trainer.InitializeFresh(2);
  float b1 = 0.9f, b2 = 0.999f;
  for (int i = 0; i < 5; ++i) {
    trainer.Step(BatchFor(s, i));
    b1 *= 0.9f;
    b2 *= 0.999f;
  }
  const TrainingCheckpoint c = trainer.Snapshot();
  EXPECT_EQ(c.beta1_power, b1);
  EXPECT_EQ(c.beta2_power, b2);
  EXPECT_EQ(c.global_step, 5);
}

// A trainer restored from a checkpoint written to disk after k steps, run to n, ends with
// exactly the bytes of one that ran n steps without stopping (weights, slots, powers).
void CheckResumeIsBitExact(const std::string& config_id, const std::string& hparams) {
  const TrainSetup s = MakeTrainSetup(config_id, hparams);
  auto ctx = Context::CreateCpu(2);
  const TrainerOptions options = TrainerOptionsFrom(s.hp, 11);
  Trainer straight(*ctx, s.layout, s.config.sizes.no_event_label, options);
  straight.InitializeFresh(4);
  for (int64_t step = 0; step < 6; ++step) straight.Step(BatchFor(s, step));

  Trainer first(*ctx, s.layout, s.config.sizes.no_event_label, options);
  first.InitializeFresh(4);
  for (int64_t step = 0; step < 2; ++step) first.Step(BatchFor(s, step));
  const std::string prefix = JoinPath(testing::MakeTempDir("trainer_resume"), "model.ckpt-2");
  WriteCheckpointV2(prefix, TrainingCheckpointTensors(first.Snapshot()));

  Trainer resumed(*ctx, s.layout, s.config.sizes.no_event_label, options);
  resumed.Restore(TrainingCheckpointFromTensors(s.layout, ReadCheckpointV2(prefix), prefix));
  ASSERT_EQ(resumed.global_step(), 2);
  for (int64_t step = 2; step < 6; ++step) resumed.Step(BatchFor(s, step));
  std::string why;
  EXPECT_TRUE(testing::SameTensors(TrainingCheckpointTensors(straight.Snapshot()),
                                   TrainingCheckpointTensors(resumed.Snapshot()), &why))
      << config_id << ": " << why;
}

TEST(TrainerTest, ResumeFromDiskIsBitExactBasic) {
  CheckResumeIsBitExact("basic_rnn", "batch_size=3,rnn_layer_sizes=[8,8],dropout_keep_prob=0.5");
}

TEST(TrainerTest, ResumeFromDiskIsBitExactAttention) {
  CheckResumeIsBitExact("attention_rnn",
                        "batch_size=3,rnn_layer_sizes=[8,8],attn_length=4,dropout_keep_prob=0.5");
}

TEST(TrainerTest, NonFiniteLossStopsBeforeTheUpdate) {
  const TrainSetup s = MakeTrainSetup("basic_rnn", "batch_size=2,rnn_layer_sizes=[4]");
  auto ctx = Context::CreateCpu(1);
  Trainer trainer(*ctx, s.layout, s.config.sizes.no_event_label, TrainerOptionsFrom(s.hp, 1));
  trainer.InitializeFresh(3);
  trainer.Step(BatchFor(s, 0));
  const TensorMap before = TrainingCheckpointTensors(trainer.Snapshot());
  HostBatch bad = BatchFor(s, 1);
  bad.inputs.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  try {
    trainer.Step(bad);
    FAIL() << "expected the NaN loss to stop training";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("LossTensor is inf or nan"), std::string::npos) << m;
    EXPECT_NE(m.find("NaN"), std::string::npos) << m;
    EXPECT_NE(m.find("step 2"), std::string::npos) << m;
  }
  std::string why;
  EXPECT_TRUE(testing::SameTensors(before, TrainingCheckpointTensors(trainer.Snapshot()), &why))
      << why;
}

}  // namespace
}  // namespace melody
