#include "apps/lib/tfjs_weights.h"

#include <glog/logging.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "apps/lib/tfjs_quantization.h"
#include "core/error.h"
#include "core/file_util.h"

namespace melody {

namespace {

using Json = nlohmann::ordered_json;

// Largest finite binary16 value: larger weights would become inf in a float16 export.
constexpr float kHalfMax = 65504.0f;

void AppendBytes(const void* data, size_t size, std::string* out) {
  out->append(static_cast<const char*>(data), size);
}

// One tensor's manifest entry and bytes, encoded as `quantization` asks.
Json EncodeWeight(const std::string& name, const Tensor& tensor, TfjsQuantization quantization,
                  std::string* group_bytes) {
  Json entry;
  entry["name"] = name;
  entry["shape"] = tensor.shape();
  const Tensor host = tensor.CopyTo(Device::CPU());
  if (host.dtype() == DType::kInt32) {  // not quantized (the converter quantizes float32 only)
    entry["dtype"] = "int32";
    AppendBytes(host.raw_data(), host.nbytes(), group_bytes);
    return entry;
  }
  MELODY_REQUIRE(host.dtype() == DType::kFloat32)
      << "TF.js export: tensor " << name << " has dtype " << DTypeName(host.dtype())
      << "; only float32 and int32 tensors are written";
  entry["dtype"] = "float32";
  const float* values = host.data<float>();
  const int64_t count = host.numel();
  switch (quantization) {
    case TfjsQuantization::kNone:
      AppendBytes(values, host.nbytes(), group_bytes);
      break;
    case TfjsQuantization::kFloat16: {
      for (int64_t i = 0; i < count; ++i) {
        MELODY_REQUIRE(!(std::fabs(values[i]) > kHalfMax))
            << "TF.js export: tensor " << name << " holds " << values[i] << " at index " << i
            << ", beyond float16's range (65504); export it with --quantize=none";
        const uint16_t bits = FloatToHalfBits(values[i]);
        const unsigned char le[2] = {static_cast<unsigned char>(bits & 0xff),
                                     static_cast<unsigned char>(bits >> 8)};
        AppendBytes(le, 2, group_bytes);
      }
      entry["quantization"] = {{"dtype", "float16"}, {"original_dtype", "float32"}};
      break;
    }
    case TfjsQuantization::kUint8: {
      for (int64_t i = 0; i < count; ++i)
        MELODY_REQUIRE(std::isfinite(values[i]))
            << "TF.js export: tensor " << name << " holds " << values[i] << " at index " << i
            << "; uint8 quantization needs finite values";
      const AffineQuantization q = AffineQuantizationRange(values, count, 255);
      const std::vector<uint8_t> levels = QuantizeUint8(values, count, q);
      AppendBytes(levels.data(), levels.size(), group_bytes);
      entry["quantization"] = {
          {"dtype", "uint8"}, {"min", q.min}, {"scale", q.scale}, {"original_dtype", "float32"}};
      break;
    }
  }
  return entry;
}

const Json& Field(const Json& object, const char* key, const std::string& where) {
  MELODY_REQUIRE(object.is_object() && object.contains(key))
      << where << ": missing \"" << key << "\"";
  return object.at(key);
}

std::string StringField(const Json& object, const char* key, const std::string& where) {
  const Json& value = Field(object, key, where);
  MELODY_REQUIRE(value.is_string()) << where << ": \"" << key << "\" is not a string";
  return value.get<std::string>();
}

double NumberField(const Json& object, const char* key, const std::string& where) {
  const Json& value = Field(object, key, where);
  MELODY_REQUIRE(value.is_number()) << where << ": \"" << key << "\" is not a number";
  return value.get<double>();
}

Shape ShapeField(const Json& weight, const std::string& where) {
  const Json& value = Field(weight, "shape", where);
  MELODY_REQUIRE(value.is_array()) << where << ": \"shape\" is not an array";
  Shape shape;
  for (const Json& dim : value) {
    MELODY_REQUIRE(dim.is_number_integer() && dim.get<int64_t>() >= 0 &&
                   dim.get<int64_t>() < (int64_t{1} << 40))
        << where << ": bad dimension " << dim.dump() << " in \"shape\"";
    shape.push_back(dim.get<int64_t>());
  }
  MELODY_REQUIRE(ShapeNumel(shape) < (int64_t{1} << 40)) << where << ": shape too large";
  return shape;
}

// Decodes one weight starting at *offset of the group's bytes, advancing *offset.
Tensor DecodeWeight(const Json& weight, const std::string& bytes, size_t* offset,
                    const std::string& where) {
  const std::string dtype = StringField(weight, "dtype", where);
  const Shape shape = ShapeField(weight, where);
  const int64_t count = ShapeNumel(shape);
  std::string stored = dtype;
  AffineQuantization affine;
  if (weight.contains("quantization")) {
    const Json& q = weight.at("quantization");
    stored = StringField(q, "dtype", where + " quantization");
    if (stored == "uint8" || stored == "uint16") {
      affine.min = NumberField(q, "min", where + " quantization");
      affine.scale = NumberField(q, "scale", where + " quantization");
    } else {
      MELODY_REQUIRE(stored == "float16")
          << where << ": unknown quantization dtype '" << stored
          << "' (TF.js defines uint8, uint16 and float16)";
    }
    MELODY_REQUIRE(dtype == "float32")
        << where << ": quantized weights must have dtype float32, not '" << dtype << "'";
  } else {
    MELODY_REQUIRE(dtype == "float32" || dtype == "int32")
        << where << ": dtype '" << dtype
        << "' is not supported (Melody RNN weights are float32; int32 is read too)";
  }
  const size_t width = stored == "uint8" ? 1 : (stored == "uint16" || stored == "float16") ? 2 : 4;
  const size_t size = static_cast<size_t>(count) * width;
  MELODY_REQUIRE(*offset + size <= bytes.size())
      << where << ": the shards end at byte " << bytes.size() << ", but this weight needs bytes "
      << *offset << ".." << *offset + size << " (a shard is missing or truncated)";
  const unsigned char* in = reinterpret_cast<const unsigned char*>(bytes.data()) + *offset;
  *offset += size;
  if (dtype == "int32") {
    Tensor out(shape, DType::kInt32);
    std::memcpy(out.raw_data(), in, size);
    return out;
  }
  Tensor out(shape, DType::kFloat32);
  float* values = out.data<float>();
  auto u16 = [in](int64_t i) { return static_cast<uint16_t>(in[2 * i] | in[2 * i + 1] << 8); };
  if (stored == "float32") {
    std::memcpy(values, in, size);
  } else if (stored == "float16") {
    for (int64_t i = 0; i < count; ++i) values[i] = HalfBitsToFloat(u16(i));
  } else if (stored == "uint16") {
    for (int64_t i = 0; i < count; ++i) values[i] = DequantizeAffine(u16(i), affine);
  } else {
    for (int64_t i = 0; i < count; ++i) values[i] = DequantizeAffine(in[i], affine);
  }
  return out;
}

}  // namespace

TfjsQuantization ParseTfjsQuantization(const std::string& text) {
  if (text == "none") return TfjsQuantization::kNone;
  if (text == "float16") return TfjsQuantization::kFloat16;
  if (text == "uint8") return TfjsQuantization::kUint8;
  MELODY_FAIL() << "--quantize must be none, float16 or uint8, got '" << text << "'";
}

const char* TfjsQuantizationName(TfjsQuantization quantization) {
  switch (quantization) {
    case TfjsQuantization::kNone: return "none";
    case TfjsQuantization::kFloat16: return "float16";
    case TfjsQuantization::kUint8: return "uint8";
  }
  return "?";
}

TfjsWeightsFiles SerializeTfjsWeights(const TensorMap& tensors, TfjsQuantization quantization,
                                      int64_t shard_bytes) {
  MELODY_REQUIRE(shard_bytes > 0) << "TF.js export: shard size must be > 0";
  std::string group_bytes;
  Json weights = Json::array();
  for (const auto& [name, tensor] : tensors) {
    MELODY_REQUIRE(!name.empty()) << "TF.js export: a tensor has an empty name";
    weights.push_back(EncodeWeight(name, tensor, quantization, &group_bytes));
  }
  TfjsWeightsFiles files;
  // As the converter: ceil(total / shard) shards; an empty group has none.
  const size_t shard = static_cast<size_t>(shard_bytes);
  const size_t count = (group_bytes.size() + shard - 1) / shard;
  Json paths = Json::array();
  for (size_t i = 0; i < count; ++i) {
    const std::string file_name =
        "group1-shard" + std::to_string(i + 1) + "of" + std::to_string(count) + ".bin";
    files.shards.emplace_back(file_name, group_bytes.substr(i * shard, shard));
    paths.push_back(file_name);
  }
  Json manifest = Json::array();
  manifest.push_back({{"paths", paths}, {"weights", weights}});
  files.manifest = manifest.dump();
  return files;
}

TensorMap DecodeTfjsWeights(const std::string& manifest_json,
                            const std::function<std::string(const std::string&)>& read_shard,
                            const std::string& what) {
  const Json manifest = Json::parse(manifest_json, nullptr, /*allow_exceptions=*/false);
  MELODY_REQUIRE(!manifest.is_discarded()) << what << ": not valid JSON";
  MELODY_REQUIRE(manifest.is_array())
      << what << ": a TF.js weights manifest is a JSON array of weight groups";
  TensorMap tensors;
  for (size_t g = 0; g < manifest.size(); ++g) {
    const std::string group_where = what + ": group " + std::to_string(g);
    const Json& group = manifest[g];
    const Json& paths = Field(group, "paths", group_where);
    const Json& weights = Field(group, "weights", group_where);
    MELODY_REQUIRE(paths.is_array() && weights.is_array())
        << group_where << ": \"paths\" and \"weights\" must be arrays";
    std::string bytes;
    for (const Json& path : paths) {
      MELODY_REQUIRE(path.is_string()) << group_where << ": a path is not a string";
      bytes += read_shard(path.get<std::string>());
    }
    size_t offset = 0;
    for (const Json& weight : weights) {
      const std::string name = StringField(weight, "name", group_where + " weight");
      const std::string where = group_where + " weight " + name;
      MELODY_REQUIRE(tensors.count(name) == 0) << where << ": the name appears twice";
      tensors.emplace(name, DecodeWeight(weight, bytes, &offset, where));
    }
    if (offset != bytes.size())
      LOG(WARNING) << group_where << ": " << bytes.size() - offset
                   << " bytes after the last weight are ignored";
  }
  return tensors;
}

TensorMap ReadTfjsWeights(const std::string& dir) {
  const std::string manifest_path = JoinPath(dir, kTfjsManifestFile);
  MELODY_REQUIRE(PathExists(manifest_path))
      << dir << ": no " << kTfjsManifestFile << " (not a TF.js checkpoint directory)";
  return DecodeTfjsWeights(
      ReadFileToString(manifest_path),
      [&dir](const std::string& path) { return ReadFileToString(JoinPath(dir, path)); },
      manifest_path);
}

}  // namespace melody
