#include "data/sequence_example_io.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"

namespace melody {
namespace {

// Wire-format helpers (length-delimited fields only; every tag here fits one byte).
constexpr char kTagField1Bytes = 0x0A;  // field 1, length-delimited
constexpr char kTagField2Bytes = 0x12;  // field 2, length-delimited
constexpr char kTagField3Bytes = 0x1A;  // field 3, length-delimited

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Size of a length-delimited field (one-byte tag) holding `payload` bytes.
size_t FieldSize(size_t payload) { return 1 + VarintSize(payload) + payload; }

// Writes into a buffer sized in advance (the exact size is computed first).
class WireWriter {
 public:
  explicit WireWriter(char* at) : at_(at) {}
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *at_++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *at_++ = static_cast<char>(v);
  }
  // Tag and length of a length-delimited field holding `payload` bytes.
  void FieldHeader(char tag, size_t payload) {
    *at_++ = tag;
    Varint(payload);
  }
  void Bytes(const std::string& bytes) {
    std::memcpy(at_, bytes.data(), bytes.size());
    at_ += bytes.size();
  }
  void Floats(const float* values, size_t count) {
    if (LittleEndianHost()) {
      std::memcpy(at_, values, 4 * count);
    } else {
      for (size_t i = 0; i < count; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &values[i], 4);
        for (int b = 0; b < 4; ++b) at_[4 * i + b] = static_cast<char>(bits >> (8 * b));
      }
    }
    at_ += 4 * count;
  }
  const char* position() const { return at_; }

 private:
  static bool LittleEndianHost() {
    const uint16_t probe = 1;
    unsigned char first;
    std::memcpy(&first, &probe, 1);
    return first == 1;
  }
  char* at_;
};

}  // namespace

tensorflow::SequenceExample MakeSequenceExample(const EncodedMelody& melody) {
  tensorflow::SequenceExample example;
  auto* lists = example.mutable_feature_lists()->mutable_feature_list();
  tensorflow::FeatureList& inputs = (*lists)["inputs"];
  tensorflow::FeatureList& labels = (*lists)["labels"];
  const size_t width = static_cast<size_t>(melody.input_size);
  for (size_t i = 0; i < melody.num_steps(); ++i) {
    auto* values = inputs.add_feature()->mutable_float_list()->mutable_value();
    values->Add(melody.inputs.begin() + i * width, melody.inputs.begin() + (i + 1) * width);
    labels.add_feature()->mutable_int64_list()->add_value(melody.labels[i]);
  }
  return example;
}

std::string SerializeSequenceExample(const EncodedMelody& melody) {
  const size_t steps = melody.num_steps();
  const size_t width = static_cast<size_t>(melody.input_size);
  MELODY_REQUIRE(melody.inputs.size() == steps * width)
      << "encoded melody has " << melody.inputs.size() << " input values for " << steps
      << " steps of width " << width;

  // Sizes from the inside out. Feature{float_list{value packed}}.
  const size_t float_list = width ? FieldSize(4 * width) : 0;
  const size_t input_feature = FieldSize(float_list);
  const size_t inputs_list = steps * FieldSize(input_feature);
  size_t labels_list = 0;
  for (int64_t label : melody.labels) {
    const size_t packed = VarintSize(static_cast<uint64_t>(label));
    labels_list += FieldSize(FieldSize(FieldSize(packed)));
  }
  static const std::string kInputs = "inputs", kLabels = "labels";
  const size_t inputs_entry = FieldSize(kInputs.size()) + FieldSize(inputs_list);
  const size_t labels_entry = FieldSize(kLabels.size()) + FieldSize(labels_list);
  const size_t feature_lists = FieldSize(inputs_entry) + FieldSize(labels_entry);

  // Written into a per-thread buffer that keeps its size between calls, then copied
  // once into the result: a string of the final size would be zero-filled first, which
  // for the hundreds of megabytes a dataset run writes costs as much as the copy.
  const size_t total = FieldSize(feature_lists);
  thread_local std::vector<char> buffer;
  if (buffer.size() < total) buffer.resize(total);
  WireWriter w(buffer.data());
  w.FieldHeader(kTagField2Bytes, feature_lists);  // SequenceExample.feature_lists

  w.FieldHeader(kTagField1Bytes, inputs_entry);    // FeatureLists.feature_list entry
  w.FieldHeader(kTagField1Bytes, kInputs.size());  // key
  w.Bytes(kInputs);
  w.FieldHeader(kTagField2Bytes, inputs_list);  // value: FeatureList
  for (size_t i = 0; i < steps; ++i) {
    w.FieldHeader(kTagField1Bytes, input_feature);  // FeatureList.feature
    w.FieldHeader(kTagField2Bytes, float_list);     // Feature.float_list
    if (width) {
      w.FieldHeader(kTagField1Bytes, 4 * width);  // FloatList.value (packed)
      w.Floats(melody.inputs.data() + i * width, width);
    }
  }

  w.FieldHeader(kTagField1Bytes, labels_entry);
  w.FieldHeader(kTagField1Bytes, kLabels.size());
  w.Bytes(kLabels);
  w.FieldHeader(kTagField2Bytes, labels_list);
  for (int64_t label : melody.labels) {
    const size_t packed = VarintSize(static_cast<uint64_t>(label));
    w.FieldHeader(kTagField1Bytes, FieldSize(FieldSize(packed)));  // feature
    w.FieldHeader(kTagField3Bytes, FieldSize(packed));  // Feature.int64_list
    w.FieldHeader(kTagField1Bytes, packed);             // Int64List.value (packed)
    w.Varint(static_cast<uint64_t>(label));
  }
  MELODY_REQUIRE(w.position() == buffer.data() + total)
      << "SequenceExample size mismatch (internal error)";
  return std::string(buffer.data(), total);
}

EncodedMelody ParseSequenceExample(std::string_view bytes, int expected_input_size,
                                   const std::string& what) {
  tensorflow::SequenceExample example;
  ParseProtoOrThrow(bytes, &example, what);
  const auto& lists = example.feature_lists().feature_list();
  auto inputs_it = lists.find("inputs");
  auto labels_it = lists.find("labels");
  MELODY_REQUIRE(inputs_it != lists.end() && labels_it != lists.end())
      << what << ": SequenceExample lacks the \"inputs\" or \"labels\" feature list";
  const auto& inputs = inputs_it->second.feature();
  const auto& labels = labels_it->second.feature();
  MELODY_REQUIRE(inputs.size() == labels.size())
      << what << ": " << inputs.size() << " input steps but " << labels.size() << " labels";

  EncodedMelody melody;
  melody.input_size = expected_input_size;
  melody.inputs.reserve(static_cast<size_t>(inputs.size()) * expected_input_size);
  melody.labels.reserve(labels.size());
  for (int i = 0; i < inputs.size(); ++i) {
    const auto& values = inputs[i].float_list().value();
    MELODY_REQUIRE(values.size() == expected_input_size)
        << what << ": step " << i << " has " << values.size()
        << " input values but the configuration's input size is " << expected_input_size;
    melody.inputs.insert(melody.inputs.end(), values.begin(), values.end());
    const auto& label = labels[i].int64_list().value();
    MELODY_REQUIRE(label.size() == 1)
        << what << ": step " << i << " has " << label.size() << " label values, expected 1";
    melody.labels.push_back(label[0]);
  }
  return melody;
}

std::vector<EncodedMelody> ReadSequenceExampleFile(const std::string& path,
                                                   int expected_input_size) {
  std::vector<EncodedMelody> out;
  ForEachTFRecord(path, [&](const std::string& record, uint64_t index) {
    out.push_back(ParseSequenceExample(record, expected_input_size,
                                       path + ": record " + std::to_string(index)));
    return true;
  });
  return out;
}

}  // namespace melody
