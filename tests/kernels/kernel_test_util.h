// The one helper of the kernel tests (tests/kernels/*_test.cc): seeded random tensors,
// float <-> double copies, element-wise comparisons that print the first few mismatches
// (index, got, want, diff), and central-difference gradient checks.
//
// Every comparison returns a ::testing::AssertionResult, so a test writes
// EXPECT_TRUE(AllClose(got, want, abs_tol, rel_tol, "what", seed)) and a failure shows
// what was compared, the tolerances, the seed and where the values differ.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>

#include "core/tensor.h"

namespace melody::kernel_test {

// ---- random tensors ---------------------------------------------------------------------

// Uniform(-scale, scale) tensor of dtype T on the CPU, drawn in double and rounded to T.
template <typename T = float>
Tensor Random(std::mt19937& rng, const Shape& shape, double scale = 1.0) {
  Tensor t(shape, DTypeOf<T>::value);
  std::uniform_real_distribution<double> dist(-scale, scale);
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
  return t;
}

// Uniform(-scale, scale) float32 tensor on the CPU, drawn directly in float (a different
// stream of values than Random<float> for the same generator state).
inline Tensor RandomFloat(std::mt19937& rng, const Shape& shape, float scale = 1.0f) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

// Normal(0, stddev) tensor (float32 or float64) on the CPU from a fresh generator seeded
// with `seed`, drawn in double.
inline Tensor RandomNormal(const Shape& shape, uint32_t seed, double stddev,
                           DType dtype = DType::kFloat32) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, stddev);
  Tensor t(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::kFloat32)
      t.data<float>()[i] = static_cast<float>(normal(rng));
    else
      t.data<double>()[i] = normal(rng);
  }
  return t;
}

// ---- conversions --------------------------------------------------------------------------

template <typename To, typename From>
Tensor Convert(const Tensor& src) {
  Tensor out(src.shape(), DTypeOf<To>::value);
  const From* s = src.data<From>();
  To* d = out.data<To>();
  for (int64_t i = 0; i < src.numel(); ++i) d[i] = static_cast<To>(s[i]);
  return out;
}
inline Tensor ToDouble(const Tensor& t) { return Convert<double, float>(t); }

// Element i of a float32 or float64 CPU tensor, as a double.
inline double ValueAt(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data<double>()[i]
                                      : static_cast<double>(t.data<float>()[i]);
}

// ---- comparisons ---------------------------------------------------------------------------

// How many mismatching elements a failed comparison lists.
inline constexpr int kMismatchesShown = 5;

namespace detail {
// Compares every element with `ok(got, want)`; on failure lists the first few mismatches
// (index, got, want, diff), their count and the largest |diff|.
template <typename Ok>
::testing::AssertionResult CompareElements(const Tensor& actual, const Tensor& expected,
                                           const std::string& what,
                                           const std::string& criterion, Ok ok) {
  if (actual.numel() != expected.numel())
    return ::testing::AssertionFailure() << what << ": " << actual.numel() << " elements vs "
                                         << expected.numel() << " expected (" << criterion
                                         << ")";
  int64_t bad = 0;
  double worst = 0.0;
  std::ostringstream list;
  list.precision(12);
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = ValueAt(actual, i), e = ValueAt(expected, i);
    if (ok(a, e)) continue;
    const double diff = std::fabs(a - e);
    if (bad < kMismatchesShown)
      list << "\n  [" << i << "] got " << a << ", want " << e << ", diff " << diff;
    worst = std::isnan(diff) || std::isnan(worst) ? NAN : std::max(worst, diff);
    ++bad;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << actual.numel()
                                       << " elements differ (" << criterion
                                       << "), largest diff " << worst << "; first "
                                       << std::min<int64_t>(bad, kMismatchesShown) << ":"
                                       << list.str();
}
}  // namespace detail

// |got - want| <= abs_tol + rel_tol·|want| for every element (CPU tensors, float or double;
// NaN never passes). `seed` (if the data was random) is printed with a failure.
inline ::testing::AssertionResult AllClose(const Tensor& actual, const Tensor& expected,
                                           double abs_tol, double rel_tol,
                                           const std::string& what, uint32_t seed = 0) {
  std::ostringstream criterion;
  criterion << "abs tol " << abs_tol << ", rel tol " << rel_tol << ", seed " << seed;
  return detail::CompareElements(actual, expected, what, criterion.str(),
                                 [&](double a, double e) {
                                   return std::fabs(a - e) <= abs_tol + rel_tol * std::fabs(e);
                                 });
}

// As AllClose, with the absolute tolerance scaled by the largest |want| of the tensor (at
// least 1): for results of long float32 recurrences, whose rounding error grows with the
// magnitude of the terms that were summed, not with each element's own value.
inline ::testing::AssertionResult AllCloseScaled(const Tensor& actual, const Tensor& expected,
                                                 double abs_tol, double rel_tol,
                                                 const std::string& what, uint32_t seed = 0) {
  double scale = 1.0;
  for (int64_t i = 0; i < expected.numel(); ++i)
    scale = std::max(scale, std::fabs(ValueAt(expected, i)));
  return AllClose(actual, expected, abs_tol * scale, rel_tol,
                  what + " (abs tol scaled by max |expected|)", seed);
}

// got == want for every element (value equality: -0 equals +0, NaN never passes).
inline ::testing::AssertionResult AllEqual(const Tensor& actual, const Tensor& expected,
                                           const std::string& what) {
  return detail::CompareElements(actual, expected, what, "exact",
                                 [](double a, double e) { return a == e; });
}

// The same bytes (and as many).
inline ::testing::AssertionResult BitwiseEqual(const Tensor& a, const Tensor& b) {
  if (a.nbytes() != b.nbytes())
    return ::testing::AssertionFailure() << a.nbytes() << " bytes vs " << b.nbytes();
  if (a.nbytes() > 0 && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) != 0)
    return ::testing::AssertionFailure() << "the bytes differ";
  return ::testing::AssertionSuccess();
}

// ---- gradient checks --------------------------------------------------------------------

// Σ_i a_i·b_i of two double tensors (the scalar "loss" of the gradient checks).
inline double Dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += a.data<double>()[i] * b.data<double>()[i];
  return s;
}

// (loss(p + h) − loss(p − h)) / 2h for the double element *p, restored afterwards.
inline double CentralDifference(double* p, const std::function<double()>& loss, double h) {
  const double saved = *p;
  *p = saved + h;
  const double up = loss();
  *p = saved - h;
  const double down = loss();
  *p = saved;
  return (up - down) / (2 * h);
}

// Compares `analytic` (the gradient of loss() w.r.t. the double tensor `param`) with
// central differences of step h, perturbing every element of param in place. An element
// passes when |analytic − fd| <= tol·max(1, |fd|, |analytic|).
inline ::testing::AssertionResult GradientMatches(Tensor& param, const Tensor& analytic,
                                                  const std::function<double()>& loss,
                                                  const std::string& what,
                                                  double h = 1e-5, double tol = 1e-6) {
  Tensor fd(param.shape(), DType::kFloat64);
  for (int64_t i = 0; i < param.numel(); ++i)
    fd.data<double>()[i] = CentralDifference(param.data<double>() + i, loss, h);
  std::ostringstream criterion;
  criterion << "finite differences, h " << h << ", tol " << tol << "·max(1, |fd|, |analytic|)";
  return detail::CompareElements(
      analytic, fd, what + " (got = analytic, want = finite difference)", criterion.str(),
      [&](double an, double f) {
        return std::fabs(f - an) <= tol * std::max({1.0, std::fabs(f), std::fabs(an)});
      });
}

// As GradientMatches, passing when |analytic − fd| <= abs_tol + rel_tol·|fd|.
inline ::testing::AssertionResult GradientClose(Tensor& param, const Tensor& analytic,
                                                const std::function<double()>& loss,
                                                const std::string& what, double h,
                                                double abs_tol, double rel_tol) {
  Tensor fd(param.shape(), DType::kFloat64);
  for (int64_t i = 0; i < param.numel(); ++i)
    fd.data<double>()[i] = CentralDifference(param.data<double>() + i, loss, h);
  return AllClose(analytic, fd,
                  abs_tol, rel_tol, what + " (got = analytic, want = finite difference, h " +
                                        std::to_string(h) + ")");
}

}  // namespace melody::kernel_test
