// Pipeline statistics as the reference reports them (shared/spec/data-pipeline.md §7.7,
// §7.10): named int64 counters and histograms with fixed lower bucket bounds. Stages fill
// a Statistics, the driver prefixes the names with the stage and graph names, merges them
// over the run and logs them sorted by name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace melody {

// Buckets given by their inclusive lower bounds, ascending, the first being -inf (added
// when absent) so that every value lands somewhere: a value goes to the bucket with the
// largest lower bound <= value.
class Histogram {
 public:
  Histogram() = default;
  // `lower_bounds` in any order, duplicates allowed; -inf is added, then sorted and deduped.
  explicit Histogram(const std::vector<double>& lower_bounds);

  void Add(double value, int64_t count = 1);
  // Bucket-by-bucket sum; throws melody::Error when the bounds differ.
  void Merge(const Histogram& other);

  const std::vector<double>& lower_bounds() const { return lower_bounds_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  bool operator==(const Histogram& other) const {
    return lower_bounds_ == other.lower_bounds_ && counts_ == other.counts_;
  }

 private:
  std::vector<double> lower_bounds_;
  std::vector<int64_t> counts_;
};

class Statistics {
 public:
  // Counter `name` += n (created at 0 if absent).
  void Increment(const std::string& name, int64_t n = 1);
  // Counter `name` = value.
  void SetCounter(const std::string& name, int64_t value);
  // Creates histogram `name` with these lower bounds if it does not exist yet.
  void DeclareHistogram(const std::string& name, const std::vector<double>& lower_bounds);
  // Adds `value` to histogram `name`, which must have been declared (else melody::Error).
  void AddHistogramValue(const std::string& name, double value, int64_t count = 1);

  // Counters with the same name are summed, histograms summed bucket by bucket; a name
  // used as a counter on one side and a histogram on the other is an error.
  void Merge(const Statistics& other);

  // A copy whose names are `prefix + "_" + name` (the reference's stage/graph naming,
  // e.g. Prefixed("MelodyExtractor_training") then Prefixed("DAGPipeline")).
  Statistics Prefixed(const std::string& prefix) const;

  bool empty() const { return counters_.empty() && histograms_.empty(); }
  bool HasCounter(const std::string& name) const { return counters_.count(name) != 0; }
  bool HasHistogram(const std::string& name) const { return histograms_.count(name) != 0; }
  // 0 when absent.
  int64_t counter(const std::string& name) const;
  // Throws melody::Error when absent.
  const Histogram& histogram(const std::string& name) const;

  // Sorted by name.
  const std::map<std::string, int64_t>& counters() const { return counters_; }
  const std::map<std::string, Histogram>& histograms() const { return histograms_; }
  // All names (counters and histograms together), sorted.
  std::vector<std::string> Names() const;

  bool operator==(const Statistics& other) const {
    return counters_ == other.counters_ && histograms_ == other.histograms_;
  }

 private:
  std::map<std::string, int64_t> counters_;
  std::map<std::string, Histogram> histograms_;
};

// A histogram bound as Python's '%s' prints it: "-inf", "inf", integral values as
// integers ("30"), others as the shortest round-trip repr ("0.5").
std::string FormatPythonNumber(double value);

// One log message per statistic, sorted by name, exactly as the reference logs them:
// counters "name: count"; histograms "name:\n  [lower,upper): count" with one line per
// non-empty bucket (upper of the last bucket is "inf").
std::vector<std::string> FormatStatistics(const Statistics& stats);

}  // namespace melody
