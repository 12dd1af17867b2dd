// Melody input features computed from event ids (kernels/melody_features.h): exact
// equality with the golden vectors computed by the reference (training cases and
// generation-time inputs of every position), with the data/ encoders on random ragged
// batches, error reporting, and CUDA against the CPU.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/context.h"
#include "data/melody_encoder.h"
#include "kernels/melody_features.h"
#include "tests/test_util.h"

namespace melody {
namespace {

enum class Kind { kLookback, kKeyMelody };

int FeatureSize(Kind kind) {
  return kind == Kind::kLookback ? LookbackFeatureSize(48, 84) : KeyMelodyFeatureSize(48, 84);
}

// A padded int batch from event lists (padding value -2, as a padded batch might hold).
struct Batch {
  Tensor events, lengths;
  int64_t T = 0;
};

Batch MakeBatch(const std::vector<std::vector<int>>& sequences,
                const std::vector<int32_t>& lengths) {
  Batch b;
  const int64_t B = static_cast<int64_t>(sequences.size());
  for (const auto& s : sequences) b.T = std::max<int64_t>(b.T, static_cast<int64_t>(s.size()));
  b.events = Tensor({B, b.T}, DType::kInt32);
  b.lengths = Tensor({B}, DType::kInt32);
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t t = 0; t < b.T; ++t)
      b.events.data<int32_t>()[r * b.T + t] = t < static_cast<int64_t>(sequences[r].size())
                                                  ? sequences[r][t]
                                                  : -2;
    b.lengths.data<int32_t>()[r] = lengths[r];
  }
  return b;
}

Tensor Compute(Context& ctx, Kind kind, const Batch& batch) {
  const Device dev = ctx.device();
  Tensor features({batch.events.dim(0), batch.T, FeatureSize(kind)}, DType::kFloat32, dev);
  const Tensor events = batch.events.CopyTo(dev);
  if (kind == Kind::kLookback)
    LookbackFeatures(ctx, events, batch.lengths, 48, 84, &features);
  else
    KeyMelodyFeatures(ctx, events, batch.lengths, 48, 84, &features);
  ctx.Synchronize();
  return features.CopyTo(Device::CPU());
}

// Row (b, t) of the features as a vector.
std::vector<float> Row(const Tensor& f, int64_t b, int64_t t) {
  const int64_t T = f.dim(1), F = f.dim(2);
  const float* p = f.data<float>() + (b * T + t) * F;
  return std::vector<float>(p, p + F);
}

void CheckGolden(Kind kind, const std::string& config) {
  const std::string rel = "golden/encodings/" + config + ".json";
  const nlohmann::json golden = testing::LoadJson(testing::SharedPath(rel));
  ASSERT_EQ(golden["input_size"].get<int>(), FeatureSize(kind));
  // Training cases: positions 0 .. n-2 of the squashed melody; generation cases: every
  // position of the event list. All of them in one ragged batch.
  std::vector<std::vector<int>> sequences;
  std::vector<int32_t> lengths;
  std::vector<const nlohmann::json*> expected;
  for (const auto& c : golden["cases"]) {
    sequences.push_back(c["squashed_events"].get<std::vector<int>>());
    lengths.push_back(c["num_steps"].get<int32_t>());
    expected.push_back(&c["inputs"]);
  }
  for (const auto& g : golden["generation"]) {
    sequences.push_back(g["events"].get<std::vector<int>>());
    lengths.push_back(static_cast<int32_t>(sequences.back().size()));
    expected.push_back(&g["full_length_inputs"]);
  }
  const Batch batch = MakeBatch(sequences, lengths);
  auto ctx = Context::CreateCpu(2);
  const Tensor features = Compute(*ctx, kind, batch);
  int64_t rows = 0;
  for (size_t b = 0; b < sequences.size(); ++b) {
    ASSERT_EQ(static_cast<int64_t>(expected[b]->size()), lengths[b]) << config << " case " << b;
    for (int32_t t = 0; t < lengths[b]; ++t, ++rows)
      ASSERT_EQ(Row(features, b, t), (*expected[b])[t].get<std::vector<float>>())
          << config << " case " << b << " position " << t;
    for (int64_t t = lengths[b]; t < batch.T; ++t)
      ASSERT_EQ(Row(features, b, t), std::vector<float>(FeatureSize(kind), 0.0f))
          << config << " padded row " << b << ", " << t;
  }
  EXPECT_EQ(rows, 2029);  // 1,938 training positions + 91 generation positions per config
}

TEST(MelodyFeaturesTest, LookbackMatchesGoldenVectors) {
  MELODY_REQUIRE_SHARED("golden/encodings/lookback_rnn.json");
  CheckGolden(Kind::kLookback, "lookback_rnn");
}

TEST(MelodyFeaturesTest, KeyMelodyMatchesGoldenVectors) {
  MELODY_REQUIRE_SHARED("golden/encodings/attention_rnn.json");
  CheckGolden(Kind::kKeyMelody, "attention_rnn");
}

// Random melodies over [48, 84) with holds, note offs (leading ones too) and repeats.
std::vector<int> RandomMelody(std::mt19937& rng, int length) {
  std::vector<int> events;
  std::uniform_int_distribution<int> kind(0, 9), pitch(48, 83);
  for (int i = 0; i < length; ++i) {
    const int k = kind(rng);
    if (i >= 16 && k == 0) {
      events.push_back(events[i - 16]);  // bar repeats
    } else if (k < 4) {
      events.push_back(-2);
    } else if (k < 5) {
      events.push_back(-1);
    } else {
      events.push_back(pitch(rng));
    }
  }
  return events;
}

TEST(MelodyFeaturesTest, MatchDataEncodersOnRaggedBatches) {
  auto ctx = Context::CreateCpu(2);
  const auto lookback = MakeLookbackMelodyEncoder(48, 84);
  const auto key = MakeKeyMelodyEncoder(48, 84);
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    std::vector<std::vector<int>> sequences;
    std::vector<int32_t> lengths;
    for (int len : {1, 0, 17, 33, 100, 64}) {
      sequences.push_back(RandomMelody(rng, std::max(len, 1) + 3));  // padding past len
      lengths.push_back(len);
    }
    const Batch batch = MakeBatch(sequences, lengths);
    for (Kind kind : {Kind::kLookback, Kind::kKeyMelody}) {
      const MelodyEncoder& encoder = kind == Kind::kLookback ? *lookback : *key;
      const Tensor features = Compute(*ctx, kind, batch);
      for (size_t b = 0; b < sequences.size(); ++b) {
        std::vector<float> rows(lengths[b] * encoder.input_size());
        encoder.EncodeInputRows(sequences[b], lengths[b], rows.data());
        for (int32_t t = 0; t < lengths[b]; ++t) {
          const std::vector<float> want(rows.begin() + t * encoder.input_size(),
                                        rows.begin() + (t + 1) * encoder.input_size());
          ASSERT_EQ(Row(features, b, t), want)
              << "seed " << seed << " kind " << static_cast<int>(kind) << " sequence " << b
              << " position " << t;
        }
      }
    }
  }
}

TEST(MelodyFeaturesTest, RejectsEventsOutsideTheRange) {
  auto ctx = Context::CreateCpu(1);
  const Batch batch = MakeBatch({{60, -2, 62}, {60, 90, -2}}, {3, 3});
  try {
    Compute(*ctx, Kind::kLookback, batch);
    FAIL() << "expected an error for pitch 90";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence 1, position 1: event 90"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Compute(*ctx, Kind::kKeyMelody, batch), Error);
  // Beyond the length the padding is not read.
  EXPECT_NO_THROW(Compute(*ctx, Kind::kLookback, MakeBatch({{60, -2, 62}, {60, 90, -2}}, {3, 1})));
  const Batch bad_event = MakeBatch({{60, -7}}, {2});
  EXPECT_THROW(Compute(*ctx, Kind::kKeyMelody, bad_event), Error);
}

TEST(MelodyFeaturesTest, CudaMatchesCpu) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << CudaUnavailableReason();
  auto cpu = Context::CreateCpu(2);
  auto gpu = Context::CreateCuda(0);
  std::mt19937 rng(9);
  std::vector<std::vector<int>> sequences;
  std::vector<int32_t> lengths;
  for (int len : {1, 0, 17, 33, 511, 200, 64, 2}) {
    sequences.push_back(RandomMelody(rng, std::max(len, 1) + 5));
    lengths.push_back(len);
  }
  const Batch batch = MakeBatch(sequences, lengths);
  for (Kind kind : {Kind::kLookback, Kind::kKeyMelody}) {
    const Tensor a = Compute(*cpu, kind, batch);
    const Tensor b = Compute(*gpu, kind, batch);
    ASSERT_EQ(a.ToVector(), b.ToVector()) << "kind " << static_cast<int>(kind);  // exact
  }
  const Batch bad = MakeBatch({{60, -2, 62}, {60, 90, -2}}, {3, 3});
  EXPECT_THROW(Compute(*gpu, Kind::kKeyMelody, bad), Error);
  EXPECT_THROW(Compute(*gpu, Kind::kLookback, bad), Error);
}

}  // namespace
}  // namespace melody
