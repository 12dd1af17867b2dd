// Helpers for the linear / LSTM / dropout kernel tests: seeded random tensors, float <->
// double copies, a tolerance comparison reporting the first mismatch with its index and
// the seed, and a central-difference gradient helper.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "core/tensor.h"

namespace melody::lstm_test {

// Uniform(-scale, scale) tensor of dtype T on the CPU.
template <typename T = float>
Tensor Random(std::mt19937& rng, const Shape& shape, double scale = 1.0) {
  Tensor t(shape, DTypeOf<T>::value);
  std::uniform_real_distribution<double> dist(-scale, scale);
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
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

inline double At(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kFloat64 ? t.data<double>()[i]
                                      : static_cast<double>(t.data<float>()[i]);
}

// |actual - expected| <= abs_tol + rel_tol·|expected| for every element (CPU tensors,
// float or double). Reports the first failing element and the largest error seen.
inline ::testing::AssertionResult AllClose(const Tensor& actual, const Tensor& expected,
                                           double abs_tol, double rel_tol,
                                           const std::string& what, uint32_t seed) {
  if (actual.numel() != expected.numel())
    return ::testing::AssertionFailure() << what << ": " << actual.numel() << " elements vs "
                                         << expected.numel() << " (seed " << seed << ")";
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = At(actual, i), e = At(expected, i);
    if (!(std::fabs(a - e) <= abs_tol + rel_tol * std::fabs(e)))
      return ::testing::AssertionFailure()
             << what << ": element " << i << " is " << a << ", expected " << e << " (abs tol "
             << abs_tol << ", rel tol " << rel_tol << ", seed " << seed << ")";
  }
  return ::testing::AssertionSuccess();
}

// Σ_i a_i·b_i of two double tensors (the scalar "loss" of the gradient checks).
inline double Dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += a.data<double>()[i] * b.data<double>()[i];
  return s;
}

// Compares `analytic` (gradient of loss() w.r.t. the double tensor `param`) with central
// differences, step h, perturbing every element of param in place (restored after).
// Error measure: |fd - an| <= tol·max(1, |fd|, |an|).
inline ::testing::AssertionResult GradientMatches(Tensor& param, const Tensor& analytic,
                                                  const std::function<double()>& loss,
                                                  const std::string& what,
                                                  double h = 1e-5, double tol = 1e-6) {
  double* p = param.data<double>();
  for (int64_t i = 0; i < param.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + h;
    const double up = loss();
    p[i] = saved - h;
    const double down = loss();
    p[i] = saved;
    const double fd = (up - down) / (2 * h);
    const double an = analytic.data<double>()[i];
    const double scale = std::max({1.0, std::fabs(fd), std::fabs(an)});
    if (!(std::fabs(fd - an) <= tol * scale))
      return ::testing::AssertionFailure() << what << "[" << i << "]: analytic " << an
                                           << ", finite difference " << fd;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace melody::lstm_test
