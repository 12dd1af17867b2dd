// The iteration order of a CPython 3.11 set of integers, built by
// inserting values in a given order (shared/spec/data-pipeline.md appendix A). The
// reference visits a piece's instruments in this order.
#pragma once

#include <cstdint>
#include <vector>

namespace melody {

// Distinct values of `inserted` (duplicates ignored) in the order Python would iterate
// set(inserted). Negative values follow CPython too (hash(-1) is -2).
std::vector<int64_t> PythonSetIterationOrder(const std::vector<int64_t>& inserted);

}  // namespace melody
