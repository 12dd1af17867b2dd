// melody::Error carries the source location of the MELODY_FAIL / MELODY_REQUIRE that
// raised it, and DescribeError (what every tool prints at its top level) shows it.
#include "core/error.h"

#include <gtest/gtest.h>

#include <string>

namespace melody {
namespace {

int ParsePositive(int n) {
  MELODY_REQUIRE(n > 0) << "n must be positive, got " << n;
  return n;
}

TEST(Error, RequireCarriesItsFileAndLine) {
  const int line = __LINE__ - 5;  // the MELODY_REQUIRE above
  try {
    ParsePositive(-3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "n must be positive, got -3");
    ASSERT_NE(e.file(), nullptr);
    // Relative to the repository root (-fmacro-prefix-map), not the build machine's path.
    EXPECT_STREQ(e.file(), "tests/core/error_test.cc");
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(DescribeError(e),
              "n must be positive, got -3 (at tests/core/error_test.cc:" + std::to_string(line) + ")");
  }
}

TEST(Error, PlainErrorsAndOtherExceptionsAreDescribedByTheirMessage) {
  EXPECT_EQ(DescribeError(Error("cuBLAS error 7 at kernels/cuda/linear.cu:20")),
            "cuBLAS error 7 at kernels/cuda/linear.cu:20");
  EXPECT_EQ(DescribeError(std::runtime_error("disk full")), "disk full");
}

TEST(Error, RequireNestsUnderAnUnbracedIfElse) {
  // MELODY_REQUIRE is one expression: the else below belongs to the outer if.
  int taken = 0;
  for (int n : {1, -1}) {
    try {
      if (n > 0)
        MELODY_REQUIRE(n == 1) << "unreachable";
      else
        taken = n;
    } catch (const Error&) {
      FAIL() << "the condition held";
    }
  }
  EXPECT_EQ(taken, -1);
  EXPECT_EQ(ParsePositive(4), 4);  // a passing check has no effect
}

}  // namespace
}  // namespace melody
