// TensorFlow's sorted table ("SSTable", LevelDB's table format without filter blocks), the
// container of V2 checkpoint indexes and V1 checkpoints (shared/spec/formats.md §7).
// Whole-file in memory: our tables are small (an index, or a bundle's few MB of weights).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace melody {

// Block policy of TF's table writer, needed to rewrite TF-written tables byte for byte.
constexpr size_t kSortedTableBlockSize = 262144;  // target data block size
constexpr int kSortedTableRestartInterval = 16;   // data blocks; the index block uses 1
constexpr size_t kSortedTableFooterSize = 48;
constexpr unsigned long long kSortedTableMagic = 0xdb4775248b80fb57ull;

// Keys strictly increasing (bytewise). Block policy of TF's writer (262,144-byte blocks,
// restart interval 16, shortened index keys), so a rewrite of a TF-written table is
// byte-identical. Throws melody::Error when keys are not strictly increasing.
std::string BuildSortedTable(const std::vector<std::pair<std::string, std::string>>& entries);

// Every (key, value) in order; verifies every block CRC; throws melody::Error naming `what`
// and the byte offset for a bad footer/magic, bad CRC, snappy block, truncated block.
std::vector<std::pair<std::string, std::string>> ParseSortedTable(std::string_view bytes,
                                                                  const std::string& what);

}  // namespace melody
