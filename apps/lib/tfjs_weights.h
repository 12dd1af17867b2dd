// TF.js weight manifests (shared/spec/formats.md §11): `weights_manifest.json` (an array of
// groups {"paths": [shard files], "weights": [{"name", "shape", "dtype",
// "quantization"?}]}) and the binary shards it names, as the TF.js converter writes them
// (tensorflowjs write_weights: all of a group's tensors concatenated in manifest order,
// row-major little-endian, no padding, cut into shards of at most 4 MiB named
// group<g>-shard<i>of<n>.bin) and as TF.js reads them. Used by magenta.js checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/tf_checkpoint.h"

namespace melody {

enum class TfjsQuantization { kNone, kFloat16, kUint8 };

// "none" | "float16" | "uint8"; anything else throws naming --quantize.
TfjsQuantization ParseTfjsQuantization(const std::string& text);
const char* TfjsQuantizationName(TfjsQuantization quantization);

// The converter's default shard size (4 MiB, the largest file browsers cache).
constexpr int64_t kTfjsDefaultShardBytes = 4 * 1024 * 1024;
constexpr const char* kTfjsManifestFile = "weights_manifest.json";

struct TfjsWeightsFiles {
  std::string manifest;                                     // weights_manifest.json text
  std::vector<std::pair<std::string, std::string>> shards;  // file name, bytes
};

// One group holding `tensors` in name order. float32 tensors are quantized as asked
// (int32 tensors are stored as they are, as the converter does); other dtypes, and
// values that the encoding cannot hold (NaN/inf for uint8, |x| > 65504 for float16),
// throw naming the tensor.
TfjsWeightsFiles SerializeTfjsWeights(const TensorMap& tensors, TfjsQuantization quantization,
                                      int64_t shard_bytes = kTfjsDefaultShardBytes);

// Decodes a manifest whose shards `read_shard(path)` returns; values are dequantized to
// float32 (int32 stays int32). Errors start with `what` and name the group, shard or
// weight: bad JSON, a missing field, an unknown dtype, duplicate names, shards too short.
TensorMap DecodeTfjsWeights(const std::string& manifest_json,
                            const std::function<std::string(const std::string&)>& read_shard,
                            const std::string& what);
// <dir>/weights_manifest.json and its shards (paths relative to dir).
TensorMap ReadTfjsWeights(const std::string& dir);

}  // namespace melody
