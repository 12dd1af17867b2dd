#include "core/tf_checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "checkpoint.pb.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/sstable.h"
#include "core/temp_files.h"
#include "tensor.pb.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "checkpoint tensors are little-endian; a big-endian host needs byte swapping");

namespace melody {
namespace {

// TF_CHECKPOINT_VERSION: what TF writes as VersionDef.producer, and the newest min_consumer
// a reader of this format accepts.
constexpr int kCheckpointVersion = 1;

// ---- dtypes and shapes ----------------------------------------------------------------

tensorflow::DataType ToTfDataType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return tensorflow::DT_FLOAT;
    case DType::kFloat64: return tensorflow::DT_DOUBLE;
    case DType::kInt32: return tensorflow::DT_INT32;
    case DType::kInt64: return tensorflow::DT_INT64;
  }
  MELODY_FAIL() << "unknown dtype " << static_cast<int>(dtype);
}

std::string TfDataTypeName(int value) {
  const std::string name = tensorflow::DataType_IsValid(value)
                               ? tensorflow::DataType_Name(static_cast<tensorflow::DataType>(value))
                               : std::string();
  return name.empty() ? "DataType " + std::to_string(value) : name;
}

// The DType of a stored TF dtype; throws naming `what` for types we do not hold.
DType FromTfDataType(int value, const std::string& what) {
  switch (value) {
    case tensorflow::DT_FLOAT: return DType::kFloat32;
    case tensorflow::DT_DOUBLE: return DType::kFloat64;
    case tensorflow::DT_INT32: return DType::kInt32;
    case tensorflow::DT_INT64: return DType::kInt64;
    default: break;
  }
  MELODY_FAIL() << what << ": unsupported dtype " << TfDataTypeName(value)
                << " (only DT_FLOAT, DT_DOUBLE, DT_INT32 and DT_INT64 tensors are supported)";
}

void ShapeToProto(const Shape& shape, tensorflow::TensorShapeProto* proto) {
  for (int64_t d : shape) proto->add_dim()->set_size(d);
}

Shape ShapeFromProto(const tensorflow::TensorShapeProto& proto, const std::string& what) {
  MELODY_REQUIRE(!proto.unknown_rank()) << what << ": shape of unknown rank";
  Shape shape;
  int64_t numel = 1;
  for (const auto& dim : proto.dim()) {
    MELODY_REQUIRE(dim.size() >= 0) << what << ": unknown or negative dimension " << dim.size();
    // Bounded so that element and byte counts cannot overflow (2^48 elements is far beyond
    // any checkpoint we read).
    MELODY_REQUIRE(dim.size() == 0 || numel <= (int64_t{1} << 48) / dim.size())
        << what << ": implausibly large shape";
    numel *= dim.size();
    shape.push_back(dim.size());
  }
  return shape;
}

Tensor HostTensor(const Tensor& t, const std::string& name) {
  MELODY_REQUIRE(t.defined()) << "checkpoint tensor " << name << " is undefined";
  return t.device().is_cpu() ? t : t.CopyTo(Device::CPU());
}

std::string_view TensorBytes(const Tensor& t) {
  return std::string_view(static_cast<const char*>(t.raw_data()), t.nbytes());
}

// ---- V2 index ------------------------------------------------------------------------------

std::string SerializedHeader() {
  tensorflow::BundleHeaderProto header;
  header.set_num_shards(1);
  header.set_endianness(tensorflow::BundleHeaderProto::LITTLE);
  header.mutable_version()->set_producer(kCheckpointVersion);
  return SerializeDeterministic(header);
}

void CheckHeader(const tensorflow::BundleHeaderProto& header, const std::string& what) {
  MELODY_REQUIRE(header.num_shards() == 1)
      << what << ": " << header.num_shards()
      << " data shards; only single-shard checkpoints (all Magenta writes) are supported";
  MELODY_REQUIRE(header.endianness() == tensorflow::BundleHeaderProto::LITTLE)
      << what << ": big-endian checkpoints are not supported";
  MELODY_REQUIRE(header.version().min_consumer() <= kCheckpointVersion)
      << what << ": written by a newer TF (checkpoint version min_consumer "
      << header.version().min_consumer() << " > " << kCheckpointVersion << ")";
  for (int bad : header.version().bad_consumers())
    MELODY_REQUIRE(bad != kCheckpointVersion)
        << what << ": checkpoint disallows readers of version " << kCheckpointVersion;
}

struct IndexEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t offset = 0, size = 0;
  uint32_t masked_crc = 0;
};

// Parses and checks the .index of `prefix`: header, then every entry's dtype, shape, shard
// and size (size must equal element count x dtype width).
std::vector<IndexEntry> ReadIndex(const std::string& prefix) {
  const std::string path = CheckpointIndexPath(prefix);
  const std::string bytes = ReadFileToString(path);
  const auto table = ParseSortedTable(bytes, path);
  MELODY_REQUIRE(!table.empty() && table[0].first.empty())
      << path << ": no checkpoint header (the first key must be the empty string)";
  tensorflow::BundleHeaderProto header;
  ParseProtoOrThrow(table[0].second, &header, path + ": header");
  CheckHeader(header, path);

  std::vector<IndexEntry> entries;
  for (size_t i = 1; i < table.size(); ++i) {
    const std::string& name = table[i].first;
    const std::string what = "checkpoint " + prefix + ": tensor " + name;
    tensorflow::BundleEntryProto proto;
    ParseProtoOrThrow(table[i].second, &proto, what);
    IndexEntry e;
    e.name = name;
    e.dtype = FromTfDataType(proto.dtype(), what);
    e.shape = ShapeFromProto(proto.shape(), what);
    MELODY_REQUIRE(proto.slices_size() == 0)
        << what << ": partitioned (sliced) variables are not supported";
    MELODY_REQUIRE(proto.shard_id() == 0)
        << what << ": shard " << proto.shard_id() << " does not exist (single-shard checkpoint)";
    MELODY_REQUIRE(proto.offset() >= 0 && proto.size() >= 0) << what << ": negative offset or size";
    const uint64_t expected = static_cast<uint64_t>(ShapeNumel(e.shape)) * DTypeSize(e.dtype);
    MELODY_REQUIRE(static_cast<uint64_t>(proto.size()) == expected)
        << what << ": stored size " << proto.size() << " bytes, but " << DTypeName(e.dtype) << " "
        << ShapeToString(e.shape) << " needs " << expected;
    e.offset = static_cast<uint64_t>(proto.offset());
    e.size = expected;
    e.masked_crc = proto.crc32c();
    entries.push_back(std::move(e));
  }
  return entries;
}

// ---- Writing files safely ----------------------------------------------------------------

// A file written under a temporary name beside its final path; WriteAndSync() makes the
// bytes durable, Rename() moves it into place. The temporary is removed unless renamed, and
// is registered with core/temp_files so that a signal handler can remove it too. (Unlike
// AtomicFileWriter::Commit, syncing and renaming are separate steps, so that both files of
// a checkpoint are durable before either is renamed.)
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {
    static std::atomic<unsigned long> counter{0};
    temp_ = TempFileName(path_, ::getpid(), counter++);
    registration_ = RegisterTempFile(temp_);  // before it exists: no window for a signal
  }
  ~TempFile() {
    if (file_) std::fclose(file_);
    if (!renamed_) std::remove(temp_.c_str());
    UnregisterTempFile(registration_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void WriteAndSync(std::string_view bytes) {
    file_ = std::fopen(temp_.c_str(), "wb");
    if (!file_)
      MELODY_FAIL() << path_ << ": cannot open for writing (" << temp_
                    << "): " << std::strerror(errno);
    // The lock tells RemoveStaleTempFiles that a live writer owns this file.
    (void)::flock(fileno(file_), LOCK_EX | LOCK_NB);
    bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size();
    ok = ok && std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
    const int err = errno;
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok) MELODY_FAIL() << path_ << ": write error (" << temp_ << "): " << std::strerror(err);
  }
  void Rename() {
    if (std::rename(temp_.c_str(), path_.c_str()) != 0)
      MELODY_FAIL() << path_
                    << ": cannot rename temporary file into place: " << std::strerror(errno);
    renamed_ = true;
  }

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool renamed_ = false;
  int registration_ = -1;
};

// Makes completed renames in `dir` durable; best effort (some file systems refuse).
void SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// ---- V1 -----------------------------------------------------------------------------------

// Slice key of a whole tensor (formats.md §8.3, TF's "ordered code"): number 0, the escaped
// name and its terminator, the rank, then (start 0, length -1 = full) per dimension.
std::string V1SliceKey(const std::string& name, size_t rank) {
  std::string key(1, '\0');
  for (char c : name) {
    if (c == '\0') {
      key.append("\x00\xff", 2);
    } else if (c == '\xff') {
      key.append("\xff\x00", 2);
    } else {
      key.push_back(c);
    }
  }
  key.append("\x00\x01", 2);
  // Unsigned number: a length byte, then big-endian bytes without leading zeros.
  std::string digits;
  for (uint64_t r = rank; r > 0; r >>= 8)
    digits.insert(digits.begin(), static_cast<char>(r & 0xff));
  key.push_back(static_cast<char>(digits.size()));
  key.append(digits);
  // Signed numbers in [-64, 63] take one byte 0x80 + n: start 0 -> 0x80, length -1 -> 0x7f.
  for (size_t d = 0; d < rank; ++d) key.append("\x80\x7f", 2);
  return key;
}

void AddFullSlice(size_t rank, tensorflow::TensorSliceProto* slice) {
  for (size_t d = 0; d < rank; ++d) slice->add_extent();
}

// True when `slice` covers the whole tensor: no extents, or one per dimension each
// starting at 0 with no length (or the full length).
bool IsFullSlice(const tensorflow::TensorSliceProto& slice, const Shape& shape) {
  if (slice.extent_size() == 0) return true;
  if (static_cast<size_t>(slice.extent_size()) != shape.size()) return false;
  for (size_t d = 0; d < shape.size(); ++d) {
    const auto& e = slice.extent(static_cast<int>(d));
    if (e.start() != 0) return false;
    if (e.has_length_case() == tensorflow::TensorSliceProto::Extent::kLength && e.length() != -1 &&
        e.length() != shape[d])
      return false;
  }
  return true;
}

template <typename T, typename Field>
void AssignRepeated(const Tensor& t, Field* field) {
  const T* p = static_cast<const T*>(t.raw_data());
  field->Reserve(static_cast<int>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) field->Add(p[i]);
}

// TF's V1 writer stores values in the dtype's typed repeated field, not tensor_content.
void FillTensorProto(const Tensor& t, tensorflow::TensorProto* proto) {
  switch (t.dtype()) {
    case DType::kFloat32: AssignRepeated<float>(t, proto->mutable_float_val()); break;
    case DType::kFloat64: AssignRepeated<double>(t, proto->mutable_double_val()); break;
    case DType::kInt32: AssignRepeated<int32_t>(t, proto->mutable_int_val()); break;
    case DType::kInt64: AssignRepeated<int64_t>(t, proto->mutable_int64_val()); break;
  }
}

// Copies a typed repeated field's values into *out; throws naming `what` on a count mismatch.
template <typename Field>
void CopyRepeated(const Field& field, Tensor* out, const std::string& what) {
  MELODY_REQUIRE(field.size() == out->numel())
      << what << ": " << field.size() << " values stored, shape " << ShapeToString(out->shape())
      << " needs " << out->numel();
  if (field.size() > 0) std::memcpy(out->raw_data(), field.data(), out->nbytes());
}

// Values of a V1 data record: the dtype's typed field, or raw little-endian tensor_content.
void CopyTensorProtoValues(const tensorflow::TensorProto& proto, Tensor* out,
                           const std::string& what) {
  if (!proto.tensor_content().empty()) {
    MELODY_REQUIRE(proto.tensor_content().size() == out->nbytes())
        << what << ": tensor_content has " << proto.tensor_content().size() << " bytes, "
        << DTypeName(out->dtype()) << " " << ShapeToString(out->shape()) << " needs "
        << out->nbytes();
    std::memcpy(out->raw_data(), proto.tensor_content().data(), out->nbytes());
    return;
  }
  switch (out->dtype()) {
    case DType::kFloat32: return CopyRepeated(proto.float_val(), out, what);
    case DType::kFloat64: return CopyRepeated(proto.double_val(), out, what);
    case DType::kInt32: return CopyRepeated(proto.int_val(), out, what);
    case DType::kInt64: return CopyRepeated(proto.int64_val(), out, what);
  }
}

// ---- State file text format ----------------------------------------------------------------

// A tokenizer for the subset of protobuf text format a CheckpointState can use.
class TextFormatReader {
 public:
  explicit TextFormatReader(std::string_view text) : text_(text) {}

  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  bool TryConsume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!TryConsume(c)) Fail(std::string("expected '") + c + "'");
  }
  std::string Identifier() {
    SkipSpace();
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      ++pos_;
    if (pos_ == start || std::isdigit(static_cast<unsigned char>(text_[start])))
      Fail("expected a field name");
    return std::string(text_.substr(start, pos_ - start));
  }
  bool AtString() {
    SkipSpace();
    return pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'');
  }
  // One or more adjacent quoted strings, concatenated, with C escapes decoded.
  std::string String() {
    if (!AtString()) Fail("expected a quoted string");
    std::string out;
    while (AtString()) out += OneString();
    return out;
  }
  // A number (or other bare scalar such as inf / true); the caller decides what it means.
  std::string Scalar() {
    SkipSpace();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   std::strchr("+-._", text_[pos_])))
      ++pos_;
    if (pos_ == start) Fail("expected a value");
    return std::string(text_.substr(start, pos_ - start));
  }
  double Double() {
    const std::string token = Scalar();
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    if (end != token.c_str() + token.size()) Fail("\"" + token + "\" is not a number");
    return v;
  }
  // Skips what follows an unknown field's name: `: value` or a nested message (whose
  // colon is optional), then an optional separator.
  void SkipFieldValue() {
    if (!TryConsume(':') && !Peek('{') && !Peek('<')) Fail("expected ':'");
    SkipValue();
    SkipSeparator();
  }
  void SkipSeparator() {
    if (!TryConsume(',')) TryConsume(';');
  }
  // Skips one value: a scalar, string(s), list or nested message.
  void SkipValue() {
    if (AtString()) {
      String();
    } else if (TryConsume('[')) {
      if (!TryConsume(']')) {
        do SkipValue();
        while (TryConsume(','));
        Expect(']');
      }
    } else if (TryConsume('{')) {
      SkipMessageBody('}');
    } else if (TryConsume('<')) {
      SkipMessageBody('>');
    } else {
      Scalar();
    }
  }
  [[noreturn]] void Fail(const std::string& message) const {
    size_t line = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) line += text_[i] == '\n';
    throw Error("line " + std::to_string(line) + ": " + message);
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  void SkipMessageBody(char close) {
    while (!TryConsume(close)) {
      if (AtEnd()) Fail("unterminated message");
      Identifier();
      SkipFieldValue();
    }
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  std::string OneString() {
    const char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') Fail("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) Fail("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case '\\':
        case '\'':
        case '"':
        case '?': out.push_back(e); break;
        case 'x':
        case 'X': {
          int value = 0, digits = 0;
          while (digits < 2 && pos_ < text_.size() && HexValue(text_[pos_]) >= 0)
            value = value * 16 + HexValue(text_[pos_++]), ++digits;
          if (digits == 0) Fail("\\x escape without hex digits");
          out.push_back(static_cast<char>(value));
          break;
        }
        case 'u':
        case 'U': {
          const int want = e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int i = 0; i < want; ++i) {
            if (pos_ >= text_.size() || HexValue(text_[pos_]) < 0)
              Fail(std::string("\\") + e + " escape needs " + std::to_string(want) + " hex digits");
            cp = cp * 16 + static_cast<uint32_t>(HexValue(text_[pos_++]));
          }
          if (cp > 0x10ffff) Fail("\\U escape beyond U+10FFFF");
          AppendUtf8(cp, &out);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int value = e - '0', digits = 1;
            while (digits < 3 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7')
              value = value * 8 + (text_[pos_++] - '0'), ++digits;
            if (value > 255) Fail("octal escape beyond \\377");
            out.push_back(static_cast<char>(value));
          } else {
            Fail(std::string("unknown escape \\") + e);
          }
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Calls read() once per value of a field that may be given as `f: v` or `f: [v, ...]`.
template <typename Fn>
void ReadRepeatedValues(TextFormatReader* in, Fn read) {
  if (in->TryConsume('[')) {
    if (in->TryConsume(']')) return;
    do read();
    while (in->TryConsume(','));
    in->Expect(']');
  } else {
    read();
  }
}

CheckpointStateFile ParseCheckpointStateText(std::string_view text) {
  TextFormatReader in(text);
  CheckpointStateFile state;
  while (!in.AtEnd()) {
    const std::string field = in.Identifier();
    if (field != "model_checkpoint_path" && field != "all_model_checkpoint_paths" &&
        field != "all_model_checkpoint_timestamps" && field != "last_preserved_timestamp") {
      in.SkipFieldValue();  // unknown field: tolerated (formats.md §8.1)
      continue;
    }
    in.Expect(':');
    if (field == "model_checkpoint_path") {
      state.model_checkpoint_path = in.String();
    } else if (field == "all_model_checkpoint_paths") {
      ReadRepeatedValues(&in, [&] { state.all_model_checkpoint_paths.push_back(in.String()); });
    } else if (field == "all_model_checkpoint_timestamps") {
      ReadRepeatedValues(&in, [&] { in.Double(); });
    } else {
      in.Double();  // last_preserved_timestamp
    }
    in.SkipSeparator();
  }
  if (state.model_checkpoint_path.empty()) in.Fail("model_checkpoint_path is missing or empty");
  return state;
}

// Protobuf text-format string escaping as TF's Python writer does it: printable ASCII as
// is except quotes and backslash, \n \r \t, every other byte as a 3-digit octal escape.
std::string EscapeText(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 32 && c < 127) {
          out.push_back(ch);
        } else {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        }
    }
  }
  return out;
}

}  // namespace

// ---- V2 public API ---------------------------------------------------------------------------

std::string CheckpointIndexPath(const std::string& prefix) { return prefix + ".index"; }
std::string CheckpointDataPath(const std::string& prefix) {
  return prefix + ".data-00000-of-00001";
}

CheckpointV2Files SerializeCheckpointV2(const TensorMap& tensors) {
  CheckpointV2Files files;
  std::vector<std::pair<std::string, std::string>> entries;
  entries.emplace_back("", SerializedHeader());
  for (const auto& [name, tensor] : tensors) {
    MELODY_REQUIRE(!name.empty()) << "checkpoint tensor names must be non-empty";
    const Tensor host = HostTensor(tensor, name);
    const std::string_view bytes = TensorBytes(host);
    tensorflow::BundleEntryProto entry;
    entry.set_dtype(ToTfDataType(host.dtype()));
    ShapeToProto(host.shape(), entry.mutable_shape());  // present even for scalars
    entry.set_offset(static_cast<int64_t>(files.data.size()));
    entry.set_size(static_cast<int64_t>(bytes.size()));
    entry.set_crc32c(MaskCrc(Crc32c(bytes)));
    files.data.append(bytes);
    entries.emplace_back(name, SerializeDeterministic(entry));
  }
  files.index = BuildSortedTable(entries);
  return files;
}

void WriteCheckpointV2(const std::string& prefix, const TensorMap& tensors) {
  const CheckpointV2Files files = SerializeCheckpointV2(tensors);
  // Both files complete and durable under temporary names before either is renamed, so a
  // failure before the renames leaves any checkpoint already at the prefix untouched.
  TempFile data(CheckpointDataPath(prefix));
  TempFile index(CheckpointIndexPath(prefix));
  data.WriteAndSync(files.data);
  index.WriteAndSync(files.index);
  data.Rename();  // readers look for the index: it goes last
  index.Rename();
  SyncDirectory(Dirname(prefix));
}

TensorMap ReadCheckpointV2(const std::string& prefix) {
  const std::vector<IndexEntry> entries = ReadIndex(prefix);
  const std::string data_path = CheckpointDataPath(prefix);
  std::string data;
  try {
    data = ReadFileToString(data_path);
  } catch (const Error& e) {
    MELODY_FAIL() << "checkpoint " << prefix << ": cannot read its data file " << data_path << " ("
                  << e.what() << ")";
  }
  TensorMap tensors;
  for (const IndexEntry& e : entries) {
    const std::string what = "checkpoint " + prefix + ": tensor " + e.name;
    MELODY_REQUIRE(e.offset <= data.size() && e.size <= data.size() - e.offset)
        << what << ": bytes [" << e.offset << ", " << e.offset + e.size << ") lie past the end of "
        << data_path << " (" << data.size() << " bytes)";
    const std::string_view bytes(data.data() + e.offset, e.size);
    const uint32_t crc = MaskCrc(Crc32c(bytes));
    MELODY_REQUIRE(crc == e.masked_crc)
        << what << ": data CRC mismatch (stored 0x" << std::hex << e.masked_crc << ", computed 0x"
        << crc << ") in " << data_path;
    Tensor t(e.shape, e.dtype);
    if (e.size) std::memcpy(t.raw_data(), bytes.data(), e.size);
    tensors.emplace(e.name, std::move(t));
  }
  return tensors;
}

std::map<std::string, std::pair<DType, Shape>> ListCheckpointV2(const std::string& prefix) {
  std::map<std::string, std::pair<DType, Shape>> out;
  for (IndexEntry& e : ReadIndex(prefix)) out.emplace(e.name, std::make_pair(e.dtype, e.shape));
  return out;
}

bool CheckpointV2Exists(const std::string& prefix) {
  return PathExists(CheckpointIndexPath(prefix)) && PathExists(CheckpointDataPath(prefix));
}

void DeleteCheckpointFiles(const std::string& prefix) {
  std::vector<std::string> paths = {CheckpointIndexPath(prefix), prefix + ".meta"};
  const std::string dir = Dirname(prefix);
  const std::string data_start = Basename(prefix) + ".data-";
  if (DIR* d = ::opendir(dir.empty() ? "." : dir.c_str())) {
    while (dirent* entry = ::readdir(d)) {
      const std::string name = entry->d_name;
      if (name.compare(0, data_start.size(), data_start) == 0 &&
          name.find("-of-", data_start.size()) != std::string::npos)
        paths.push_back(JoinPath(dir, name));
    }
    ::closedir(d);
  }
  for (const std::string& path : paths)
    if (std::remove(path.c_str()) != 0 && errno != ENOENT)
      MELODY_FAIL() << path << ": cannot delete checkpoint file: " << std::strerror(errno);
}

// ---- V1 public API ---------------------------------------------------------------------------

std::string SerializeCheckpointV1(const TensorMap& tensors) {
  tensorflow::SavedTensorSlices meta_record;
  tensorflow::SavedTensorSliceMeta* meta = meta_record.mutable_meta();
  std::vector<std::pair<std::string, std::string>> entries;
  entries.emplace_back("", "");  // filled in below, once meta lists every tensor
  for (const auto& [name, tensor] : tensors) {
    const Tensor host = HostTensor(tensor, name);
    tensorflow::SavedSliceMeta* m = meta->add_tensor();
    m->set_name(name);
    ShapeToProto(host.shape(), m->mutable_shape());
    m->set_type(ToTfDataType(host.dtype()));
    AddFullSlice(host.shape().size(), m->add_slice());

    tensorflow::SavedTensorSlices record;
    tensorflow::SavedSlice* slice = record.mutable_data();
    slice->set_name(name);
    AddFullSlice(host.shape().size(), slice->mutable_slice());
    FillTensorProto(host, slice->mutable_data());
    entries.emplace_back(V1SliceKey(name, host.shape().size()), SerializeDeterministic(record));
  }
  meta->mutable_versions()->set_producer(kCheckpointVersion);
  entries[0].second = SerializeDeterministic(meta_record);
  return BuildSortedTable(entries);
}

TensorMap ParseCheckpointV1(std::string_view bytes, const std::string& what) {
  const auto table = ParseSortedTable(bytes, what);
  MELODY_REQUIRE(!table.empty() && table[0].first.empty())
      << what << ": no V1 checkpoint metadata (the first key must be the empty string)";
  tensorflow::SavedTensorSlices meta_record;
  ParseProtoOrThrow(table[0].second, &meta_record, what + ": metadata");
  MELODY_REQUIRE(meta_record.has_meta()) << what << ": metadata record has no meta";
  const auto& versions = meta_record.meta().versions();
  MELODY_REQUIRE(versions.min_consumer() <= kCheckpointVersion)
      << what << ": written by a newer TF (checkpoint version min_consumer "
      << versions.min_consumer() << " > " << kCheckpointVersion << ")";

  TensorMap tensors;
  std::map<std::string, bool> filled;
  for (const auto& m : meta_record.meta().tensor()) {
    const std::string tw = what + ": tensor " + m.name();
    const DType dtype = FromTfDataType(m.type(), tw);
    const Shape shape = ShapeFromProto(m.shape(), tw);
    // Every value takes at least one byte of the image: reject sizes a corrupt meta invents.
    MELODY_REQUIRE(static_cast<uint64_t>(ShapeNumel(shape)) <= bytes.size())
        << tw << ": shape " << ShapeToString(shape) << " does not fit in a " << bytes.size()
        << "-byte checkpoint";
    MELODY_REQUIRE(m.slice_size() == 1 && IsFullSlice(m.slice(0), shape))
        << tw << ": partitioned (sliced) variables are not supported";
    MELODY_REQUIRE(tensors.emplace(m.name(), Tensor(shape, dtype)).second)
        << tw << ": listed twice in the metadata";
    filled[m.name()] = false;
  }
  for (size_t i = 1; i < table.size(); ++i) {
    tensorflow::SavedTensorSlices record;
    ParseProtoOrThrow(table[i].second, &record, what + ": record " + std::to_string(i));
    MELODY_REQUIRE(record.has_data()) << what << ": record " << i << " holds no tensor data";
    const tensorflow::SavedSlice& slice = record.data();
    const std::string tw = what + ": tensor " + slice.name();
    auto it = tensors.find(slice.name());
    MELODY_REQUIRE(it != tensors.end()) << tw << ": data record without metadata";
    MELODY_REQUIRE(!filled[slice.name()]) << tw << ": more than one data record";
    MELODY_REQUIRE(IsFullSlice(slice.slice(), it->second.shape()))
        << tw << ": partitioned (sliced) variables are not supported";
    const auto& proto = slice.data();
    MELODY_REQUIRE(proto.dtype() == tensorflow::DT_INVALID ||
                   proto.dtype() == ToTfDataType(it->second.dtype()))
        << tw << ": data record dtype " << TfDataTypeName(proto.dtype())
        << " differs from the metadata's " << DTypeName(it->second.dtype());
    CopyTensorProtoValues(proto, &it->second, tw);
    filled[slice.name()] = true;
  }
  for (const auto& [name, done] : filled)
    MELODY_REQUIRE(done) << what << ": tensor " << name << " has no data record";
  return tensors;
}

// ---- State file public API -------------------------------------------------------------------

CheckpointStateRead ReadCheckpointStateFile(const std::string& dir) {
  CheckpointStateRead result;
  const std::string path = JoinPath(dir, "checkpoint");
  if (!PathExists(path)) return result;  // kMissing
  try {
    result.state = ParseCheckpointStateText(ReadFileToString(path));
    result.status = CheckpointStateRead::Status::kOk;
  } catch (const Error& e) {
    result.status = CheckpointStateRead::Status::kUnparsable;
    result.error = path + ": not a valid checkpoint state file: " + e.what();
  }
  return result;
}

std::string FormatCheckpointState(const CheckpointStateFile& state) {
  std::string text = "model_checkpoint_path: \"" + EscapeText(state.model_checkpoint_path) + "\"\n";
  for (const std::string& p : state.all_model_checkpoint_paths)
    text += "all_model_checkpoint_paths: \"" + EscapeText(p) + "\"\n";
  return text;
}

void WriteCheckpointStateFile(const std::string& dir, const CheckpointStateFile& state) {
  WriteFileAtomically(JoinPath(dir, "checkpoint"), FormatCheckpointState(state));
}

std::string ResolveCheckpointPath(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return JoinPath(dir, path);
}

std::string LatestCheckpoint(const std::string& dir) {
  const CheckpointStateRead read = ReadCheckpointStateFile(dir);
  if (read.status != CheckpointStateRead::Status::kOk) return "";
  const std::string prefix = ResolveCheckpointPath(dir, read.state.model_checkpoint_path);
  return CheckpointV2Exists(prefix) ? prefix : "";
}

}  // namespace melody
