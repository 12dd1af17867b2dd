// TF checkpoints (shared/spec/formats.md §8): V2 training checkpoints (a sorted-table
// `.index` of BundleEntryProtos plus one `.data-00000-of-00001` file of raw tensor bytes,
// §8.2), the V1 single-table image stored inside `.mag` bundles (§8.3), and the
// `checkpoint` state file naming the newest checkpoint of a directory (§8.1,
// training.md §4.4). Tensors are CPU, little-endian, row-major; float32, float64, int32
// and int64 are supported (Melody RNN checkpoints hold only float32 and an int global_step).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace melody {

using TensorMap = std::map<std::string, Tensor>;  // CPU tensors, name order = TF's key order

// ---- V2 (formats.md §8.2) ---------------------------------------------------------------

// "<prefix>.index" and "<prefix>.data-00000-of-00001".
std::string CheckpointIndexPath(const std::string& prefix);
std::string CheckpointDataPath(const std::string& prefix);

// V2 (formats.md §8.2): writes P.data-00000-of-00001 and P.index to temporary names, fsyncs,
// renames data then index (a reader never sees a half-written checkpoint). Throws on I/O
// errors naming the file; on failure nothing at P.* changes. Tensors on a device are
// copied to the CPU first; names must be non-empty.
void WriteCheckpointV2(const std::string& prefix, const TensorMap& tensors);
// The two files' contents, as WriteCheckpointV2 writes them (for tests and tools).
struct CheckpointV2Files {
  std::string index, data;
};
CheckpointV2Files SerializeCheckpointV2(const TensorMap& tensors);

// Reads and verifies (size vs dtype/shape, masked CRC32C per tensor, header num_shards/
// endianness/version); errors name the prefix and the tensor. Accepts float32, float64,
// int32, int64 tensors; others are an error naming the dtype.
TensorMap ReadCheckpointV2(const std::string& prefix);
// Only names, dtypes, shapes (reads just the .index).
std::map<std::string, std::pair<DType, Shape>> ListCheckpointV2(const std::string& prefix);
bool CheckpointV2Exists(const std::string& prefix);     // .index and .data-00000-of-00001 present
void DeleteCheckpointFiles(const std::string& prefix);  // .index, .data-*, .meta; missing files ok

// ---- V1 (formats.md §8.3) ---------------------------------------------------------------

// V1 single-table image (formats.md §8.3), as stored inside .mag bundles.
std::string SerializeCheckpointV1(const TensorMap& tensors);
// Errors name `what` (e.g. "bundle.mag: checkpoint_file[0]") and the tensor.
TensorMap ParseCheckpointV1(std::string_view bytes, const std::string& what);

// ---- The `checkpoint` state file (formats.md §8.1, training.md §4.4) ---------------------

struct CheckpointStateFile {
  std::string model_checkpoint_path;                    // as written in the file
  std::vector<std::string> all_model_checkpoint_paths;  // oldest first
};
struct CheckpointStateRead {
  enum class Status { kMissing, kUnparsable, kOk } status = Status::kMissing;
  CheckpointStateFile state;
  std::string error;  // for kUnparsable: what was wrong (file named)
};
// Reads <dir>/checkpoint (protobuf text format of tensorflow.CheckpointState). Accepts the
// four CheckpointState fields (timestamps are read and dropped), `#` comments, C escapes in
// quoted strings, and skips unknown `name: value` fields (TF's own parser would reject the
// file; formats.md §8.1 asks readers to tolerate them). kUnparsable for anything else, or
// for an empty model_checkpoint_path.
CheckpointStateRead ReadCheckpointStateFile(const std::string& dir);
// The file's text as WriteCheckpointStateFile writes it (TF's layout, one field a line).
std::string FormatCheckpointState(const CheckpointStateFile& state);
// Atomic (temp + rename). Paths written as given.
void WriteCheckpointStateFile(const std::string& dir, const CheckpointStateFile& state);
// A relative path resolved against `dir`; absolute paths unchanged.
std::string ResolveCheckpointPath(const std::string& dir, const std::string& path);
// The newest checkpoint prefix of `dir` (resolved), or "" when there is no usable state file
// or its files do not exist.
std::string LatestCheckpoint(const std::string& dir);

}  // namespace melody
