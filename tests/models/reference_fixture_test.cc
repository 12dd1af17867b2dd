// Our network against Magenta's own graph: tests/fixtures/reference_model/<case>.json
// (written by tests/reference/make_fixtures.py, never run by CI) holds fixed weights by TF
// variable name, a padded batch, and TF's loss, logits (valid positions, batch-major) and
// d loss / d variable. Dropout is off (keep 1.0). Each case skips, saying why, when its
// fixture file is absent.
//
// Tolerances: loss and logits 1e-5 relative + 1e-6 absolute; gradients 1e-4 relative to the
// element + 1e-5 of the tensor's largest magnitude + 1e-8 of the largest gradient of any
// variable. The floors are for tensors whose gradient is a small difference of large terms
// (the attention query kernel: its scores barely matter while the window is mostly zero,
// so its whole gradient is ~1e-5 of the others'): there float32 rounding, ours and TF's,
// is of the order of the upstream gradients' rounding. Measured against a double-precision
// run of our reference network on attention_rnn_residual, TF's own float32 gradient of that
// kernel is off by 1.7e-5 of the tensor's scale and ours by 5e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "models/melody_rnn_config.h"
#include "models/melody_rnn_model.h"
#include "models/parameters.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using nlohmann::json;

std::string FixturePath(const std::string& name) {
  return melody::testing::SourcePath("tests/fixtures/reference_model/" + name + ".json");
}

Tensor TensorFromRecord(const json& record) {
  Shape shape;
  for (const auto& d : record.at("shape")) shape.push_back(d.get<int64_t>());
  std::vector<float> values;
  for (const auto& v : record.at("values")) values.push_back(static_cast<float>(v.get<double>()));
  return Tensor::FromVector(shape, values);
}

class ReferenceFixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceFixtureTest, LossLogitsAndGradientsMatchMagenta) {
  const std::string path = FixturePath(GetParam());
  if (!std::ifstream(path).good()) GTEST_SKIP() << "fixture not found: " << path
                                                << " (written by tests/reference/make_fixtures.py)";
  const json fixture = melody::testing::LoadJson(path);
  MelodyRnnConfig config = DefaultMelodyRnnConfig(fixture.at("config").get<std::string>());
  config.hparams.Parse(fixture.at("hparams_string").get<std::string>());
  // The fixture also records the effective hparams: ours must agree.
  for (const auto& [name, value] : fixture.at("hparams").items()) {
    const HParamValue& ours = config.hparams.Get(name);
    switch (ours.type) {
      case HParamValue::Type::kInt: EXPECT_EQ(ours.int_value, value.get<int64_t>()) << name; break;
      case HParamValue::Type::kFloat: EXPECT_EQ(ours.float_value, value.get<double>()) << name; break;
      case HParamValue::Type::kBool: EXPECT_EQ(ours.bool_value, value.get<bool>()) << name; break;
      case HParamValue::Type::kIntList:
        EXPECT_EQ(ours.list_value, value.get<std::vector<int64_t>>()) << name;
        break;
    }
  }
  if (fixture.contains("graph")) {
    EXPECT_EQ(config.sizes.input_size, fixture["graph"].at("input_size").get<int>());
    EXPECT_EQ(config.sizes.num_classes, fixture["graph"].at("num_classes").get<int>());
    EXPECT_EQ(config.sizes.no_event_label, fixture["graph"].at("no_event_label").get<int>());
  }
  const ModelHParams hp = ModelHParamsFrom(config.hparams);
  const ModelLayout layout = ModelLayout::Build(ModelShape::From(config.sizes, hp));

  // Weights by TF name: the same set of names, every one set.
  Parameters params(layout);
  ASSERT_EQ(fixture.at("weights").size(), layout.variables.size());
  for (const auto& [name, record] : fixture.at("weights").items()) {
    ASSERT_TRUE(params.Has(name)) << "fixture variable not in our layout: " << name;
    params.Set(name, TensorFromRecord(record));
  }
  if (fixture.contains("graph") && fixture["graph"].contains("variable_order")) {
    std::vector<std::string> order;
    for (const auto& v : layout.variables) order.push_back(v.name);
    EXPECT_EQ(order, fixture["graph"]["variable_order"].get<std::vector<std::string>>());
  }

  // The batch.
  const json& b = fixture.at("batch");
  const auto lengths = b.at("lengths").get<std::vector<int32_t>>();
  const int64_t B = static_cast<int64_t>(lengths.size());
  const int64_t T = static_cast<int64_t>(b.at("labels").at(0).size());
  const int64_t I = config.sizes.input_size;
  Tensor inputs({B, T, I}, DType::kFloat32);
  Tensor labels({B, T}, DType::kInt64);
  for (int64_t i = 0; i < B; ++i)
    for (int64_t t = 0; t < T; ++t) {
      labels.data<int64_t>()[i * T + t] = b["labels"][i][t].get<int64_t>();
      for (int64_t f = 0; f < I; ++f)
        inputs.data<float>()[(i * T + t) * I + f] = b["inputs"][i][t][f].get<float>();
    }

  auto ctx = Context::CreateCpu(1);
  MelodyRnnModel model(layout, config.sizes.no_event_label);
  Parameters grads(layout);
  Tensor logits;
  const ModelStepResult r = model.Run(*ctx, params, ModelBatch{inputs, labels, lengths},
                                      DropoutSetting{1.0f, 0, 0}, &grads, &logits);

  const double want_loss = fixture.at("loss").get<double>();
  EXPECT_NEAR(r.metrics.loss, want_loss, 1e-5 * std::abs(want_loss) + 1e-6);
  const json& want_logits = fixture.at("logits");
  ASSERT_EQ(static_cast<int64_t>(want_logits.size()), logits.dim(0));
  const int64_t C = logits.dim(1);
  double worst_logit = 0;
  for (int64_t p = 0; p < logits.dim(0); ++p)
    for (int64_t c = 0; c < C; ++c) {
      const double want = want_logits[p][c].get<double>();
      const double got = logits.data<float>()[p * C + c];
      worst_logit = std::max(worst_logit, std::abs(got - want) / (std::abs(want) + 0.1));
      ASSERT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-6) << "logit [" << p << ", " << c << "]";
    }
  double worst_grad = 0, global_scale = 0;
  for (const auto& [name, record] : fixture.at("gradients").items())
    for (const auto& value : record.at("values"))
      global_scale = std::max(global_scale, std::abs(value.get<double>()));
  for (const auto& [name, record] : fixture.at("gradients").items()) {
    const Tensor want = TensorFromRecord(record);
    const Tensor& got = grads.Get(name);
    ASSERT_EQ(got.shape(), want.shape()) << name;
    double scale = 0;
    for (int64_t e = 0; e < want.numel(); ++e) scale = std::max(scale, double(std::abs(want.data<float>()[e])));
    for (int64_t e = 0; e < want.numel(); ++e) {
      const double w = want.data<float>()[e], g = got.data<float>()[e];
      worst_grad = std::max(worst_grad, std::abs(g - w) / (std::abs(w) + 1e-2 * scale + 1e-30));
      ASSERT_NEAR(g, w, 1e-4 * std::abs(w) + 1e-5 * scale + 1e-8 * global_scale)
          << name << " element " << e;
    }
  }
  std::printf("[ fixture  ] %s: loss %.9g vs %.9g; worst logit rel %.2e; worst gradient rel %.2e\n",
              GetParam(), r.metrics.loss, want_loss, worst_logit, worst_grad);
}

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceFixtureTest,
                         ::testing::Values("basic_rnn", "mono_rnn", "lookback_rnn",
                                           "attention_rnn", "basic_rnn_residual",
                                           "attention_rnn_residual"));

}  // namespace
}  // namespace melody
