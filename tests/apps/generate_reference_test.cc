// Agreement with Magenta's own generator for fixed weights: for the 2019 compat bundle,
// the squash and the per-step softmax of teacher-forced melodies (at temperatures 0.7, 1
// and 1.5) equal what Magenta's MelodyRnnSequenceGenerator computes, within 1e-5 absolute
// (tests/fixtures/generate/softmax_2019_bundle.json, written by
// tests/reference/make_generate_fixture.py). The same softmax is checked when the melody
// is fed one step at a time with the state carried forward, as generation does.
#include <gtest/gtest.h>

#include <cmath>

#include "apps/lib/generate_model.h"
#include "apps/lib/generate_score.h"
#include "core/file_util.h"
#include "data/melody_squash.h"
#include "models/melody_rnn_generate.h"
#include "tests/test_util.h"

namespace melody {
namespace {

constexpr const char* kBundle = "data/compat/attention_rnn_pipeline_2019/my_model.mag";
constexpr double kTolerance = 1e-5;

TEST(GenerateReferenceTest, SoftmaxEqualsMagentasGenerator) {
  MELODY_REQUIRE_SHARED(kBundle);
  const nlohmann::json fixture =
      testing::LoadJson(testing::SourcePath("tests/fixtures/generate/softmax_2019_bundle.json"));
  auto ctx = Context::CreateCpu(2);
  const GeneratorModel model = LoadGeneratorFromBundle(*ctx, testing::SharedPath(kBundle), "");
  const MelodyConfig& mc = model.config.melody;
  const auto encoder = mc.MakeEncoder();
  const int C = model.layout.shape.num_classes, I = model.layout.shape.input_size;
  int cases = 0;
  double worst = 0, worst_stepwise = 0;
  for (const auto& c : fixture["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<int> events = c["events"].get<std::vector<int>>();
    EXPECT_EQ(SquashMelody(&events, mc.min_note, mc.max_note, mc.transpose_to_key),
              c["squash_amount"].get<int>());
    ASSERT_EQ(events, c["squashed_events"].get<std::vector<int>>());
    const float temperature = c["temperature"].get<float>();
    const auto& expected = c["softmax"];
    const int64_t T = static_cast<int64_t>(events.size());
    ASSERT_EQ(static_cast<int64_t>(expected.size()), T);

    const Tensor inputs = Tensor::FromVector({1, T, I}, encoder->InputsForAllPositions(events));
    std::vector<Tensor> state = ZeroGenerateState(*ctx, model.layout, 1);
    const Tensor probs = GenerateForward(*ctx, model.layout, model.params, inputs, temperature, &state);
    // One step at a time from the carried state and key cache, as generation runs it.
    std::vector<Tensor> step_state = ZeroGenerateState(*ctx, model.layout, 1);
    std::vector<Tensor> step_keys;
    for (int64_t t = 0; t < T; ++t) {
      std::vector<float> row(I);
      encoder->EncodeInput(events, static_cast<size_t>(t), row.data());
      const Tensor step = GenerateForward(*ctx, model.layout, model.params,
                                          Tensor::FromVector({1, 1, I}, row), temperature,
                                          &step_state, &step_keys);
      for (int k = 0; k < C; ++k) {
        const double want = expected[t][k].get<double>();
        const double full = probs.data<float>()[t * C + k];
        const double incremental = step.data<float>()[k];
        worst = std::max(worst, std::abs(full - want));
        worst_stepwise = std::max(worst_stepwise, std::abs(incremental - want));
        ASSERT_NEAR(full, want, kTolerance) << "step " << t << " class " << k;
        ASSERT_NEAR(incremental, want, kTolerance) << "step " << t << " class " << k;
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 4);
  std::printf("softmax vs Magenta: %d cases, max |diff| %.3g (whole melody), %.3g (step by step)\n",
              cases, worst, worst_stepwise);
}

// --score on Magenta's own 20 outputs equals melody_log_likelihood computed with Magenta's
// graph and encoder (labels, squash) in the fixture.
TEST(GenerateReferenceTest, ScoresEqualMagentasLogLikelihood) {
  MELODY_REQUIRE_SHARED(kBundle);
  const nlohmann::json fixture =
      testing::LoadJson(testing::SourcePath("tests/fixtures/generate/softmax_2019_bundle.json"));
  auto ctx = Context::CreateCpu(2);
  const GeneratorModel model = LoadGeneratorFromBundle(*ctx, testing::SharedPath(kBundle), "");
  const auto scores = ScoreMelodies(
      *ctx, model, testing::SharedPath("data/compat/attention_rnn_pipeline_2019/generated_midi"));
  const auto& expected = fixture["midi_scores"];
  ASSERT_EQ(scores.size(), expected.size());
  double worst = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    EXPECT_EQ(Basename(scores[i].file), expected[i]["file"].get<std::string>());
    EXPECT_EQ(scores[i].events, expected[i]["events"].get<int64_t>());
    const double want = expected[i]["log_likelihood"].get<double>();
    EXPECT_NEAR(scores[i].log_likelihood, want, 1e-3 + 1e-5 * std::abs(want)) << i;
    worst = std::max(worst, std::abs(scores[i].log_likelihood - want));
  }
  std::printf("log-likelihood vs Magenta: %zu melodies, max |diff| %.3g nats\n", scores.size(), worst);
}

}  // namespace
}  // namespace melody
