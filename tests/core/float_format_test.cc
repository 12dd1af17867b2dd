// NumpyFloat32Str against str(numpy.float32(x)) as numpy 1.23.5 printed it
// (tests/fixtures/float_format/numpy_float32_str.json, made by
// tests/reference/make_float_format_fixture.py), plus the console-line examples of
// training.md §4.2 and a read-back property over many more bit patterns.
#include "core/float_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "tests/test_util.h"

namespace melody {
namespace {

float FromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(NumpyFloat32Str, ExamplesFromTheSpecAndNumpysDocumentedRules) {
  EXPECT_EQ(NumpyFloat32Str(1.0f), "1.0");
  EXPECT_EQ(NumpyFloat32Str(0.5703125f), "0.5703125");
  EXPECT_EQ(NumpyFloat32Str(1.4234589f), "1.4234589");
  EXPECT_EQ(NumpyFloat32Str(4.151f), "4.151");
  EXPECT_EQ(NumpyFloat32Str(0.1f), "0.1");
  EXPECT_EQ(NumpyFloat32Str(1.0f / 3.0f), "0.33333334");
  EXPECT_EQ(NumpyFloat32Str(100.0f), "100.0");
  EXPECT_EQ(NumpyFloat32Str(123456789.0f), "123456790.0");  // shortest digits, zero-padded
  EXPECT_EQ(NumpyFloat32Str(1e15f), "1000000000000000.0");
  EXPECT_EQ(NumpyFloat32Str(1e16f), "1e+16");
  EXPECT_EQ(NumpyFloat32Str(1e-4f), "1e-04");  // float32(1e-4) < 1e-4
  EXPECT_EQ(NumpyFloat32Str(std::nextafter(1e-4f, 1.0f)), "0.000100000005");
  EXPECT_EQ(NumpyFloat32Str(-1.5e-5f), "-1.5e-05");
  EXPECT_EQ(NumpyFloat32Str(0.0f), "0.0");
  EXPECT_EQ(NumpyFloat32Str(-0.0f), "-0.0");
  EXPECT_EQ(NumpyFloat32Str(std::nanf("")), "nan");
  EXPECT_EQ(NumpyFloat32Str(-std::nanf("")), "nan");
  EXPECT_EQ(NumpyFloat32Str(INFINITY), "inf");
  EXPECT_EQ(NumpyFloat32Str(-INFINITY), "-inf");
  EXPECT_EQ(NumpyFloat32Str(FromBits(0x7f7fffff)), "3.4028235e+38");
  EXPECT_EQ(NumpyFloat32Str(FromBits(0x00000001)), "1e-45");
}

TEST(NumpyFloat32Str, MatchesNumpyOnTheFixture) {
  const std::string path = testing::SourcePath("tests/fixtures/float_format/numpy_float32_str.json");
  nlohmann::json fixture = testing::LoadJson(path);
  const auto& cases = fixture.at("cases");
  ASSERT_GE(cases.size(), 4000u) << path;
  int mismatches = 0;
  for (const auto& row : cases) {
    const std::string hex = row.at(0).get<std::string>();
    const std::string expected = row.at(1).get<std::string>();
    const uint32_t bits = static_cast<uint32_t>(std::strtoul(hex.c_str(), nullptr, 16));
    const std::string got = NumpyFloat32Str(FromBits(bits));
    if (got != expected && ++mismatches <= 20)
      ADD_FAILURE() << hex << ": numpy " << fixture.value("numpy_version", "?") << " \""
                    << expected << "\", ours \"" << got << "\"";
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " cases";
}

// Independent of numpy: what we print reads back as the same float32, and its digits are
// those of libstdc++'s shortest round-trip std::to_chars (same reading rule, nearest of the
// shortest candidates). A scratch run over every 97th positive float (22 million) found no
// difference either.
TEST(NumpyFloat32Str, ReadsBackExactlyWithToCharsShortestDigits) {
  std::mt19937 rng(1234);  // fixed seed
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t bits = static_cast<uint32_t>(rng());
    const float value = FromBits(bits);
    if (!std::isfinite(value) || value == 0.0f) continue;
    const std::string text = NumpyFloat32Str(value);
    const float back = std::strtof(text.c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&back, &value, 4), 0) << std::hex << bits << " printed " << text;

    char buf[64];
    auto result = std::to_chars(buf, buf + sizeof buf, std::fabs(value),
                                std::chars_format::scientific);
    const std::string shortest(buf, result.ptr);  // "d.ddde+xx" or "de-xx"
    const size_t e_at = shortest.find('e');
    std::string expected_digits;
    for (size_t k = 0; k < e_at; ++k)
      if (shortest[k] != '.') expected_digits.push_back(shortest[k]);
    std::string digits;
    int exponent;
    ShortestFloat32Digits(value, &digits, &exponent);
    ASSERT_EQ(digits, expected_digits) << std::hex << bits << " " << shortest;
    ASSERT_EQ(exponent, std::stoi(shortest.substr(e_at + 1))) << std::hex << bits << " " << shortest;
    ++checked;
  }
  EXPECT_GT(checked, 190000);
}

TEST(ShortestFloat32Digits, DigitsAndExponent) {
  std::string digits;
  int exponent;
  ShortestFloat32Digits(123456789.0f, &digits, &exponent);
  EXPECT_EQ(digits, "12345679");
  EXPECT_EQ(exponent, 8);
  ShortestFloat32Digits(-0.00123f, &digits, &exponent);
  EXPECT_EQ(digits, "123");
  EXPECT_EQ(exponent, -3);
  ShortestFloat32Digits(1e10f, &digits, &exponent);
  EXPECT_EQ(digits, "1");
  EXPECT_EQ(exponent, 10);
}

}  // namespace
}  // namespace melody
