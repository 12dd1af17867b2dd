// Generate-mode network: agrees with the train network's logits (keep 1, full lengths),
// running a primer in one call equals running it one step at a time with the state fed
// back, and the temperature divides the logits.
#include "models/melody_rnn_generate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "kernels/gather_rows.h"
#include "kernels/stream_ops.h"
#include "models/melody_rnn_model.h"

namespace melody {
namespace {

ModelShape MakeShape(int I, int C, std::vector<int> layers, int attn, bool residual) {
  ModelShape s;
  s.input_size = I;
  s.num_classes = C;
  s.layer_sizes = std::move(layers);
  s.attn_length = attn;
  s.residual_connections = residual;
  return s;
}

Tensor RandomInputs(int64_t B, int64_t T, int64_t I, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor t({B, T, I}, DType::kFloat32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// inputs[:, t, :] as [B, 1, I].
Tensor Step(Context& ctx, const Tensor& inputs, int64_t t) {
  const int64_t B = inputs.dim(0), T = inputs.dim(1), I = inputs.dim(2);
  Tensor rows({B}, DType::kInt32);
  for (int64_t b = 0; b < B; ++b) rows.data<int32_t>()[b] = static_cast<int32_t>(b * T + t);
  Tensor out({B, I}, DType::kFloat32);
  GatherRows(ctx, inputs, rows, &out);
  return out.Reshaped({B, 1, I});
}

class GenerateTest : public ::testing::TestWithParam<int> {};

TEST_P(GenerateTest, MatchesTrainNetworkAndStepByStep) {
  const ModelShape shapes[] = {MakeShape(7, 6, {8, 5}, 0, false), MakeShape(7, 6, {8, 8}, 3, false),
                               MakeShape(7, 6, {8, 6}, 2, true)};
  const ModelLayout layout = ModelLayout::Build(shapes[GetParam()]);
  Parameters params(layout);
  params.InitializeRandom(3);
  auto ctx = Context::CreateCpu(1);
  const int64_t B = 2, T = 5, C = 6;
  const Tensor inputs = RandomInputs(B, T, 7, 9);

  // Train network, keep 1, full lengths: logits [B·T, C] batch-major.
  MelodyRnnModel model(layout, 0);
  Tensor labels = Tensor::Zeros({B, T}, DType::kInt64);
  Tensor logits;
  model.Run(*ctx, params, ModelBatch{inputs, labels, {T, T}}, DropoutSetting{}, nullptr, &logits);

  std::vector<Tensor> state = ZeroGenerateState(*ctx, layout, B);
  const Tensor probs = GenerateForward(*ctx, layout, params, inputs, 1.0f, &state);
  ASSERT_EQ(probs.shape(), (Shape{B, T, C}));
  for (int64_t r = 0; r < B * T; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(logits.data<float>()[r * C + c]);
    for (int64_t c = 0; c < C; ++c)
      ASSERT_NEAR(probs.data<float>()[r * C + c], std::exp(logits.data<float>()[r * C + c]) / sum, 1e-6)
          << "row " << r << " class " << c;
  }

  // One step at a time from the zero state: same probabilities, same final state.
  std::vector<Tensor> stepped = ZeroGenerateState(*ctx, layout, B);
  for (int64_t t = 0; t < T; ++t) {
    const Tensor p = GenerateForward(*ctx, layout, params, Step(*ctx, inputs, t), 1.0f, &stepped);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        ASSERT_NEAR(p.data<float>()[b * C + c], probs.data<float>()[(b * T + t) * C + c], 1e-6);
  }
  ASSERT_EQ(stepped.size(), state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    const std::vector<float> a = state[i].ToVector(), b = stepped[i].ToVector();
    ASSERT_EQ(a.size(), b.size());
    for (size_t e = 0; e < a.size(); ++e) ASSERT_NEAR(a[e], b[e], 1e-6) << "state " << i;
  }

  // Temperature 2: softmax(logits / 2).
  std::vector<Tensor> fresh = ZeroGenerateState(*ctx, layout, B);
  const Tensor hot = GenerateForward(*ctx, layout, params, inputs, 2.0f, &fresh);
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += std::exp(logits.data<float>()[c] / 2);
  EXPECT_NEAR(hot.data<float>()[1], std::exp(logits.data<float>()[1] / 2) / sum, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Kinds, GenerateTest, ::testing::Values(0, 1, 2));

// CUDA vs CPU: probabilities and final state within 1e-5 (float32, different summation
// orders in cuBLAS/cuDNN), for every kind.
TEST(GenerateCudaTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(1);
  auto gpu = Context::CreateCuda(0);
  for (const ModelShape& shape : {MakeShape(7, 6, {8, 5}, 0, false), MakeShape(7, 6, {8, 8}, 3, false),
                                  MakeShape(7, 6, {8, 6}, 2, true)}) {
    const ModelLayout layout = ModelLayout::Build(shape);
    Parameters params(layout);
    params.InitializeRandom(4);
    const Tensor inputs = RandomInputs(3, 4, 7, 2);
    std::vector<Tensor> cpu_state = ZeroGenerateState(*cpu, layout, 3);
    const Tensor want = GenerateForward(*cpu, layout, params, inputs, 0.7f, &cpu_state);
    std::vector<Tensor> gpu_state = ZeroGenerateState(*gpu, layout, 3);
    Tensor gpu_inputs(inputs.shape(), DType::kFloat32, gpu->device());
    CopyOnStream(*gpu, inputs, &gpu_inputs);
    const Tensor got = GenerateForward(*gpu, layout, params.CopyTo(*gpu), gpu_inputs, 0.7f, &gpu_state);
    for (int64_t i = 0; i < want.numel(); ++i)
      ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-5) << i;
    gpu->Synchronize();
    for (size_t i = 0; i < cpu_state.size(); ++i) {
      const std::vector<float> a = cpu_state[i].ToVector(), b = gpu_state[i].ToVector();
      for (size_t e = 0; e < a.size(); ++e) ASSERT_NEAR(b[e], a[e], 1e-5) << "state " << i;
    }
  }
}

// Stepping with the attention key cache carried beside the state gives the probabilities
// and final state of stepping without it (where every call re-projects the window).
TEST(GenerateKeyCacheTest, CachedStepsEqualRecomputedSteps) {
  auto ctx = Context::CreateCpu(1);
  const ModelLayout layout = ModelLayout::Build(MakeShape(7, 6, {8, 5}, 3, false));
  Parameters params(layout);
  params.InitializeRandom(17);
  const Tensor inputs = RandomInputs(3, 9, 7, 5);
  std::vector<Tensor> plain = ZeroGenerateState(*ctx, layout, 3);
  std::vector<Tensor> cached = ZeroGenerateState(*ctx, layout, 3);
  std::vector<Tensor> keys;
  for (int64_t t = 0; t < 9; ++t) {
    const Tensor x = Step(*ctx, inputs, t);
    const std::vector<float> a = GenerateForward(*ctx, layout, params, x, 1.0f, &plain).ToVector();
    const std::vector<float> b = GenerateForward(*ctx, layout, params, x, 1.0f, &cached, &keys).ToVector();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_TRUE(keys[0].defined());
    EXPECT_FALSE(keys[1].defined());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << "step " << t;
  }
  for (size_t i = 0; i < plain.size(); ++i) {
    const std::vector<float> p = plain[i].ToVector(), c = cached[i].ToVector();
    for (size_t e = 0; e < p.size(); ++e) EXPECT_NEAR(p[e], c[e], 1e-6) << "state " << i;
  }
}

TEST(GenerateErrorsTest, RejectsBadArguments) {
  const ModelLayout layout = ModelLayout::Build(MakeShape(3, 4, {5}, 0, false));
  Parameters params(layout);
  auto ctx = Context::CreateCpu(1);
  std::vector<Tensor> state = ZeroGenerateState(*ctx, layout, 1);
  EXPECT_EQ(state.size(), 2u);
  EXPECT_THROW(GenerateForward(*ctx, layout, params, RandomInputs(1, 1, 3, 1), 0.0f, &state), Error);
  EXPECT_THROW(GenerateForward(*ctx, layout, params, RandomInputs(1, 1, 4, 1), 1.0f, &state), Error);
  std::vector<Tensor> short_state(1);
  EXPECT_THROW(GenerateForward(*ctx, layout, params, RandomInputs(1, 1, 3, 1), 1.0f, &short_state), Error);
}

}  // namespace
}  // namespace melody
