// The iteration order of a CPython 3.11 set of small non-negative integers, built by
// inserting values in a given order (shared/spec/data-pipeline.md appendix A). The
// reference visits a piece's instruments in this order.
#pragma once

#include <cstdint>
#include <vector>

namespace melody {

// Distinct values of `inserted` (duplicates ignored) in the order Python would iterate
// set(inserted). Values must be non-negative (melody::Error otherwise).
std::vector<int64_t> PythonSetIterationOrder(const std::vector<int64_t>& inserted);

}  // namespace melody
