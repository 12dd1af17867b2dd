// Batched beam search (shared/spec/generation.md §6-§7) on small random models: sampling
// follows numpy's inverse-CDF rule; every output's result is independent of what else is
// in the batch and of the thread count; the score carried through the incremental, state-
// gathering search equals the teacher-forced log-likelihood of the returned melody (so the
// carried and gathered states are right); and the search equals a plain, unbatched
// implementation of the reference's algorithm that recomputes every prefix from scratch.
#include "apps/lib/generate_beam_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/device.h"
#include "core/error.h"
#include "data/melody_config.h"
#include "models/melody_log_likelihood.h"
#include "models/melody_rnn_generate.h"

namespace melody {
namespace {

struct TinyModel {
  std::unique_ptr<MelodyEncoder> encoder;
  ModelLayout layout;
  Parameters params;
};

TinyModel MakeModel(MelodyEncoderKind kind, int attn_length, uint64_t seed) {
  MelodyConfig mc;
  mc.encoder = kind;
  TinyModel m;
  m.encoder = mc.MakeEncoder();
  ModelShape shape;
  shape.input_size = m.encoder->input_size();
  shape.num_classes = m.encoder->num_classes();
  shape.layer_sizes = {12, 10};
  shape.attn_length = attn_length;
  m.layout = ModelLayout::Build(shape);
  m.params = Parameters(m.layout);
  m.params.InitializeRandom(seed);
  // Larger weights than Glorot's give peaked, varied distributions (a sharper test).
  for (size_t i = 0; i < m.params.size(); ++i) {
    float* v = m.params.at(i).data<float>();
    for (int64_t e = 0; e < m.params.at(i).numel(); ++e) v[e] *= 3.0f;
  }
  return m;
}

std::vector<GenerationJob> Jobs() {
  return {{{60 - 12, -2, 62 - 12}, 20, 0}, {{60}, 13, 1}, {{64, -1, -2, 67, 67}, 17, 2}, {{60}, 20, 3}};
}

TEST(SampleTest, InverseCdf) {
  const float p[4] = {0.25f, 0.0f, 0.5f, 0.25f};
  EXPECT_EQ(SampleFromDistribution(p, 4, 0.0), 0);
  EXPECT_EQ(SampleFromDistribution(p, 4, 0.2499), 0);
  EXPECT_EQ(SampleFromDistribution(p, 4, 0.25), 2);  // cdf[i] > u, and cdf[1] == 0.25
  EXPECT_EQ(SampleFromDistribution(p, 4, 0.75), 3);
  EXPECT_EQ(SampleFromDistribution(p, 4, 0.9999999), 3);
  const float nan[2] = {NAN, 1.0f};
  EXPECT_THROW(SampleFromDistribution(nan, 2, 0.5), Error);
  const float off[2] = {0.5f, 0.6f};
  EXPECT_THROW(SampleFromDistribution(off, 2, 0.5), Error);
}

TEST(SampleTest, UniformDoublesAreSpreadAndDeterministic) {
  double sum = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    const double u = PhiloxUniformDouble(7, i, 3, 1);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.01);
  EXPECT_EQ(PhiloxUniformDouble(7, 1, 2, 3), PhiloxUniformDouble(7, 1, 2, 3));
  EXPECT_NE(PhiloxUniformDouble(7, 1, 2, 3), PhiloxUniformDouble(8, 1, 2, 3));
}

struct SearchCase {
  MelodyEncoderKind kind;
  int attn_length;
  int beam, branch, steps_per_iteration;
};

class BeamSearchTest : public ::testing::TestWithParam<SearchCase> {};

TEST_P(BeamSearchTest, BatchingAndThreadsDoNotChangeResults) {
  const SearchCase c = GetParam();
  TinyModel m = MakeModel(c.kind, c.attn_length, 11);
  BeamSearchOptions o;
  o.beam_size = c.beam;
  o.branch_factor = c.branch;
  o.steps_per_iteration = c.steps_per_iteration;
  o.temperature = 0.9f;
  o.seed = 42;
  auto ctx1 = Context::CreateCpu(1);
  auto ctx2 = Context::CreateCpu(2);
  const auto jobs = Jobs();
  const auto together = GenerateWithBeamSearch(*ctx2, m.layout, m.params, *m.encoder, jobs, o);
  ASSERT_EQ(together.size(), jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto alone = GenerateWithBeamSearch(*ctx1, m.layout, m.params, *m.encoder, {jobs[j]}, o);
    EXPECT_EQ(alone[0].events, together[j].events) << j;
    // Scores are float32 sums (the reference's), and a different batch changes OpenBLAS's
    // GEMM blocking, so each step's increment and its rounding into the score may differ in
    // the last bit: allow two ulps of the score per generated step (measured on an AMD EPYC,
    // where OpenBLAS runs its Cooper Lake kernels: 1.07e-4, 14 ulps, over 20 steps at -64.3;
    // the bound there is 3.1e-4).
    const float score = std::abs(alone[0].log_likelihood);
    const double ulp = std::nextafter(score, INFINITY) - score;
    EXPECT_NEAR(alone[0].log_likelihood, together[j].log_likelihood,
                2.0 * static_cast<double>(jobs[j].new_events) * ulp)
        << j;
    EXPECT_EQ(together[j].events.size(), jobs[j].primer.size() + jobs[j].new_events);
  }
  o.seed = 43;
  const auto other = GenerateWithBeamSearch(*ctx1, m.layout, m.params, *m.encoder, jobs, o);
  int differing = 0;
  for (size_t j = 0; j < jobs.size(); ++j) differing += other[j].events != together[j].events;
  EXPECT_GT(differing, 0);
}

// The beam score sums log p of the sampled classes. Several classes can stand for the same
// event (lookback classes), so from the events alone the score lies between the sums of the
// least and the most likely class giving each event, both computed teacher-forced from a
// zero state over the whole melody; for one-hot encoders the two sums are equal.
TEST_P(BeamSearchTest, ScoreIsTheTeacherForcedLogLikelihood) {
  const SearchCase c = GetParam();
  TinyModel m = MakeModel(c.kind, c.attn_length, 5);
  BeamSearchOptions o;
  o.beam_size = c.beam;
  o.branch_factor = c.branch;
  o.steps_per_iteration = c.steps_per_iteration;
  o.seed = 9;
  auto ctx = Context::CreateCpu(2);
  const auto jobs = Jobs();
  const auto out = GenerateWithBeamSearch(*ctx, m.layout, m.params, *m.encoder, jobs, o);
  const int C = m.encoder->num_classes(), I = m.encoder->input_size();
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::vector<int>& ev = out[j].events;
    const int64_t L = static_cast<int64_t>(ev.size());
    auto state = ZeroGenerateState(*ctx, m.layout, 1);
    const Tensor probs = GenerateForward(*ctx, m.layout, m.params,
                                         Tensor::FromVector({1, L, I}, m.encoder->InputsForAllPositions(ev)),
                                         1.0f, &state);
    double low = 0, high = 0;
    const int64_t P = static_cast<int64_t>(jobs[j].primer.size());
    for (int64_t pos = 1; pos < L; ++pos) {
      const float* p = probs.data<float>() + (pos - 1) * C;
      if (pos < P) {  // primer events are scored by their label
        low += std::log(p[m.encoder->Label(ev, pos)]);
        high += std::log(p[m.encoder->Label(ev, pos)]);
        continue;
      }
      const std::vector<int> prefix(ev.begin(), ev.begin() + pos);
      double lo = 0, hi = -INFINITY;
      lo = INFINITY;
      for (int k = 0; k < C; ++k) {
        if (m.encoder->ClassToEvent(k, prefix) != ev[pos]) continue;
        lo = std::min(lo, static_cast<double>(std::log(p[k])));
        hi = std::max(hi, static_cast<double>(std::log(p[k])));
      }
      ASSERT_TRUE(std::isfinite(hi)) << "no class gives event " << ev[pos];
      low += lo;
      high += hi;
    }
    EXPECT_GE(out[j].log_likelihood, low - 1e-3) << j;
    EXPECT_LE(out[j].log_likelihood, high + 1e-3) << j;
    if (c.kind == MelodyEncoderKind::kOneHot) {
      EXPECT_NEAR(low, high, 1e-9);
    }
  }
}

// The reference's beam search (§7) written plainly: one candidate at a time, every step
// recomputing the whole prefix from a zero state, with the same random-number keys.
GeneratedEvents PlainBeamSearch(Context& ctx, const TinyModel& m, const GenerationJob& job,
                                const BeamSearchOptions& o) {
  struct Entry {
    std::vector<int> events;
    float score;
  };
  const int C = m.encoder->num_classes();
  auto step = [&](std::vector<Entry>* entries, int64_t t) {
    for (size_t s = 0; s < entries->size(); ++s) {
      Entry& e = (*entries)[s];
      const std::vector<float> in = m.encoder->InputsForAllPositions(e.events);
      const int64_t L = static_cast<int64_t>(e.events.size());
      Tensor inputs = Tensor::FromVector({1, L, m.encoder->input_size()}, in);
      auto state = ZeroGenerateState(ctx, m.layout, 1);
      const Tensor probs = GenerateForward(ctx, m.layout, m.params, inputs, o.temperature, &state);
      const float* p = probs.data<float>();
      double primer_term = 0;
      if (t == 0)
        for (int64_t pos = 1; pos < L; ++pos)
          primer_term += std::log(p[(pos - 1) * C + m.encoder->Label(e.events, pos)]);
      const float* last = p + (L - 1) * C;
      const int c = SampleFromDistribution(
          last, C, PhiloxUniformDouble(o.seed, static_cast<uint32_t>(job.output_index),
                                       static_cast<uint32_t>(t), static_cast<uint32_t>(s)));
      e.events.push_back(m.encoder->ClassToEvent(c, e.events));
      e.score = static_cast<float>(static_cast<double>(e.score) + primer_term +
                                   static_cast<double>(std::log(last[c])));
    }
  };
  auto prune = [](std::vector<Entry> entries, int k) {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.score > b.score; });
    entries.resize(std::min<size_t>(k, entries.size()));
    return entries;
  };
  auto branch = [&](std::vector<Entry> entries, int64_t steps, int64_t* t) {
    std::vector<Entry> candidates;
    for (int f = 0; f < o.branch_factor; ++f)
      candidates.insert(candidates.end(), entries.begin(), entries.end());
    for (int64_t i = 0; i < steps; ++i) step(&candidates, (*t)++);
    return candidates;
  };
  const int64_t n = o.steps_per_iteration;
  const int64_t first = (job.new_events - 1) % n + 1;
  int64_t t = 0;
  std::vector<Entry> beam(o.beam_size, Entry{job.primer, 0.0f});
  beam = branch(beam, first, &t);
  for (int64_t i = 0; i < (job.new_events - first) / n; ++i) beam = branch(prune(beam, o.beam_size), n, &t);
  const Entry best = prune(beam, 1)[0];
  return {best.events, best.score};
}

TEST_P(BeamSearchTest, EqualsThePlainAlgorithm) {
  const SearchCase c = GetParam();
  TinyModel m = MakeModel(c.kind, c.attn_length, 3);
  BeamSearchOptions o;
  o.beam_size = c.beam;
  o.branch_factor = c.branch;
  o.steps_per_iteration = c.steps_per_iteration;
  o.temperature = 1.3f;
  o.seed = 77;
  auto ctx = Context::CreateCpu(1);
  const auto jobs = Jobs();
  const auto batched = GenerateWithBeamSearch(*ctx, m.layout, m.params, *m.encoder, jobs, o);
  for (size_t j = 0; j < jobs.size(); ++j) {
    const GeneratedEvents plain = PlainBeamSearch(*ctx, m, jobs[j], o);
    EXPECT_EQ(plain.events, batched[j].events) << j;
    EXPECT_NEAR(plain.log_likelihood, batched[j].log_likelihood, 1e-3) << j;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, BeamSearchTest,
    ::testing::Values(SearchCase{MelodyEncoderKind::kOneHot, 0, 1, 1, 1},
                      SearchCase{MelodyEncoderKind::kOneHot, 0, 3, 2, 1},
                      SearchCase{MelodyEncoderKind::kLookback, 0, 2, 3, 4},
                      SearchCase{MelodyEncoderKind::kKeyMelody, 4, 1, 1, 1},
                      SearchCase{MelodyEncoderKind::kKeyMelody, 4, 4, 2, 3}));

// The whole batched search on the GPU gives the CPU's melodies (the probabilities agree to
// float rounding, far below the chance of moving a sampled bin).
TEST(BeamSearchTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device: " << CudaUnavailableReason();
  for (const SearchCase& c : {SearchCase{MelodyEncoderKind::kOneHot, 0, 3, 2, 2},
                              SearchCase{MelodyEncoderKind::kKeyMelody, 4, 2, 2, 1}}) {
    TinyModel m = MakeModel(c.kind, c.attn_length, 21);
    BeamSearchOptions o;
    o.beam_size = c.beam;
    o.branch_factor = c.branch;
    o.steps_per_iteration = c.steps_per_iteration;
    o.seed = 5;
    auto cpu = Context::CreateCpu(2);
    auto gpu = Context::CreateCuda(0);
    const Parameters on_gpu = m.params.CopyTo(*gpu);
    const auto a = GenerateWithBeamSearch(*cpu, m.layout, m.params, *m.encoder, Jobs(), o);
    const auto b = GenerateWithBeamSearch(*gpu, m.layout, on_gpu, *m.encoder, Jobs(), o);
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].events, b[j].events) << j;
      EXPECT_NEAR(a[j].log_likelihood, b[j].log_likelihood, 1e-3) << j;
    }
  }
}

TEST(BeamSearchTest, RejectsBadOptions) {
  TinyModel m = MakeModel(MelodyEncoderKind::kOneHot, 0, 1);
  auto ctx = Context::CreateCpu(1);
  for (int bad = 0; bad < 4; ++bad) {
    BeamSearchOptions o;
    if (bad == 0) o.temperature = 0;
    if (bad == 1) o.beam_size = 0;
    if (bad == 2) o.branch_factor = 0;
    if (bad == 3) o.steps_per_iteration = 0;
    EXPECT_THROW(GenerateWithBeamSearch(*ctx, m.layout, m.params, *m.encoder, Jobs(), o), Error) << bad;
  }
  BeamSearchOptions o;
  EXPECT_THROW(GenerateWithBeamSearch(*ctx, m.layout, m.params, *m.encoder, {{{}, 3, 0}}, o), Error);
  EXPECT_THROW(GenerateWithBeamSearch(*ctx, m.layout, m.params, *m.encoder, {{{60}, 0, 0}}, o), Error);
}

}  // namespace
}  // namespace melody
