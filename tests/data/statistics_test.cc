// Statistics: histogram bucketing, merging, prefixing and the reference's log format
// (shared/spec/data-pipeline.md §7.7, §7.10).
#include "data/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"

namespace melody {
namespace {

TEST(Histogram, ValueGoesToLargestLowerBoundNotAboveIt) {
  Histogram histogram({10, 0, 1, 1});  // unsorted, duplicate: -inf is added
  ASSERT_EQ(histogram.lower_bounds().size(), 4u);
  EXPECT_TRUE(std::isinf(histogram.lower_bounds()[0]));
  histogram.Add(-5);
  histogram.Add(0);
  histogram.Add(0.999);
  histogram.Add(1);
  histogram.Add(9.5);
  histogram.Add(10, 3);
  histogram.Add(1e12);
  EXPECT_EQ(histogram.counts(), (std::vector<int64_t>{1, 2, 2, 4}));
}

TEST(Statistics, MergeSumsCountersAndBuckets) {
  Statistics a, b;
  a.Increment("x", 2);
  a.DeclareHistogram("h", {0, 5});
  a.AddHistogramValue("h", 3);
  b.Increment("x");
  b.SetCounter("y", 7);
  b.DeclareHistogram("h", {0, 5});
  b.AddHistogramValue("h", 6);
  b.AddHistogramValue("h", 4);
  a.Merge(b);
  EXPECT_EQ(a.counter("x"), 3);
  EXPECT_EQ(a.counter("y"), 7);
  EXPECT_EQ(a.counter("absent"), 0);
  EXPECT_EQ(a.histogram("h").counts(), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(a.Names(), (std::vector<std::string>{"h", "x", "y"}));
}

TEST(Statistics, MergeRejectsDifferentBucketsAndKindClashes) {
  Statistics a, b, c;
  a.DeclareHistogram("h", {0, 5});
  b.DeclareHistogram("h", {0, 6});
  EXPECT_THROW(a.Merge(b), Error);
  c.Increment("h");
  EXPECT_THROW(a.Merge(c), Error);
  EXPECT_THROW(a.AddHistogramValue("undeclared", 1), Error);
}

TEST(Statistics, PrefixedTwiceGivesTheGraphNames) {
  Statistics stats;
  stats.Increment("melodies_truncated", 4);
  stats.DeclareHistogram("melody_lengths_in_bars", {0});
  const Statistics named = stats.Prefixed("MelodyExtractor_training").Prefixed("DAGPipeline");
  EXPECT_EQ(named.counter("DAGPipeline_MelodyExtractor_training_melodies_truncated"), 4);
  EXPECT_TRUE(named.HasHistogram("DAGPipeline_MelodyExtractor_training_melody_lengths_in_bars"));
  EXPECT_FALSE(named.HasCounter("melodies_truncated"));
}

TEST(Statistics, FormatsLikeTheReferenceLog) {
  Statistics stats;
  stats.Increment("b_counter", 12);
  stats.DeclareHistogram("a_hist", {0, 1, 10, 30, 40});
  stats.AddHistogramValue("a_hist", -1);
  stats.AddHistogramValue("a_hist", 35, 720);
  stats.AddHistogramValue("a_hist", 100, 2);
  stats.DeclareHistogram("c_empty", {0});
  const std::vector<std::string> lines = FormatStatistics(stats);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "a_hist:\n  [-inf,0): 1\n  [30,40): 720\n  [40,inf): 2");
  EXPECT_EQ(lines[1], "b_counter: 12");
  EXPECT_EQ(lines[2], "c_empty:\n  ");
}

TEST(Statistics, PythonNumberFormatting) {
  EXPECT_EQ(FormatPythonNumber(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatPythonNumber(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatPythonNumber(30), "30");
  EXPECT_EQ(FormatPythonNumber(-1), "-1");
  EXPECT_EQ(FormatPythonNumber(0.5), "0.5");
  EXPECT_EQ(FormatPythonNumber(0.1), "0.1");
}

}  // namespace
}  // namespace melody
