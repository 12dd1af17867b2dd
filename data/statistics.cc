#include "data/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/error.h"

namespace melody {

Histogram::Histogram(const std::vector<double>& lower_bounds) : lower_bounds_(lower_bounds) {
  for (double bound : lower_bounds_) {
    MELODY_REQUIRE(!std::isnan(bound)) << "histogram bucket bound is NaN";
  }
  lower_bounds_.push_back(-std::numeric_limits<double>::infinity());
  std::sort(lower_bounds_.begin(), lower_bounds_.end());
  lower_bounds_.erase(std::unique(lower_bounds_.begin(), lower_bounds_.end()),
                      lower_bounds_.end());
  counts_.assign(lower_bounds_.size(), 0);
}

void Histogram::Add(double value, int64_t count) {
  MELODY_REQUIRE(!lower_bounds_.empty()) << "histogram without buckets";
  // First bound > value; the bucket is the one before it. -inf <= every non-NaN value.
  auto after = std::upper_bound(lower_bounds_.begin(), lower_bounds_.end(), value);
  size_t index = after == lower_bounds_.begin() ? 0 : (after - lower_bounds_.begin()) - 1;
  counts_[index] += count;
}

void Histogram::Merge(const Histogram& other) {
  MELODY_REQUIRE(lower_bounds_ == other.lower_bounds_)
      << "cannot merge histograms with different buckets";
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

void Statistics::Increment(const std::string& name, int64_t n) {
  MELODY_REQUIRE(!HasHistogram(name)) << "statistic " << name << " is a histogram";
  counters_[name] += n;
}

void Statistics::SetCounter(const std::string& name, int64_t value) {
  MELODY_REQUIRE(!HasHistogram(name)) << "statistic " << name << " is a histogram";
  counters_[name] = value;
}

void Statistics::DeclareHistogram(const std::string& name,
                                  const std::vector<double>& lower_bounds) {
  MELODY_REQUIRE(!HasCounter(name)) << "statistic " << name << " is a counter";
  if (!HasHistogram(name)) histograms_.emplace(name, Histogram(lower_bounds));
}

void Statistics::AddHistogramValue(const std::string& name, double value, int64_t count) {
  auto it = histograms_.find(name);
  MELODY_REQUIRE(it != histograms_.end()) << "histogram " << name << " was not declared";
  it->second.Add(value, count);
}

void Statistics::Merge(const Statistics& other) {
  for (const auto& [name, count] : other.counters_) Increment(name, count);
  for (const auto& [name, histogram] : other.histograms_) {
    MELODY_REQUIRE(!HasCounter(name)) << "statistic " << name << " is a counter";
    auto it = histograms_.find(name);
    if (it == histograms_.end()) {
      histograms_.emplace(name, histogram);
    } else {
      it->second.Merge(histogram);
    }
  }
}

Statistics Statistics::Prefixed(const std::string& prefix) const {
  Statistics result;
  for (const auto& [name, count] : counters_) result.counters_[prefix + "_" + name] = count;
  for (const auto& [name, histogram] : histograms_) {
    result.histograms_.emplace(prefix + "_" + name, histogram);
  }
  return result;
}

int64_t Statistics::counter(const std::string& name) const {
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

const Histogram& Statistics::histogram(const std::string& name) const {
  auto it = histograms_.find(name);
  MELODY_REQUIRE(it != histograms_.end()) << "no histogram named " << name;
  return it->second;
}

std::vector<std::string> Statistics::Names() const {
  std::vector<std::string> names;
  for (const auto& entry : counters_) names.push_back(entry.first);
  for (const auto& entry : histograms_) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  return names;
}

std::string FormatPythonNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // Bounds the reference builds are Python ints; print integral values the way an int
  // prints.
  if (value == std::floor(value) && std::fabs(value) < 1e18) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::vector<std::string> FormatStatistics(const Statistics& stats) {
  std::vector<std::string> lines;
  for (const std::string& name : stats.Names()) {
    if (stats.HasCounter(name)) {
      lines.push_back(name + ": " + std::to_string(stats.counter(name)));
      continue;
    }
    // The reference joins the non-empty bucket lines with "\n  " after "name:\n  ".
    const Histogram& histogram = stats.histogram(name);
    const auto& bounds = histogram.lower_bounds();
    std::string text = name + ":\n  ";
    bool first = true;
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (histogram.counts()[i] == 0) continue;
      double upper = i + 1 < bounds.size() ? bounds[i + 1]
                                           : std::numeric_limits<double>::infinity();
      if (!first) text += "\n  ";
      first = false;
      text += "[" + FormatPythonNumber(bounds[i]) + "," + FormatPythonNumber(upper) +
              "): " + std::to_string(histogram.counts()[i]);
    }
    lines.push_back(text);
  }
  return lines;
}

}  // namespace melody
