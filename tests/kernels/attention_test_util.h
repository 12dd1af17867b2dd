// Helpers for the attention tests: seeded random tensors, float <-> double copies, and a
// tolerance comparison that reports the first mismatch with its index and the seed.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "core/tensor.h"

namespace melody::attention_test {

// Uniform(-scale, scale) float32 tensor on the CPU.
inline Tensor RandomTensor(std::mt19937& rng, const Shape& shape, float scale = 1.0f) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

template <typename To, typename From>
Tensor Convert(const Tensor& src) {
  Tensor out(src.shape(), DTypeOf<To>::value);
  const From* s = src.data<From>();
  To* d = out.data<To>();
  for (int64_t i = 0; i < src.numel(); ++i) d[i] = static_cast<To>(s[i]);
  return out;
}
inline Tensor ToDouble(const Tensor& t) { return Convert<double, float>(t); }

template <typename T>
double ValueAt(const Tensor& t, int64_t i) {
  return static_cast<double>(t.data<T>()[i]);
}
inline double AnyValueAt(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? ValueAt<double>(t, i) : ValueAt<float>(t, i);
}

// |actual - expected| <= abs_tol + rel_tol * |expected| elementwise; actual/expected may
// be float or double CPU tensors.
inline ::testing::AssertionResult AllClose(const Tensor& actual, const Tensor& expected,
                                           double abs_tol, double rel_tol,
                                           const std::string& what, uint32_t seed) {
  if (actual.numel() != expected.numel())
    return ::testing::AssertionFailure() << what << ": size " << actual.numel() << " vs "
                                         << expected.numel();
  double worst = 0.0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = AnyValueAt(actual, i), e = AnyValueAt(expected, i);
    const double err = std::fabs(a - e);
    worst = std::max(worst, err);
    if (!(err <= abs_tol + rel_tol * std::fabs(e)))
      return ::testing::AssertionFailure()
             << what << ": element " << i << " is " << a << ", expected " << e
             << " (abs tol " << abs_tol << ", rel tol " << rel_tol << ", seed " << seed
             << ")";
  }
  return ::testing::AssertionSuccess();
}

// As AllClose, with the absolute tolerance scaled by the largest |expected| of the tensor
// (at least 1): for results of long float32 recurrences, whose rounding error grows with
// the magnitude of the terms that were summed, not with each element's own value.
inline ::testing::AssertionResult AllCloseScaled(const Tensor& actual, const Tensor& expected,
                                                 double abs_tol, double rel_tol,
                                                 const std::string& what, uint32_t seed) {
  double scale = 1.0;
  for (int64_t i = 0; i < expected.numel(); ++i)
    scale = std::max(scale, std::fabs(AnyValueAt(expected, i)));
  return AllClose(actual, expected, abs_tol * scale, rel_tol, what + " (abs tol scaled by max |expected|)", seed);
}

}  // namespace melody::attention_test
