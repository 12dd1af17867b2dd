// Whole training steps on the GPU against the CPU twin, for every config: the same
// initial weights and batches, three steps (dropout on, so the Philox masks must agree
// too), then the losses and every updated tensor (weights, Adam slots) compared.
// Tolerances: loss 1e-4 relative (float32 sums in another order over a few thousand
// positions); tensors |a - b| <= 2e-4 + 2e-3·|b| after three Adam steps, which amplify
// rounding differences of small gradients (m / sqrt(s) is O(1) whatever the gradient's
// size). Skips, saying why, without a usable GPU.
#include <gtest/gtest.h>

#include <cmath>

#include "apps/lib/trainer.h"
#include "core/device.h"
#include "core/file_util.h"
#include "tests/test_util.h"
#include "tests/apps/train_test_util.h"

namespace melody {
namespace {

void CompareCpuAndCuda(const std::string& config_id, const std::string& hparams) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device: " << CudaUnavailableReason();
  ConfigFlags flags;
  flags.config = config_id;
  flags.hparams = hparams;
  const MelodyRnnConfig config = MelodyRnnConfigFromFlags(flags);
  const ModelHParams hp = ModelHParamsFrom(config.hparams);
  const ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, hp));
  const std::string path = JoinPath(testing::MakeTempDir("train_cuda"), "t.tfrecord");
  testing::WriteTinyTrainingSet(path, config_id, 16, 24, 7);
  const SequenceExampleSet data =
      SequenceExampleSet::Load({path}, config.sizes.input_size, config.sizes.num_classes);
  auto cpu = Context::CreateCpu(2);
  auto gpu = Context::CreateCuda(0);
  const TrainerOptions options = TrainerOptionsFrom(hp, 5);
  Trainer on_cpu(*cpu, layout, config.sizes.no_event_label, options);
  Trainer on_gpu(*gpu, layout, config.sizes.no_event_label, options);
  on_cpu.InitializeFresh(3);
  on_gpu.InitializeFresh(3);
  EpochOrder order(5, data.size());
  for (int64_t step = 0; step < 3; ++step) {
    const HostBatch batch =
        MakePaddedBatch(data, TrainingBatchRecords(&order, step, hp.batch_size));
    const float a = on_gpu.Step(batch).metrics.loss;
    const float b = on_cpu.Step(batch).metrics.loss;
    EXPECT_NEAR(a, b, 1e-4 * std::fabs(b)) << config_id << " step " << step;
  }
  const TensorMap g = TrainingCheckpointTensors(on_gpu.Snapshot());
  const TensorMap c = TrainingCheckpointTensors(on_cpu.Snapshot());
  for (const auto& [name, t] : c) {
    if (t.dtype() != DType::kFloat32) continue;
    const auto x = g.at(name).ToVector(), y = t.ToVector();
    int bad = 0;
    for (size_t i = 0; i < y.size(); ++i)
      if (std::fabs(x[i] - y[i]) > 2e-4 + 2e-3 * std::fabs(y[i]) && bad++ < 3)
        ADD_FAILURE() << config_id << " " << name << "[" << i << "]: cuda " << x[i] << ", cpu "
                      << y[i];
    EXPECT_EQ(bad, 0) << name;
  }
}

TEST(TrainCudaTest, BasicRnn) { CompareCpuAndCuda("basic_rnn", "batch_size=4,rnn_layer_sizes=[16,16]"); }
TEST(TrainCudaTest, MonoRnn) { CompareCpuAndCuda("mono_rnn", "batch_size=4,rnn_layer_sizes=[16,16]"); }
TEST(TrainCudaTest, LookbackRnn) { CompareCpuAndCuda("lookback_rnn", "batch_size=4,rnn_layer_sizes=[16,16]"); }
TEST(TrainCudaTest, AttentionRnn) {
  CompareCpuAndCuda("attention_rnn", "batch_size=4,rnn_layer_sizes=[16,16],attn_length=5");
}
TEST(TrainCudaTest, ResidualAttention) {
  CompareCpuAndCuda("attention_rnn",
                    "batch_size=3,rnn_layer_sizes=[16,24],attn_length=4,residual_connections=true");
}

}  // namespace
}  // namespace melody
