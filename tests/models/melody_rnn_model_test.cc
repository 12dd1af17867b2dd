// Whole-model checks: finite-difference gradients of the double-precision reference network
// (plain, attention, residual with input projections; with and without dropout), the fast
// float model against that reference, determinism, argument errors, and CUDA vs CPU
// (skipped without a GPU).
#include "models/melody_rnn_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "kernels/stream_ops.h"

namespace melody {
namespace {

struct TinyCase {
  const char* label;
  ModelShape shape;
  std::vector<int32_t> lengths;
  int64_t time;
  float keep_prob;
};

ModelShape Shape_(int I, int C, std::vector<int> layers, int attn, bool residual) {
  ModelShape s;
  s.input_size = I;
  s.num_classes = C;
  s.layer_sizes = std::move(layers);
  s.attn_length = attn;
  s.residual_connections = residual;
  return s;
}

template <typename T>
Tensor RandomInputs(int64_t B, int64_t Tm, int64_t I, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Tensor t({B, Tm, I}, DTypeOf<T>::value);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(u(rng));
  return t;
}

Tensor RandomLabels(int64_t B, int64_t Tm, int C, uint32_t seed) {
  std::mt19937 rng(seed + 7);
  Tensor t({B, Tm}, DType::kInt64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = rng() % C;
  return t;
}

// Random weights with biases made non-zero too, so their gradients are exercised at a
// generic point.
Parameters RandomParameters(const ModelLayout& layout, uint64_t seed) {
  Parameters p(layout);
  p.InitializeRandom(seed);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  for (size_t i = 0; i < p.size(); ++i) {
    if (layout.variables[i].init != InitKind::kZeros) continue;
    for (int64_t e = 0; e < p.at(i).numel(); ++e) p.at(i).data<float>()[e] = u(rng);
  }
  return p;
}

const TinyCase kTinyCases[] = {
    {"plain", Shape_(5, 6, {4, 3}, 0, false), {4, 2, 3}, 4, 1.0f},
    {"plain+dropout", Shape_(5, 6, {4, 3}, 0, false), {4, 1, 3}, 4, 0.6f},
    {"attention", Shape_(5, 6, {4, 3}, 3, false), {5, 2, 4}, 5, 1.0f},
    {"attention+dropout", Shape_(4, 5, {3, 3}, 2, false), {4, 3}, 4, 0.7f},
    {"residual", Shape_(5, 6, {4, 4, 3}, 0, true), {3, 2}, 3, 1.0f},
    {"residual+attention+dropout", Shape_(4, 5, {3, 3}, 2, true), {3, 1, 2}, 3, 0.8f},
};

// Central differences on the double reference, every element of every variable.
// Step 1e-6, tolerance 1e-6 relative + 1e-9 absolute (the truncation error is O(h²·f''')
// ~1e-12 and the rounding error ~1e-16/1e-6 = 1e-10).
TEST(MelodyRnnModelTest, ReferenceGradientsMatchFiniteDifferences) {
  for (const TinyCase& c : kTinyCases) {
    SCOPED_TRACE(c.label);
    const ModelLayout layout = ModelLayout::Build(c.shape);
    const Parameters init = RandomParameters(layout, 5);
    std::vector<Tensor> v = reference::ParametersAs<double>(init);
    const int64_t B = static_cast<int64_t>(c.lengths.size());
    const Tensor x = RandomInputs<double>(B, c.time, c.shape.input_size, 11);
    const Tensor y = RandomLabels(B, c.time, c.shape.num_classes, 11);
    const DropoutSetting d{c.keep_prob, 1234, 3};
    const int no_event = 1;
    std::vector<Tensor> grads;
    reference::MelodyRnnForwardBackward<double>(layout, v, x, y, c.lengths, d, no_event, &grads);
    const double h = 1e-6;
    int checked = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      for (int64_t e = 0; e < v[i].numel(); ++e) {
        double* w = v[i].data<double>() + e;
        const double saved = *w;
        *w = saved + h;
        const double plus = reference::MelodyRnnForwardBackward<double>(layout, v, x, y, c.lengths,
                                                                         d, no_event, nullptr);
        *w = saved - h;
        const double minus = reference::MelodyRnnForwardBackward<double>(layout, v, x, y, c.lengths,
                                                                          d, no_event, nullptr);
        *w = saved;
        const double numeric = (plus - minus) / (2 * h);
        const double analytic = grads[i].data<double>()[e];
        ASSERT_NEAR(analytic, numeric, 1e-6 * std::abs(numeric) + 1e-9)
            << layout.variables[i].name << " element " << e;
        ++checked;
      }
    }
    EXPECT_EQ(checked, layout.NumParameters());
  }
}

double MaxAbs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i)
    m = std::max(m, std::abs(t.dtype() == DType::kFloat64 ? t.data<double>()[i]
                                                           : static_cast<double>(t.data<float>()[i])));
  return m;
}

// The fast float model vs the double reference on mid-sized configs of each kind.
// Tolerances (float32 through a few hundred sequential steps): loss 1e-5 relative; logits
// 1e-4 absolute; each gradient tensor within 1e-3 of its own largest magnitude.
struct MidCase {
  const char* label;
  ModelShape shape;
  std::vector<int32_t> lengths;
  int64_t time;
  float keep_prob;
};

void CompareFastWithReference(Context& ctx, const MidCase& c) {
  SCOPED_TRACE(c.label);
  const ModelLayout layout = ModelLayout::Build(c.shape);
  Parameters params = RandomParameters(layout, 21);
  const int64_t B = static_cast<int64_t>(c.lengths.size());
  const Tensor x = RandomInputs<float>(B, c.time, c.shape.input_size, 3);
  const Tensor y = RandomLabels(B, c.time, c.shape.num_classes, 3);
  const DropoutSetting d{c.keep_prob, 99, 17};
  MelodyRnnModel model(layout, 0);
  Parameters grads(layout, ctx.device());
  Tensor logits;
  Tensor dev_x(x.shape(), x.dtype(), ctx.device()), dev_y(y.shape(), y.dtype(), ctx.device());
  CopyOnStream(ctx, x, &dev_x);
  CopyOnStream(ctx, y, &dev_y);
  ModelBatch batch{dev_x, dev_y, c.lengths};
  const Parameters dev_params = params.CopyTo(ctx);
  ModelStepResult r = model.Run(ctx, dev_params, batch, d, &grads, &logits);
  ctx.Synchronize();

  Tensor xd(x.shape(), DType::kFloat64);
  for (int64_t i = 0; i < x.numel(); ++i) xd.data<double>()[i] = x.data<float>()[i];
  std::vector<Tensor> ref_grads;
  Tensor ref_logits;
  const double ref_loss = reference::MelodyRnnForwardBackward<double>(
      layout, reference::ParametersAs<double>(params), xd, y, c.lengths, d, 0, &ref_grads,
      &ref_logits);
  EXPECT_NEAR(r.metrics.loss, ref_loss, 1e-5 * std::abs(ref_loss));
  const std::vector<float> got_logits = logits.ToVector();
  ASSERT_EQ(static_cast<int64_t>(got_logits.size()), ref_logits.numel());
  for (int64_t i = 0; i < ref_logits.numel(); ++i)
    ASSERT_NEAR(got_logits[i], ref_logits.data<double>()[i], 1e-4) << "logit " << i;
  for (size_t i = 0; i < grads.size(); ++i) {
    const std::vector<float> got = grads.at(i).ToVector();
    const double scale = MaxAbs(ref_grads[i]);
    for (int64_t e = 0; e < ref_grads[i].numel(); ++e)
      ASSERT_NEAR(got[e], ref_grads[i].data<double>()[e], 1e-3 * scale + 1e-7)
          << layout.variables[i].name << " element " << e;
  }
}

const MidCase kMidCases[] = {
    {"basic-like", Shape_(38, 38, {32, 24}, 0, false), {12, 5, 1, 9}, 12, 1.0f},
    {"lookback-like+dropout", Shape_(121, 40, {32, 32}, 0, false), {7, 11, 3}, 11, 0.5f},
    {"attention-like+dropout", Shape_(74, 40, {16, 16}, 5, false), {9, 4, 13}, 13, 0.5f},
    {"residual", Shape_(38, 38, {16, 16, 8}, 0, true), {6, 3}, 6, 1.0f},
};

TEST(MelodyRnnModelTest, FastCpuMatchesDoubleReference) {
  auto ctx = Context::CreateCpu(2);
  for (const MidCase& c : kMidCases) CompareFastWithReference(*ctx, c);
}

TEST(MelodyRnnModelTest, DeterministicAndForwardOnlyAgrees) {
  auto ctx = Context::CreateCpu(2);
  const ModelLayout layout = ModelLayout::Build(Shape_(74, 40, {16, 16}, 4, false));
  const Parameters params = RandomParameters(layout, 8);
  const std::vector<int32_t> lengths = {6, 2, 5};
  ModelBatch batch{RandomInputs<float>(3, 6, 74, 1), RandomLabels(3, 6, 40, 1), lengths};
  MelodyRnnModel model(layout, 36);
  Parameters g1(layout), g2(layout);
  const DropoutSetting d{0.5f, 7, 1};
  const ModelStepResult a = model.Run(*ctx, params, batch, d, &g1);
  const ModelStepResult b = model.Run(*ctx, params, batch, d, &g2);
  EXPECT_EQ(a.metrics.loss, b.metrics.loss);
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_EQ(g1.at(i).ToVector(), g2.at(i).ToVector());
  const ModelStepResult f = model.Run(*ctx, params, batch, d, nullptr);
  EXPECT_EQ(f.metrics.loss, a.metrics.loss);
  EXPECT_EQ(a.counts.num_positions, 13);
  // Another step draws another mask.
  const ModelStepResult other = model.Run(*ctx, params, batch, DropoutSetting{0.5f, 7, 2}, nullptr);
  EXPECT_NE(other.metrics.loss, a.metrics.loss);
}

TEST(MelodyRnnModelTest, RejectsBadBatches) {
  auto ctx = Context::CreateCpu(1);
  const ModelLayout layout = ModelLayout::Build(Shape_(5, 6, {4}, 0, false));
  const Parameters params(layout);
  MelodyRnnModel model(layout, 0);
  ModelBatch ok{RandomInputs<float>(2, 3, 5, 1), RandomLabels(2, 3, 6, 1), {3, 1}};
  EXPECT_NO_THROW(model.Run(*ctx, params, ok, {}, nullptr));
  ModelBatch wrong_width{RandomInputs<float>(2, 3, 4, 1), ok.labels, {3, 1}};
  EXPECT_THROW(model.Run(*ctx, params, wrong_width, {}, nullptr), Error);
  ModelBatch long_length{ok.inputs, ok.labels, {4, 1}};
  EXPECT_THROW(model.Run(*ctx, params, long_length, {}, nullptr), Error);
  ModelBatch empty{ok.inputs, ok.labels, {0, 0}};
  EXPECT_THROW(model.Run(*ctx, params, empty, {}, nullptr), Error);
  ModelBatch few_lengths{ok.inputs, ok.labels, {3}};
  EXPECT_THROW(model.Run(*ctx, params, few_lengths, {}, nullptr), Error);
  Tensor bad_labels = RandomLabels(2, 3, 6, 1);
  bad_labels.data<int64_t>()[0] = 6;
  ModelBatch label_out_of_range{ok.inputs, bad_labels, {3, 1}};
  EXPECT_THROW(model.Run(*ctx, params, label_out_of_range, {}, nullptr), Error);
}

// CUDA vs CPU for every mid-sized case, through the same double reference comparison.
TEST(MelodyRnnModelTest, CudaMatchesReference) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto ctx = Context::CreateCuda(0);
  for (const MidCase& c : kMidCases) CompareFastWithReference(*ctx, c);
}

}  // namespace
}  // namespace melody
