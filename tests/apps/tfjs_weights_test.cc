// TF.js weight files (apps/lib/tfjs_weights.h, tfjs_quantization.h): binary16 conversion
// against hand-computed IEEE vectors and an exhaustive round trip, the converter's uint8
// range on the converter's own documented example, manifest/shard layout (names, 4 MiB
// shards, tensors split across shards), quantized round trips within one step, the real
// converted checkpoint in shared/data/compat/tfjs_attention_rnn_128x128, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "apps/lib/tfjs_quantization.h"
#include "apps/lib/tfjs_weights.h"
#include "core/error.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

constexpr const char* kCompat = "data/compat/tfjs_attention_rnn_128x128";

float FromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Tensor RandomTensor(Shape shape, uint32_t seed, float scale = 0.3f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> values(static_cast<size_t>(ShapeNumel(shape)));
  for (float& v : values) v = dist(rng);
  return Tensor::FromVector(shape, values);
}

// Decodes files produced by SerializeTfjsWeights, as ReadTfjsWeights would.
TensorMap Decode(const TfjsWeightsFiles& files) {
  std::map<std::string, std::string> shards(files.shards.begin(), files.shards.end());
  return DecodeTfjsWeights(
      files.manifest,
      [&](const std::string& path) {
        auto it = shards.find(path);
        MELODY_REQUIRE(it != shards.end()) << "no shard " << path;
        return it->second;
      },
      "test manifest");
}

TEST(TfjsHalf, HandComputedVectors) {
  EXPECT_EQ(FloatToHalfBits(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalfBits(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalfBits(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalfBits(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalfBits(0.1f), 0x2e66);        // 0.0999755859375
  EXPECT_EQ(FloatToHalfBits(1.0f / 3.0f), 0x3555);  // 0.333251953125
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7bff);     // largest finite half
  EXPECT_EQ(FloatToHalfBits(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalfBits(65520.0f), 0x7c00);  // the tie rounds to even = overflow
  EXPECT_EQ(FloatToHalfBits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
  EXPECT_EQ(FloatToHalfBits(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 units: tie -> even (2)
  EXPECT_EQ(FloatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);       // tie -> even
  EXPECT_EQ(FloatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);   // tie -> even
  EXPECT_EQ(FloatToHalfBits(FromBits(0x3f801001u)), 0x3c01);  // just above the tie
  EXPECT_EQ(FloatToHalfBits(2047.5f), 0x6800);  // mantissa carry into the exponent (2048)
  const uint16_t nan = FloatToHalfBits(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  EXPECT_EQ(HalfBitsToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfBitsToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfBitsToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfBitsToFloat(0xfc00), -std::numeric_limits<float>::infinity());
}

TEST(TfjsHalf, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfBitsToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalfBits(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(TfjsHalf, RoundingErrorWithinHalfAnUlp) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-30.0f, 15.9f);
  for (int i = 0; i < 200000; ++i) {
    const float x = std::exp2(exponent(rng)) * ((i & 1) ? -1.0f : 1.0f);
    const float y = HalfBitsToFloat(FloatToHalfBits(x));
    // Half spacing at |x|: 2^(e - 10) for normals, 2^-24 for subnormals.
    const float spacing = std::ldexp(1.0f, std::max(std::ilogb(x), -14) - 10);
    ASSERT_LE(std::fabs(x - y), spacing / 2) << "x=" << x;
  }
}

// The example in the TF.js converter's write_weights docstring: [0, -0.1, 1.2] ->
// levels [20, 0, 255], min -0.10196078817, scale 0.00509803940852.
TEST(TfjsUint8, ConverterDocumentedExample) {
  const float values[] = {0.0f, -0.1f, 1.2f};
  const AffineQuantization q = AffineQuantizationRange(values, 3, 255);
  EXPECT_NEAR(q.min, -0.10196078817, 1e-10);
  EXPECT_NEAR(q.scale, 0.00509803940852, 1e-12);
  const std::vector<uint8_t> levels = QuantizeUint8(values, 3, q);
  EXPECT_EQ(levels, (std::vector<uint8_t>{20, 0, 255}));
  EXPECT_EQ(DequantizeAffine(20, q), 0.0f);  // zero is exact after the nudge
}

TEST(TfjsUint8, ConstantAndOneSidedRanges) {
  const float constant[] = {0.25f, 0.25f};
  AffineQuantization q = AffineQuantizationRange(constant, 2, 255);
  EXPECT_EQ(q.min, 0.25);
  EXPECT_EQ(q.scale, 1.0);
  EXPECT_EQ(QuantizeUint8(constant, 2, q), (std::vector<uint8_t>{0, 0}));
  const float positive[] = {1.0f, 2.0f, 3.55f};  // 0 not covered: no nudge
  q = AffineQuantizationRange(positive, 3, 255);
  EXPECT_EQ(q.min, 1.0);
  EXPECT_DOUBLE_EQ(q.scale, (static_cast<double>(3.55f) - 1.0) / 255);
  EXPECT_EQ(QuantizeUint8(positive, 3, q), (std::vector<uint8_t>{0, 100, 255}));
}

TEST(TfjsWeights, ManifestLayoutAndShards) {
  TensorMap tensors;
  tensors["b/bias"] = RandomTensor({10}, 1);     // 40 bytes
  tensors["a/kernel"] = RandomTensor({7, 5}, 2);  // 140 bytes, first in name order
  const TfjsWeightsFiles files = SerializeTfjsWeights(tensors, TfjsQuantization::kNone, 64);
  ASSERT_EQ(files.shards.size(), 3u);  // 180 bytes in 64-byte shards
  EXPECT_EQ(files.shards[0].first, "group1-shard1of3.bin");
  EXPECT_EQ(files.shards[2].first, "group1-shard3of3.bin");
  EXPECT_EQ(files.shards[0].second.size(), 64u);
  EXPECT_EQ(files.shards[2].second.size(), 52u);
  // Bytes: a/kernel's floats, then b/bias's, little-endian, no padding.
  std::string all;
  for (const auto& [name, bytes] : files.shards) all += bytes;
  EXPECT_EQ(std::memcmp(all.data(), tensors["a/kernel"].raw_data(), 140), 0);
  EXPECT_EQ(std::memcmp(all.data() + 140, tensors["b/bias"].raw_data(), 40), 0);
  const nlohmann::json manifest = nlohmann::json::parse(files.manifest);
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_EQ(manifest[0]["paths"].size(), 3u);
  EXPECT_EQ(manifest[0]["weights"][0]["name"], "a/kernel");
  EXPECT_EQ(manifest[0]["weights"][0]["shape"], nlohmann::json::array({7, 5}));
  EXPECT_EQ(manifest[0]["weights"][0]["dtype"], "float32");
  EXPECT_FALSE(manifest[0]["weights"][0].contains("quantization"));

  const TensorMap back = Decode(files);
  ASSERT_EQ(back.size(), 2u);
  for (const auto& [name, t] : tensors) {
    ASSERT_EQ(back.at(name).shape(), t.shape());
    EXPECT_EQ(std::memcmp(back.at(name).raw_data(), t.raw_data(), t.nbytes()), 0) << name;
  }
}

TEST(TfjsWeights, DefaultShardIsFourMiB) {
  TensorMap tensors;
  tensors["big"] = Tensor::Zeros({1100000}, DType::kFloat32);  // 4.4 MB
  const TfjsWeightsFiles files = SerializeTfjsWeights(tensors, TfjsQuantization::kNone);
  ASSERT_EQ(files.shards.size(), 2u);
  EXPECT_EQ(files.shards[0].first, "group1-shard1of2.bin");
  EXPECT_EQ(files.shards[0].second.size(), 4194304u);
  EXPECT_EQ(files.shards[1].second.size(), 4400000u - 4194304u);
}

TEST(TfjsWeights, QuantizedRoundTripsWithinOneStep) {
  TensorMap tensors;
  tensors["w"] = RandomTensor({300, 7}, 3, 0.5f);
  tensors["v"] = RandomTensor({64}, 4, 2.0f);
  tensors["c"] = Tensor::FromVector({3}, {0.5f, 0.5f, 0.5f});
  {
    const TfjsWeightsFiles files = SerializeTfjsWeights(tensors, TfjsQuantization::kFloat16);
    const nlohmann::json w = nlohmann::json::parse(files.manifest)[0]["weights"];
    EXPECT_EQ(w[0]["quantization"]["dtype"], "float16");
    EXPECT_EQ(w[0]["quantization"]["original_dtype"], "float32");
    EXPECT_EQ(files.shards[0].second.size(), (3 + 64 + 2100) * 2u);
    const TensorMap back = Decode(files);
    for (const auto& [name, t] : tensors) {
      const std::vector<float> a = t.ToVector(), b = back.at(name).ToVector();
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_LE(std::fabs(a[i] - b[i]), std::fabs(a[i]) * std::ldexp(1.0f, -11) + 1e-8f)
            << name << "[" << i << "]";
    }
  }
  {
    const TfjsWeightsFiles files = SerializeTfjsWeights(tensors, TfjsQuantization::kUint8);
    const nlohmann::json w = nlohmann::json::parse(files.manifest)[0]["weights"];
    EXPECT_EQ(files.shards[0].second.size(), 3 + 64 + 2100u);
    const TensorMap back = Decode(files);
    for (size_t k = 0; k < w.size(); ++k) {
      const std::string name = w[k]["name"];
      ASSERT_EQ(w[k]["quantization"]["dtype"], "uint8");
      const double scale = w[k]["quantization"]["scale"];
      const std::vector<float> a = tensors.at(name).ToVector(), b = back.at(name).ToVector();
      double max_diff = 0;
      for (size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
      EXPECT_LE(max_diff, scale / 2 + 1e-6) << name;
    }
    EXPECT_EQ(back.at("c").ToVector(), tensors.at("c").ToVector());  // a constant is exact
  }
}

TEST(TfjsWeights, RefusesValuesTheEncodingCannotHold) {
  TensorMap tensors;
  tensors["x"] = Tensor::FromVector({2}, {1.0f, 70000.0f});
  EXPECT_THROW(SerializeTfjsWeights(tensors, TfjsQuantization::kFloat16), Error);
  tensors["x"] = Tensor::FromVector({2}, {1.0f, std::numeric_limits<float>::quiet_NaN()});
  EXPECT_THROW(SerializeTfjsWeights(tensors, TfjsQuantization::kUint8), Error);
  EXPECT_THROW(ParseTfjsQuantization("int8"), Error);
}

std::string ErrorOf(const std::string& manifest, const std::string& shard) {
  try {
    DecodeTfjsWeights(manifest, [&](const std::string&) { return shard; }, "m.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TfjsWeights, BadManifestsNameWhatIsWrong) {
  const std::string four(4, '\0');
  EXPECT_NE(ErrorOf("{", four).find("m.json: not valid JSON"), std::string::npos);
  EXPECT_NE(ErrorOf("{}", four).find("JSON array"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"paths": ["s"]}])", four).find("missing \"weights\""), std::string::npos);
  const std::string two = R"([{"paths": ["s"], "weights": [{"name": "a", "shape": [2], "dtype": "float32"}]}])";
  EXPECT_NE(ErrorOf(two, four).find("weight a: the shards end at byte 4"), std::string::npos);
  const std::string dup = R"([{"paths": ["s"], "weights": [{"name": "a", "shape": [], "dtype": "float32"},
                                                           {"name": "a", "shape": [], "dtype": "float32"}]}])";
  EXPECT_NE(ErrorOf(dup, std::string(8, '\0')).find("appears twice"), std::string::npos);
  const std::string str = R"([{"paths": ["s"], "weights": [{"name": "a", "shape": [1], "dtype": "string"}]}])";
  EXPECT_NE(ErrorOf(str, four).find("dtype 'string' is not supported"), std::string::npos);
  const std::string q = R"([{"paths": ["s"], "weights": [{"name": "a", "shape": [1], "dtype": "float32",
                             "quantization": {"dtype": "uint8"}}]}])";
  EXPECT_NE(ErrorOf(q, four).find("missing \"min\""), std::string::npos);
  const std::string dir = testing::MakeTempDir("tfjs_weights_missing_");
  WriteFileAtomically(JoinPath(dir, kTfjsManifestFile), two);
  try {
    ReadTfjsWeights(dir);
    ADD_FAILURE() << "a missing shard must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(JoinPath(dir, "s")), std::string::npos) << e.what();
  }
  EXPECT_THROW(ReadTfjsWeights(JoinPath(dir, "nowhere")), Error);
}

// Uint16-quantized weights (TF.js defines them; the converter writes them with
// --quantize_uint16) are read too: levels 0 and 65535 give min and min + 65535 * scale.
TEST(TfjsWeights, ReadsUint16Quantization) {
  const std::string manifest = R"([{"paths": ["s"], "weights": [{"name": "a", "shape": [2], "dtype": "float32",
      "quantization": {"dtype": "uint16", "min": -1.0, "scale": 0.5}}]}])";
  const std::string shard("\x00\x00\x03\x00", 4);
  const TensorMap t = DecodeTfjsWeights(manifest, [&](const std::string&) { return shard; }, "m");
  EXPECT_EQ(t.at("a").ToVector(), (std::vector<float>{-1.0f, 0.5f}));
}

// The real converted attention_rnn checkpoint (formats.md §11, compat README §6).
TEST(TfjsWeights, ReadsTheCompatCheckpoint) {
  MELODY_REQUIRE_SHARED(kCompat);
  const TensorMap t = ReadTfjsWeights(testing::SharedPath(kCompat));
  EXPECT_EQ(t.size(), 42u);
  int64_t floats = 0;
  for (const auto& [name, tensor] : t) floats += tensor.numel();
  EXPECT_EQ(floats, 1014018);  // = the shard's 4,056,072 bytes / 4
  const std::string cell0 = "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/";
  const std::map<std::string, Shape> expected = {
      {"fully_connected/weights", {128, 40}},
      {"fully_connected/biases", {40}},
      {cell0 + "kernel", {202, 74}},
      {cell0 + "bias", {74}},
      {cell0 + "basic_lstm_cell/kernel", {202, 512}},
      {cell0 + "basic_lstm_cell/bias", {512}},
      {cell0 + "attention/kernel", {256, 128}},
      {cell0 + "attention/attn_w", {1, 1, 128, 128}},
      {cell0 + "attention/attn_v", {128}},
      {cell0 + "attn_output_projection/kernel", {256, 128}},
      {"rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel", {256, 512}},
      {"fully_connected/weights/Adam_1", {128, 40}}};
  for (const auto& [name, shape] : expected) {
    ASSERT_TRUE(t.count(name)) << name;
    EXPECT_EQ(t.at(name).shape(), shape) << name;
  }
  for (float v : t.at("fully_connected/weights").ToVector()) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace melody
