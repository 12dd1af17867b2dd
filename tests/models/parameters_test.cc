// Variable names, shapes, creation order and counts of shared/spec/model.md §3.2, the
// residual/input-projection naming, initialisation, and name-addressed access.
#include "models/parameters.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace melody {
namespace {

ModelLayout DefaultLayout(const std::string& id, const std::string& hparams = "") {
  MelodyRnnConfig c = DefaultMelodyRnnConfig(id);
  c.hparams.Parse(hparams);
  return ModelLayout::Build(ModelShape::From(c.sizes, ModelHParamsFrom(c.hparams)));
}

std::vector<std::pair<std::string, Shape>> NamesAndShapes(const ModelLayout& l) {
  std::vector<std::pair<std::string, Shape>> out;
  for (const auto& v : l.variables) out.emplace_back(v.name, v.shape);
  return out;
}

TEST(ParametersTest, DefaultConfigCounts) {
  EXPECT_EQ(DefaultLayout("basic_rnn").NumParameters(), 221990);
  EXPECT_EQ(DefaultLayout("mono_rnn").NumParameters(), 280962);
  EXPECT_EQ(DefaultLayout("lookback_rnn").NumParameters(), 264744);
  EXPECT_EQ(DefaultLayout("attention_rnn").NumParameters(), 338006);
}

TEST(ParametersTest, BasicRnnNamesAndShapes) {
  using V = std::vector<std::pair<std::string, Shape>>;
  EXPECT_EQ(NamesAndShapes(DefaultLayout("basic_rnn")),
            (V{{"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel", {166, 512}},
               {"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias", {512}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel", {256, 512}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias", {512}},
               {"fully_connected/weights", {128, 38}},
               {"fully_connected/biases", {38}}}));
  EXPECT_EQ(DefaultLayout("mono_rnn").variables[0].shape, (Shape{258, 512}));
  EXPECT_EQ(DefaultLayout("lookback_rnn").variables[0].shape, (Shape{249, 512}));
  EXPECT_EQ(DefaultLayout("lookback_rnn").variables[4].shape, (Shape{128, 40}));
}

TEST(ParametersTest, AttentionRnnNamesAndShapes) {
  using V = std::vector<std::pair<std::string, Shape>>;
  const std::string p = "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/";
  ModelLayout l = DefaultLayout("attention_rnn");
  EXPECT_EQ(NamesAndShapes(l),
            (V{{p + "kernel", {202, 74}},
               {p + "bias", {74}},
               {p + "basic_lstm_cell/kernel", {202, 512}},
               {p + "basic_lstm_cell/bias", {512}},
               {p + "attention/attn_w", {1, 1, 128, 128}},
               {p + "attention/attn_v", {128}},
               {p + "attention/kernel", {256, 128}},
               {p + "attention/bias", {128}},
               {p + "attn_output_projection/kernel", {256, 128}},
               {p + "attn_output_projection/bias", {128}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel", {256, 512}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias", {512}},
               {"fully_connected/weights", {128, 40}},
               {"fully_connected/biases", {40}}}));
  EXPECT_TRUE(l.layers[0].has_attention());
  EXPECT_FALSE(l.layers[1].has_attention());
  EXPECT_EQ(l.layers[0].input_width, 74);
  EXPECT_EQ(l.layers[1].input_width, 128);
}

TEST(ParametersTest, ResidualConnectionsNaming) {
  using V = std::vector<std::pair<std::string, Shape>>;
  ModelLayout l = DefaultLayout("basic_rnn", "residual_connections=true");
  const std::string c0 = "rnn/multi_rnn_cell/cell_0/input_projection_wrapper/";
  EXPECT_EQ(NamesAndShapes(l),
            (V{{c0 + "kernel", {38, 128}},
               {c0 + "bias", {128}},
               {c0 + "basic_lstm_cell/kernel", {256, 512}},
               {c0 + "basic_lstm_cell/bias", {512}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel", {256, 512}},
               {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias", {512}},
               {"fully_connected/weights", {128, 38}},
               {"fully_connected/biases", {38}}}));
  // Different widths: layer 1 gets its own projection [N0, N1].
  l = DefaultLayout("basic_rnn", "residual_connections=1,rnn_layer_sizes=[64,32]");
  EXPECT_EQ(l.variables[4].name, "rnn/multi_rnn_cell/cell_1/input_projection_wrapper/kernel");
  EXPECT_EQ(l.variables[4].shape, (Shape{64, 32}));
  EXPECT_EQ(l.variables[6].name,
            "rnn/multi_rnn_cell/cell_1/input_projection_wrapper/basic_lstm_cell/kernel");
  EXPECT_EQ(l.variables[6].shape, (Shape{64, 128}));
  // With attention: everything of layer 0 moves below the projection; the attention input
  // projection is [N0 + A, N0].
  l = DefaultLayout("attention_rnn", "residual_connections=true");
  EXPECT_EQ(l.variables[2].name,
            "rnn/multi_rnn_cell/cell_0/input_projection_wrapper/attention_cell_wrapper/kernel");
  EXPECT_EQ(l.variables[2].shape, (Shape{256, 128}));
  EXPECT_EQ(l.variables[6].name, "rnn/multi_rnn_cell/cell_0/input_projection_wrapper/"
                                 "attention_cell_wrapper/attention/attn_w");
}

TEST(ParametersTest, ThreeLayersAndSingleLayer) {
  ModelLayout l = DefaultLayout("lookback_rnn", "rnn_layer_sizes=[64,64,32]");
  ASSERT_EQ(l.layers.size(), 3u);
  EXPECT_EQ(l.variables[4].name, "rnn/multi_rnn_cell/cell_2/basic_lstm_cell/kernel");
  EXPECT_EQ(l.variables[4].shape, (Shape{96, 128}));
  EXPECT_EQ(l.variables[l.fc_weights].shape, (Shape{32, 40}));
  l = DefaultLayout("basic_rnn", "rnn_layer_sizes=[16]");
  EXPECT_EQ(l.NumParameters(), (38 + 16) * 64 + 64 + 16 * 38 + 38);
}

TEST(ParametersTest, InitialisationDistribution) {
  ModelLayout layout = DefaultLayout("attention_rnn");
  Parameters p(layout);
  p.InitializeRandom(42);
  for (size_t i = 0; i < p.size(); ++i) {
    const VariableSpec& spec = layout.variables[i];
    const float* d = p.at(i).data<float>();
    const int64_t n = p.at(i).numel();
    if (spec.init == InitKind::kZeros) {
      for (int64_t e = 0; e < n; ++e) ASSERT_EQ(d[e], 0.0f) << spec.name;
      continue;
    }
    const double r = GlorotLimit(spec.shape);
    double sum = 0, sum2 = 0;
    for (int64_t e = 0; e < n; ++e) {
      ASSERT_LE(std::abs(d[e]), r) << spec.name;
      sum += d[e];
      sum2 += double(d[e]) * d[e];
    }
    // Uniform(−r, r): mean 0, variance r²/3; 5-sigma bounds on the sample statistics.
    const double var = r * r / 3;
    EXPECT_NEAR(sum / n, 0.0, 5 * std::sqrt(var / n)) << spec.name;
    EXPECT_NEAR(sum2 / n, var, 5 * std::sqrt(4.0 / 45 * r * r * r * r / n) + 1e-12) << spec.name;
  }
  EXPECT_NEAR(GlorotLimit({166, 512}), std::sqrt(6.0 / 678), 1e-15);
  EXPECT_NEAR(GlorotLimit({1, 1, 128, 128}), std::sqrt(6.0 / 256), 1e-15);
  EXPECT_NEAR(GlorotLimit({128}), std::sqrt(3.0 / 128), 1e-15);
  // Same seed, same values; other seed, other values.
  Parameters q(layout), r(layout);
  q.InitializeRandom(42);
  r.InitializeRandom(43);
  EXPECT_EQ(q.at(0).ToVector(), p.at(0).ToVector());
  EXPECT_NE(r.at(0).ToVector(), p.at(0).ToVector());
}

TEST(ParametersTest, GetAndSetByName) {
  Parameters p(DefaultLayout("basic_rnn"));
  Tensor bias = Tensor::FromVector({38}, std::vector<float>(38, 0.25f));
  p.Set("fully_connected/biases", bias);
  EXPECT_EQ(p.Get("fully_connected/biases").data<float>()[37], 0.25f);
  EXPECT_TRUE(p.Has("fully_connected/weights"));
  EXPECT_FALSE(p.Has("fully_connected/kernel"));
  try {
    p.Get("fully_connected/kernel");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fully_connected/kernel"), std::string::npos);
  }
  try {
    p.Set("fully_connected/biases", Tensor::FromVector({37}, std::vector<float>(37)));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected shape [38], got [37]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace melody
