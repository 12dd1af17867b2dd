// Attention-wrapped LSTM layer (kernels/attention_layer.h): the fast path (keys projected
// once into a history ring) against the literal per-sequence reference (window shifted and
// re-projected every step), a finite-difference check of the reference backward in double
// over every weight and input, dynamic_rnn length semantics, step-by-step chaining through
// the state, and CUDA against the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/context.h"
#include "kernels/attention_layer.h"
#include "tests/kernels/kernel_test_util.h"

namespace melody {
namespace {

using kernel_test::AllClose;
using kernel_test::AllCloseScaled;
using kernel_test::BitwiseEqual;
using kernel_test::RandomFloat;
using kernel_test::ToDouble;

struct LayerShape {
  int64_t B, T, I, N;
  int Lw;
  std::vector<int32_t> lengths;
};

// Batch 1 / length 1 / window 1; a window longer than the sequence with an empty sequence;
// ragged lengths with N not a multiple of 32; the attention_rnn input width.
const std::vector<LayerShape> kShapes = {
    {1, 1, 3, 4, 1, {1}},
    {3, 6, 5, 7, 10, {6, 3, 0}},
    {4, 9, 6, 33, 4, {9, 1, 5, 8}},
    {2, 20, 74, 40, 8, {20, 13}},
};

// Glorot-uniform ranges as the model's initialiser uses (model.md §3.3), and small random
// biases (zeros would hide bias-gradient errors).
AttentionLayerWeights RandomWeights(std::mt19937& rng, int64_t I, int64_t N) {
  auto glorot = [&](const Shape& shape, int64_t fan_in, int64_t fan_out) {
    return RandomFloat(rng, shape, std::sqrt(6.0f / static_cast<float>(fan_in + fan_out)));
  };
  AttentionLayerWeights w;
  w.input_kernel = glorot({I + N, I}, I + N, I);
  w.input_bias = RandomFloat(rng, {I}, 0.1f);
  w.lstm_kernel = glorot({I + N, 4 * N}, I + N, 4 * N);
  w.lstm_bias = RandomFloat(rng, {4 * N}, 0.1f);
  w.attn_w = glorot({1, 1, N, N}, N, N);
  w.attn_v = glorot({N}, N, N);
  w.query_kernel = glorot({2 * N, N}, 2 * N, N);
  w.query_bias = RandomFloat(rng, {N}, 0.1f);
  w.output_kernel = glorot({2 * N, N}, 2 * N, N);
  w.output_bias = RandomFloat(rng, {N}, 0.1f);
  return w;
}

std::vector<Tensor*> Fields(AttentionLayerWeights& w) {
  return {&w.input_kernel, &w.input_bias,   &w.lstm_kernel,  &w.lstm_bias,
          &w.attn_w,       &w.attn_v,       &w.query_kernel, &w.query_bias,
          &w.output_kernel, &w.output_bias};
}
const char* const kFieldNames[] = {"input_kernel", "input_bias",   "lstm_kernel",
                                   "lstm_bias",    "attn_w",       "attn_v",
                                   "query_kernel", "query_bias",   "output_kernel",
                                   "output_bias"};

AttentionLayerWeights MapWeights(const AttentionLayerWeights& w,
                                 Tensor (*fn)(const Tensor&)) {
  AttentionLayerWeights out = w;
  for (Tensor* t : Fields(out)) *t = fn(*t);
  return out;
}

AttentionLayerState RandomState(std::mt19937& rng, int64_t B, int64_t N, int Lw) {
  AttentionLayerState s;
  s.c = RandomFloat(rng, {B, N});
  s.h = RandomFloat(rng, {B, N}, 0.7f);
  s.attns = RandomFloat(rng, {B, N});
  s.window = RandomFloat(rng, {B, Lw, N});
  return s;
}
AttentionLayerState StateToDouble(const AttentionLayerState& s) {
  return {ToDouble(s.c), ToDouble(s.h), ToDouble(s.attns), ToDouble(s.window), Tensor()};
}

Tensor Lengths(const std::vector<int32_t>& len) {
  Tensor t({static_cast<int64_t>(len.size())}, DType::kInt32);
  std::copy(len.begin(), len.end(), t.data<int32_t>());
  return t;
}

// Everything one run of a layer produces.
struct LayerRun {
  Tensor outputs, d_inputs;
  AttentionLayerState final_state;
  AttentionLayerWeights grads;
};

LayerRun RunFast(Context& ctx, const LayerShape& s, const Tensor& inputs,
                 const AttentionLayerWeights& weights, const AttentionLayerState* initial,
                 const Tensor& d_outputs) {
  const Device dev = ctx.device();
  AttentionLayerWeights w = weights;
  for (Tensor* t : Fields(w)) *t = t->CopyTo(dev);
  AttentionLayerState init_dev;
  if (initial) {
    init_dev = {initial->c.CopyTo(dev), initial->h.CopyTo(dev), initial->attns.CopyTo(dev),
                initial->window.CopyTo(dev), Tensor()};
    if (initial->window_keys.defined()) init_dev.window_keys = initial->window_keys.CopyTo(dev);
  }
  const Tensor x = inputs.CopyTo(dev);
  Tensor outputs({s.B, s.T, s.N}, DType::kFloat32, dev);
  AttentionLayerActivations act;
  AttentionLayerState final_state;
  AttentionLayerForward(ctx, x, Lengths(s.lengths), w, s.Lw, initial ? &init_dev : nullptr,
                        &outputs, &act, &final_state);
  AttentionLayerWeights grads = ZerosLikeWeights(w, dev);
  Tensor d_inputs({s.B, s.T, s.I}, DType::kFloat32, dev);
  AttentionLayerBackward(ctx, x, w, act, d_outputs.CopyTo(dev), &grads, &d_inputs);
  ctx.Synchronize();
  LayerRun r;
  r.outputs = outputs.CopyTo(Device::CPU());
  r.d_inputs = d_inputs.CopyTo(Device::CPU());
  r.final_state = {final_state.c.CopyTo(Device::CPU()), final_state.h.CopyTo(Device::CPU()),
                   final_state.attns.CopyTo(Device::CPU()),
                   final_state.window.CopyTo(Device::CPU()),
                   final_state.window_keys.CopyTo(Device::CPU())};
  r.grads = grads;
  for (Tensor* t : Fields(r.grads)) *t = t->CopyTo(Device::CPU());
  return r;
}

LayerRun RunReference(const LayerShape& s, const Tensor& inputs,
                      const AttentionLayerWeights& weights, const AttentionLayerState* initial,
                      const Tensor& d_outputs) {
  const AttentionLayerWeights w = MapWeights(weights, &ToDouble);
  AttentionLayerState init_d;
  if (initial) init_d = StateToDouble(*initial);
  const Tensor x = ToDouble(inputs);
  LayerRun r;
  r.outputs = Tensor({s.B, s.T, s.N}, DType::kFloat64);
  reference::AttentionLayerForward<double>(x, Lengths(s.lengths), w, s.Lw,
                                           initial ? &init_d : nullptr, &r.outputs,
                                           &r.final_state);
  r.grads = ZerosLikeWeights(w, Device::CPU());
  r.d_inputs = Tensor({s.B, s.T, s.I}, DType::kFloat64);
  reference::AttentionLayerBackward<double>(x, Lengths(s.lengths), w, s.Lw,
                                            initial ? &init_d : nullptr, ToDouble(d_outputs),
                                            &r.grads, &r.d_inputs);
  return r;
}

::testing::AssertionResult RunsClose(const LayerRun& a, const LayerRun& b, double abs_tol,
                                     double rel_tol, uint32_t seed) {
  auto check = [&](const Tensor& x, const Tensor& y, const std::string& what) {
    return AllCloseScaled(x, y, abs_tol, rel_tol, what, seed);
  };
  ::testing::AssertionResult r = check(a.outputs, b.outputs, "outputs");
  if (r) r = check(a.d_inputs, b.d_inputs, "d_inputs");
  if (r) r = check(a.final_state.c, b.final_state.c, "final c");
  if (r) r = check(a.final_state.h, b.final_state.h, "final h");
  if (r) r = check(a.final_state.attns, b.final_state.attns, "final attns");
  if (r) r = check(a.final_state.window, b.final_state.window, "final window");
  if (r) r = check(a.final_state.window_keys, b.final_state.window_keys, "final window keys");
  AttentionLayerWeights ga = a.grads, gb = b.grads;
  const auto fa = Fields(ga), fb = Fields(gb);
  for (size_t i = 0; r && i < fa.size(); ++i)
    r = check(*fa[i], *fb[i], std::string("d ") + kFieldNames[i]);
  return r;
}

// Float32 fast path against the double reference. Rounding errors grow through the
// recurrence (T up to 20 steps, sums over up to I + N = 114 terms); with these weights the
// worst error of any output, state or gradient tensor is 3.4e-7 times the largest
// magnitude in that tensor (the reference's own float32 instantiation: 3.9e-7). Tolerance:
// 1e-5 x max(1, max |expected|) abs + 1e-4 rel, about 30x the observed error.
constexpr double kAbsTol = 1e-5, kRelTol = 1e-4;

TEST(AttentionLayerTest, FastCpuMatchesLiteralReference) {
  auto ctx = Context::CreateCpu(2);
  uint32_t seed = 500;
  for (const LayerShape& s : kShapes) {
    for (bool with_initial : {false, true}) {
      ++seed;
      SCOPED_TRACE(::testing::Message() << "B=" << s.B << " T=" << s.T << " I=" << s.I
                                        << " N=" << s.N << " Lw=" << s.Lw << " initial="
                                        << with_initial << " seed=" << seed);
      std::mt19937 rng(seed);
      const AttentionLayerWeights w = RandomWeights(rng, s.I, s.N);
      const Tensor x = RandomFloat(rng, {s.B, s.T, s.I});
      const Tensor d_out = RandomFloat(rng, {s.B, s.T, s.N});
      const AttentionLayerState init = RandomState(rng, s.B, s.N, s.Lw);
      const AttentionLayerState* initial = with_initial ? &init : nullptr;
      const LayerRun fast = RunFast(*ctx, s, x, w, initial, d_out);
      const LayerRun ref = RunReference(s, x, w, initial, d_out);
      EXPECT_TRUE(RunsClose(fast, ref, kAbsTol, kRelTol, seed));
    }
  }
}

TEST(AttentionLayerTest, PaddedPositionsOutputZeroAndIgnoreTheirGradient) {
  auto ctx = Context::CreateCpu(1);
  const LayerShape s{3, 7, 4, 5, 3, {7, 2, 4}};
  std::mt19937 rng(31);
  const AttentionLayerWeights w = RandomWeights(rng, s.I, s.N);
  Tensor x = RandomFloat(rng, {s.B, s.T, s.I});
  Tensor d_out = RandomFloat(rng, {s.B, s.T, s.N});
  const LayerRun a = RunFast(*ctx, s, x, w, nullptr, d_out);
  // Change inputs and output gradients only at padded positions.
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t t = s.lengths[b]; t < s.T; ++t) {
      for (int64_t i = 0; i < s.I; ++i) x.data<float>()[(b * s.T + t) * s.I + i] += 3.0f;
      for (int64_t k = 0; k < s.N; ++k) d_out.data<float>()[(b * s.T + t) * s.N + k] -= 5.0f;
    }
  const LayerRun b = RunFast(*ctx, s, x, w, nullptr, d_out);
  EXPECT_TRUE(RunsClose(a, b, 0.0, 0.0, 31));
  for (int64_t r = 0; r < s.B; ++r)
    for (int64_t t = s.lengths[r]; t < s.T; ++t)
      for (int64_t k = 0; k < s.N; ++k) {
        ASSERT_EQ(a.outputs.data<float>()[(r * s.T + t) * s.N + k], 0.0f);
      }
  for (int64_t r = 0; r < s.B; ++r)
    for (int64_t t = s.lengths[r]; t < s.T; ++t)
      for (int64_t i = 0; i < s.I; ++i)
        ASSERT_EQ(a.d_inputs.data<float>()[(r * s.T + t) * s.I + i], 0.0f);
}

TEST(AttentionLayerTest, StepByStepThroughTheStateEqualsOneCall) {
  // Generation feeds one step at a time with the previous final state: the chained result
  // must equal one call over the whole sequence (window and attns carried in the state).
  auto ctx = Context::CreateCpu(1);
  const LayerShape whole{2, 6, 4, 6, 3, {6, 6}};
  std::mt19937 rng(41);
  const AttentionLayerWeights w = RandomWeights(rng, whole.I, whole.N);
  const Tensor x = RandomFloat(rng, {whole.B, whole.T, whole.I});
  Tensor outputs({whole.B, whole.T, whole.N}, DType::kFloat32);
  AttentionLayerState final_whole;
  AttentionLayerForward(*ctx, x, Lengths(whole.lengths), w, whole.Lw, nullptr, &outputs,
                        nullptr, &final_whole);
  // Once passing the key cache along (keys projected once), once dropping it (keys
  // recomputed from the window at every call).
  for (bool keep_keys : {true, false}) {
    SCOPED_TRACE(keep_keys ? "cached window keys" : "recomputed window keys");
    AttentionLayerState state;
    bool have_state = false;
    for (int64_t t = 0; t < whole.T; ++t) {
      Tensor x_t({whole.B, 1, whole.I}, DType::kFloat32);
      for (int64_t b = 0; b < whole.B; ++b)
        for (int64_t i = 0; i < whole.I; ++i)
          x_t.data<float>()[b * whole.I + i] = x.data<float>()[(b * whole.T + t) * whole.I + i];
      Tensor out_t({whole.B, 1, whole.N}, DType::kFloat32);
      AttentionLayerState next;
      AttentionLayerForward(*ctx, x_t, Lengths({1, 1}), w, whole.Lw,
                            have_state ? &state : nullptr, &out_t, nullptr, &next);
      for (int64_t b = 0; b < whole.B; ++b)
        for (int64_t k = 0; k < whole.N; ++k)
          EXPECT_NEAR(out_t.data<float>()[b * whole.N + k],
                      outputs.data<float>()[(b * whole.T + t) * whole.N + k], 1e-6)
              << "t=" << t << " b=" << b << " k=" << k;
      state = next;
      if (!keep_keys) state.window_keys = Tensor();
      have_state = true;
    }
    EXPECT_TRUE(AllClose(state.window, final_whole.window, 1e-6, 0.0, "window", 41));
    EXPECT_TRUE(AllClose(state.attns, final_whole.attns, 1e-6, 0.0, "attns", 41));
    EXPECT_TRUE(AllClose(state.c, final_whole.c, 1e-6, 0.0, "c", 41));
    EXPECT_TRUE(AllClose(state.h, final_whole.h, 1e-6, 0.0, "h", 41));
  }
}

TEST(AttentionLayerTest, SingleStepPathGivesTheGeneralPathsBits) {
  // Generation's calls (T = 1, lengths 1, window keys carried, no activations) take
  // cpu::AttentionLayerSingleStep, which reads the window in place; asking for the
  // activations forces the general path over a copied history. Both must agree bit for bit.
  for (int threads : {1, 2}) {
    auto ctx = Context::CreateCpu(threads);
    const int64_t B = 5, I = 7, N = 12;
    const int Lw = 4;
    std::mt19937 rng(53 + threads);
    const AttentionLayerWeights w = RandomWeights(rng, I, N);
    AttentionLayerState initial = RandomState(rng, B, N, Lw);
    initial.window_keys = Tensor({B, Lw, N}, DType::kFloat32);
    for (int64_t b = 0; b < B; ++b)  // keys = window · attn_w, as the layer keeps them
      for (int64_t l = 0; l < Lw; ++l)
        for (int64_t j = 0; j < N; ++j) {
          float sum = 0;
          for (int64_t k = 0; k < N; ++k)
            sum += initial.window.data<float>()[(b * Lw + l) * N + k] *
                   w.attn_w.data<float>()[k * N + j];
          initial.window_keys.data<float>()[(b * Lw + l) * N + j] = sum;
        }
    const Tensor x = RandomFloat(rng, {B, 1, I});
    const Tensor lengths = Lengths(std::vector<int32_t>(B, 1));
    Tensor single_out({B, 1, N}, DType::kFloat32), general_out({B, 1, N}, DType::kFloat32);
    AttentionLayerState single, general;
    AttentionLayerForward(*ctx, x, lengths, w, Lw, &initial, &single_out, nullptr, &single);
    AttentionLayerActivations act;
    AttentionLayerForward(*ctx, x, lengths, w, Lw, &initial, &general_out, &act, &general);
    EXPECT_TRUE(BitwiseEqual(single_out, general_out)) << "outputs";
    EXPECT_TRUE(BitwiseEqual(single.c, general.c)) << "c";
    EXPECT_TRUE(BitwiseEqual(single.h, general.h)) << "h";
    EXPECT_TRUE(BitwiseEqual(single.attns, general.attns)) << "attns";
    EXPECT_TRUE(BitwiseEqual(single.window, general.window)) << "window";
    EXPECT_TRUE(BitwiseEqual(single.window_keys, general.window_keys)) << "window keys";
    // The window moved by one entry: its first slot is the initial second one.
    EXPECT_EQ(single.window.data<float>()[0], initial.window.data<float>()[N]);
  }
}

// Loss Σ outputs ⊙ R of the double reference.
double ReferenceLoss(const LayerShape& s, const Tensor& x, const AttentionLayerWeights& w,
                     const AttentionLayerState* initial, const Tensor& r) {
  Tensor outputs({s.B, s.T, s.N}, DType::kFloat64);
  reference::AttentionLayerForward<double>(x, Lengths(s.lengths), w, s.Lw, initial, &outputs,
                                           nullptr);
  double loss = 0.0;
  for (int64_t i = 0; i < outputs.numel(); ++i)
    loss += outputs.data<double>()[i] * r.data<double>()[i];
  return loss;
}

TEST(AttentionLayerTest, ReferenceBackwardMatchesFiniteDifferences) {
  // Tiny configuration: two ragged sequences, a window shorter than the longer one (so
  // entries leave the window), every weight and every input element perturbed; once from
  // the zero state and once from a random state (the initial window's keys depend on attn_w).
  const LayerShape s{2, 4, 3, 3, 2, {4, 3}};
  for (bool with_initial : {false, true}) {
    const uint32_t seed = with_initial ? 62 : 61;
    std::mt19937 rng(seed);
    AttentionLayerWeights w = MapWeights(RandomWeights(rng, s.I, s.N), &ToDouble);
    Tensor x = ToDouble(RandomFloat(rng, {s.B, s.T, s.I}));
    const Tensor r = ToDouble(RandomFloat(rng, {s.B, s.T, s.N}));
    const AttentionLayerState init = StateToDouble(RandomState(rng, s.B, s.N, s.Lw));
    const AttentionLayerState* initial = with_initial ? &init : nullptr;
    AttentionLayerWeights grads = ZerosLikeWeights(w, Device::CPU());
    Tensor d_x({s.B, s.T, s.I}, DType::kFloat64);
    reference::AttentionLayerBackward<double>(x, Lengths(s.lengths), w, s.Lw, initial, r,
                                              &grads, &d_x);
    std::vector<Tensor*> params = Fields(w);
    std::vector<Tensor*> analytic = Fields(grads);
    params.push_back(&x);
    analytic.push_back(&d_x);
    // Central differences, h = 1e-6: truncation and rounding errors ~1e-10 each.
    const double h = 1e-6;
    for (size_t k = 0; k < params.size(); ++k) {
      EXPECT_TRUE(kernel_test::GradientClose(
          *params[k], *analytic[k], [&] { return ReferenceLoss(s, x, w, initial, r); },
          std::string(k < 10 ? kFieldNames[k] : "inputs") +
              ", initial=" + std::to_string(with_initial) + ", seed " + std::to_string(seed),
          h, /*abs_tol=*/1e-8, /*rel_tol=*/1e-6));
    }
  }
}

TEST(AttentionLayerTest, RejectsBadArguments) {
  auto ctx = Context::CreateCpu(1);
  std::mt19937 rng(3);
  const AttentionLayerWeights w = RandomWeights(rng, 4, 5);
  const Tensor x = RandomFloat(rng, {2, 3, 4});
  Tensor outputs({2, 3, 5}, DType::kFloat32);
  EXPECT_THROW(AttentionLayerForward(*ctx, x, Lengths({3, 4}), w, 2, nullptr, &outputs,
                                     nullptr, nullptr),
               Error);  // length beyond T
  EXPECT_THROW(AttentionLayerForward(*ctx, x, Lengths({3, 3}), w, 0, nullptr, &outputs,
                                     nullptr, nullptr),
               Error);  // attn_length 0
  const Tensor wrong_x = RandomFloat(rng, {2, 3, 6});
  EXPECT_THROW(AttentionLayerForward(*ctx, wrong_x, Lengths({3, 3}), w, 2, nullptr, &outputs,
                                     nullptr, nullptr),
               Error);  // input width does not match the kernels
}

TEST(AttentionLayerTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(2);
  auto gpu = Context::CreateCuda(0);
  std::vector<LayerShape> shapes = kShapes;
  shapes.push_back({16, 30, 74, 128, 40, {30, 29, 1, 0, 17, 30, 30, 5, 12, 30, 2, 3, 30, 8, 9, 30}});
  uint32_t seed = 900;
  for (const LayerShape& s : shapes) {
    for (bool with_initial : {false, true}) {
      ++seed;
      SCOPED_TRACE(::testing::Message() << "B=" << s.B << " T=" << s.T << " N=" << s.N
                                        << " seed=" << seed);
      std::mt19937 rng(seed);
      const AttentionLayerWeights w = RandomWeights(rng, s.I, s.N);
      const Tensor x = RandomFloat(rng, {s.B, s.T, s.I});
      const Tensor d_out = RandomFloat(rng, {s.B, s.T, s.N});
      const AttentionLayerState init = RandomState(rng, s.B, s.N, s.Lw);
      const AttentionLayerState* initial = with_initial ? &init : nullptr;
      const LayerRun a = RunFast(*cpu, s, x, w, initial, d_out);
      const LayerRun b = RunFast(*gpu, s, x, w, initial, d_out);
      // Both float32 with different summation orders and transcendental implementations
      // (tanhf/expf against FastTanh/FastExp), each ~4e-7 (scaled) from the double
      // reference on the CPU shapes; the weight gradients sum up to B·T = 480 rows.
      EXPECT_TRUE(RunsClose(b, a, 5e-5, 1e-3, seed));  // abs part scaled by max |CPU value|
    }
  }
}

}  // namespace
}  // namespace melody
