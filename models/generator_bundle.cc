#include "models/generator_bundle.h"

#include <functional>
#include <map>

#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "generator.pb.h"

namespace melody {

namespace {

// ---- a minimal protobuf wire walker (the metagraph has no .proto here) ---------------

struct WireField {
  uint32_t number = 0;
  int wire_type = 0;
  uint64_t varint = 0;        // wire type 0
  std::string_view payload;   // wire type 2 (and the raw bytes of types 1 and 5)
};

bool ReadVarint(std::string_view bytes, size_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= bytes.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(bytes[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *value = result;
      return true;
    }
  }
  return false;
}

// Calls visit(field) for every field of a message; false when the bytes are not a
// well-formed message (groups are treated as malformed: no TF message uses them).
bool ForEachField(std::string_view bytes, const std::function<void(const WireField&)>& visit) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t key = 0;
    if (!ReadVarint(bytes, &pos, &key)) return false;
    WireField f;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire_type = static_cast<int>(key & 7);
    if (f.number == 0) return false;
    switch (f.wire_type) {
      case 0:
        if (!ReadVarint(bytes, &pos, &f.varint)) return false;
        break;
      case 1:
      case 5: {
        const size_t n = f.wire_type == 1 ? 8 : 4;
        if (bytes.size() - pos < n) return false;
        f.payload = bytes.substr(pos, n);
        pos += n;
        break;
      }
      case 2: {
        uint64_t n = 0;
        if (!ReadVarint(bytes, &pos, &n) || n > bytes.size() - pos) return false;
        f.payload = bytes.substr(pos, n);
        pos += n;
        break;
      }
      default:
        return false;
    }
    visit(f);
  }
  return true;
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// ---- metagraph pieces ------------------------------------------------------------------

struct NodeInfo {
  std::string op;
  std::vector<std::string> inputs;
  std::map<std::string, std::string_view> attrs;  // name -> serialized AttrValue
};

std::vector<int64_t> ParseShape(std::string_view shape_proto) {
  std::vector<int64_t> dims;
  ForEachField(shape_proto, [&](const WireField& f) {
    if (f.number != 2 || f.wire_type != 2) return;
    int64_t size = 0;
    ForEachField(f.payload, [&](const WireField& d) {
      if (d.number == 1 && d.wire_type == 0) size = static_cast<int64_t>(d.varint);
    });
    dims.push_back(size);
  });
  return dims;
}

// AttrValue.shape (7), or the first shape of AttrValue.list (1) .shape (7).
std::vector<int64_t> ShapeOfAttr(std::string_view attr_value) {
  std::vector<int64_t> shape;
  ForEachField(attr_value, [&](const WireField& f) {
    if (f.wire_type != 2) return;
    if (f.number == 7) shape = ParseShape(f.payload);
    if (f.number == 1 && shape.empty()) {
      bool first = true;
      ForEachField(f.payload, [&](const WireField& l) {
        if (l.number == 7 && l.wire_type == 2 && first) {
          shape = ParseShape(l.payload);
          first = false;
        }
      });
    }
  });
  return shape;
}

// Int values of AttrValue.tensor (8): TensorProto int_val (7, packed or not), int64_val
// (10) or tensor_content (4, int32 little-endian).
std::vector<int64_t> IntsOfTensorAttr(std::string_view attr_value) {
  std::vector<int64_t> values;
  ForEachField(attr_value, [&](const WireField& f) {
    if (f.number != 8 || f.wire_type != 2) return;
    ForEachField(f.payload, [&](const WireField& t) {
      if ((t.number == 7 || t.number == 10) && t.wire_type == 0) {
        values.push_back(t.number == 7 ? static_cast<int32_t>(t.varint)
                                       : static_cast<int64_t>(t.varint));
      } else if ((t.number == 7 || t.number == 10) && t.wire_type == 2) {
        size_t pos = 0;
        uint64_t v = 0;
        while (pos < t.payload.size() && ReadVarint(t.payload, &pos, &v))
          values.push_back(t.number == 7 ? static_cast<int32_t>(v) : static_cast<int64_t>(v));
      } else if (t.number == 4 && t.wire_type == 2 && t.payload.size() % 4 == 0) {
        for (size_t i = 0; i < t.payload.size(); i += 4) {
          uint32_t u = 0;
          for (int b = 3; b >= 0; --b) u = (u << 8) | static_cast<uint8_t>(t.payload[i + b]);
          values.push_back(static_cast<int32_t>(u));
        }
      }
    });
  });
  return values;
}

std::string NodeNameOf(const std::string& tensor_name) {
  std::string name = tensor_name;
  if (!name.empty() && name[0] == '^') name.erase(0, 1);
  const size_t colon = name.rfind(':');
  if (colon != std::string::npos) name.resize(colon);
  return name;
}

// The static shape of a graph tensor: its node's recorded output shape, else (for the
// Fill that tf.zeros builds) the constant shape it is filled to.
std::vector<int64_t> StaticShapeOf(const std::map<std::string, NodeInfo>& nodes,
                                   const std::string& tensor_name) {
  auto it = nodes.find(NodeNameOf(tensor_name));
  if (it == nodes.end()) return {};
  const NodeInfo& node = it->second;
  auto shapes = node.attrs.find("_output_shapes");
  if (shapes != node.attrs.end()) {
    std::vector<int64_t> shape = ShapeOfAttr(shapes->second);
    if (!shape.empty()) return shape;
  }
  if (node.op == "Fill" && !node.inputs.empty()) {
    auto dims = nodes.find(NodeNameOf(node.inputs[0]));
    if (dims != nodes.end() && dims->second.op == "Const") {
      auto value = dims->second.attrs.find("value");
      if (value != dims->second.attrs.end()) return IntsOfTensorAttr(value->second);
    }
  }
  return {};
}

}  // namespace

GeneratorBundleContents ParseGeneratorBundle(std::string_view bytes, const std::string& what,
                                             int* extra_checkpoints) {
  MELODY_REQUIRE(!bytes.empty()) << what << ": empty file, not a generator bundle (.mag)";
  // An HTML error page saved under the bundle's name is the most common bad download.
  const std::string_view head = bytes.substr(0, 64);
  MELODY_REQUIRE(head.find("<!DOCTYPE") == std::string_view::npos &&
                 head.find("<html") == std::string_view::npos &&
                 head.find("<HTML") == std::string_view::npos)
      << what << ": this is an HTML page, not a generator bundle (.mag); the download "
      << "probably failed";
  magenta::GeneratorBundle proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    MELODY_FAIL() << what << ": not a generator bundle (.mag): the " << bytes.size()
                  << " bytes do not parse as a magenta.GeneratorBundle (truncated download "
                  << "or another kind of file?)";
  MELODY_REQUIRE(!proto.generator_details().id().empty())
      << what << ": not a usable generator bundle: no generator_details.id";
  MELODY_REQUIRE(proto.checkpoint_file_size() >= 1)
      << what << ": generator bundle '" << proto.generator_details().id()
      << "' holds no checkpoint (checkpoint_file is empty)";
  MELODY_REQUIRE(!proto.checkpoint_file(0).empty())
      << what << ": generator bundle '" << proto.generator_details().id()
      << "' holds an empty checkpoint";
  if (extra_checkpoints) *extra_checkpoints = proto.checkpoint_file_size() - 1;

  GeneratorBundleContents out;
  out.generator_id = proto.generator_details().id();
  out.generator_description = proto.generator_details().description();
  if (proto.has_bundle_details()) out.bundle_description = proto.bundle_details().description();
  out.checkpoint_v1 = proto.checkpoint_file(0);
  out.metagraph = proto.metagraph_file();
  // Our record is an unknown field to the generated class: find it on the wire.
  ForEachField(bytes, [&](const WireField& f) {
    if (f.number == kBundleConfigRecordField && f.wire_type == 2)
      out.config_record = std::string(f.payload);
  });
  return out;
}

GeneratorBundleContents ReadGeneratorBundle(const std::string& path, int* extra_checkpoints) {
  return ParseGeneratorBundle(ReadFileToString(path), path, extra_checkpoints);
}

std::string SerializeGeneratorBundle(const GeneratorBundleContents& bundle) {
  magenta::GeneratorBundle proto;
  proto.mutable_generator_details()->set_id(bundle.generator_id);
  proto.mutable_generator_details()->set_description(bundle.generator_description);
  proto.add_checkpoint_file(bundle.checkpoint_v1);
  proto.set_metagraph_file(bundle.metagraph);
  if (bundle.bundle_description)
    proto.mutable_bundle_details()->set_description(*bundle.bundle_description);
  std::string out = SerializeDeterministic(proto);
  if (bundle.config_record) {
    AppendVarint((static_cast<uint64_t>(kBundleConfigRecordField) << 3) | 2, &out);
    AppendVarint(bundle.config_record->size(), &out);
    out += *bundle.config_record;
  }
  return out;
}

MetagraphFacts InspectMetagraph(std::string_view metagraph) {
  MetagraphFacts facts;
  if (metagraph.empty()) return facts;
  std::map<std::string, std::vector<std::string>> collections;
  std::map<std::string, NodeInfo> nodes;
  bool ok = ForEachField(metagraph, [&](const WireField& f) {
    if (f.wire_type != 2) return;
    if (f.number == 1) {  // MetaInfoDef
      ForEachField(f.payload, [&](const WireField& m) {
        if (m.number == 5 && m.wire_type == 2) facts.tensorflow_version = std::string(m.payload);
      });
    } else if (f.number == 4) {  // collection_def map entry
      std::string key;
      std::vector<std::string> names;
      ForEachField(f.payload, [&](const WireField& e) {
        if (e.number == 1 && e.wire_type == 2) key = std::string(e.payload);
        if (e.number == 2 && e.wire_type == 2) {
          ForEachField(e.payload, [&](const WireField& c) {  // CollectionDef.node_list
            if (c.number != 1 || c.wire_type != 2) return;
            ForEachField(c.payload, [&](const WireField& v) {
              if (v.number == 1 && v.wire_type == 2) names.emplace_back(v.payload);
            });
          });
        }
      });
      collections[key] = names;
    } else if (f.number == 2) {  // GraphDef
      ForEachField(f.payload, [&](const WireField& g) {
        if (g.number != 1 || g.wire_type != 2) return;
        std::string name;
        NodeInfo node;
        ForEachField(g.payload, [&](const WireField& n) {
          if (n.wire_type != 2) return;
          if (n.number == 1) name = std::string(n.payload);
          if (n.number == 2) node.op = std::string(n.payload);
          if (n.number == 3) node.inputs.emplace_back(n.payload);
          if (n.number == 5) {
            std::string attr;
            std::string_view value;
            ForEachField(n.payload, [&](const WireField& a) {
              if (a.number == 1 && a.wire_type == 2) attr = std::string(a.payload);
              if (a.number == 2 && a.wire_type == 2) value = a.payload;
            });
            node.attrs[attr] = value;
          }
        });
        nodes[name] = std::move(node);
      });
    }
  });
  if (!ok || nodes.empty()) return facts;
  facts.parsed = true;
  facts.has_temperature = !collections["temperature"].empty();
  const auto& inputs = collections["inputs"];
  if (!inputs.empty()) {
    auto it = nodes.find(NodeNameOf(inputs[0]));
    if (it != nodes.end()) {
      auto shape_attr = it->second.attrs.find("shape");
      std::vector<int64_t> shape = shape_attr != it->second.attrs.end()
                                       ? ShapeOfAttr(shape_attr->second)
                                       : StaticShapeOf(nodes, inputs[0]);
      if (shape.size() == 3) {
        if (shape[0] > 0) facts.batch_size = shape[0];
        if (shape[2] > 0) facts.input_size = shape[2];
      }
    }
  }
  for (const std::string& name : collections["initial_state"])
    facts.initial_state_shapes.push_back(StaticShapeOf(nodes, name));
  return facts;
}

std::optional<int> AttnLengthFromMetagraph(const MetagraphFacts& facts, int layer0_size) {
  if (facts.initial_state_shapes.size() < 4 || layer0_size <= 0) return std::nullopt;
  const std::vector<int64_t>& window = facts.initial_state_shapes[3];
  if (window.size() != 2 || window[1] <= 0 || window[1] % layer0_size != 0) return std::nullopt;
  return static_cast<int>(window[1] / layer0_size);
}

}  // namespace melody
