// Statistics in the golden files' JSON shape (shared/golden/README.md): {name: count} for
// counters, {name: {"histogram": [[lower, count], ...]}} with every bucket, "-inf" for -∞.
#pragma once

#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "data/statistics.h"

namespace melody::testing {

inline nlohmann::json StatisticsToJson(const Statistics& stats) {
  using nlohmann::json;
  json out = json::object();
  for (const auto& [name, count] : stats.counters()) out[name] = count;
  for (const auto& [name, histogram] : stats.histograms()) {
    json buckets = json::array();
    for (size_t i = 0; i < histogram.lower_bounds().size(); ++i) {
      const double bound = histogram.lower_bounds()[i];
      json lower = std::isinf(bound) ? json(bound < 0 ? "-inf" : "inf")
                                     : json(static_cast<int64_t>(bound));
      buckets.push_back(json::array({lower, histogram.counts()[i]}));
    }
    out[name] = json{{"histogram", buckets}};
  }
  return out;
}

}  // namespace melody::testing
