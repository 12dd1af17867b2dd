#include "core/sstable.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/little_endian.h"

namespace melody {
namespace {

constexpr size_t kBlockTrailerSize = 5;    // compression type byte + masked CRC32C
constexpr size_t kFooterHandlesSize = 40;  // two BlockHandles (2 x 2 varint64), zero-padded
constexpr unsigned char kNoCompression = 0;
constexpr unsigned char kSnappyCompression = 1;

// ---- Encoding helpers ---------------------------------------------------------------

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Decodes a varint of at most `max_bytes` bytes at *pos (< limit); false when truncated or
// too long.
bool GetVarint(std::string_view bytes, size_t limit, size_t* pos, int max_bytes, uint64_t* value) {
  uint64_t result = 0;
  for (int i = 0; i < max_bytes && *pos < limit; ++i) {
    const unsigned char byte = static_cast<unsigned char>(bytes[(*pos)++]);
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *value = result;
      return true;
    }
  }
  return false;
}

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;  // without the trailer
};

void PutBlockHandle(std::string* out, const BlockHandle& h) {
  PutVarint64(out, h.offset);
  PutVarint64(out, h.size);
}

// ---- Writing ------------------------------------------------------------------------

// One block under construction: prefix-compressed entries with a restart point every
// `restart_interval` entries, then the restart offsets and their count.
class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval) : restart_interval_(restart_interval) { Reset(); }

  void Reset() {
    buffer_.clear();
    restarts_.assign(1, 0);
    counter_ = 0;
    last_key_.clear();
    empty_ = true;
  }
  bool empty() const { return empty_; }
  // What TF compares with the target block size: entry bytes + restart array + count.
  size_t SizeEstimate() const { return buffer_.size() + 4 * restarts_.size() + 4; }

  void Add(std::string_view key, std::string_view value) {
    size_t shared = 0;
    if (counter_ < restart_interval_) {
      const size_t limit = std::min(last_key_.size(), key.size());
      while (shared < limit && last_key_[shared] == key[shared]) ++shared;
    } else {
      restarts_.push_back(static_cast<uint32_t>(buffer_.size()));
      counter_ = 0;
    }
    PutVarint64(&buffer_, shared);
    PutVarint64(&buffer_, key.size() - shared);
    PutVarint64(&buffer_, value.size());
    buffer_.append(key.data() + shared, key.size() - shared);
    buffer_.append(value.data(), value.size());
    last_key_.assign(key.data(), key.size());
    ++counter_;
    empty_ = false;
  }

  // The finished block contents; the builder must be Reset() before reuse.
  const std::string& Finish() {
    for (uint32_t r : restarts_) PutFixed32(&buffer_, r);
    PutFixed32(&buffer_, static_cast<uint32_t>(restarts_.size()));
    return buffer_;
  }

 private:
  int restart_interval_;
  std::string buffer_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;
  std::string last_key_;
  bool empty_ = true;
};

// Appends `contents` and its trailer (type 0, masked CRC over contents + type) to *file.
BlockHandle AppendRawBlock(std::string* file, const std::string& contents) {
  BlockHandle handle{file->size(), contents.size()};
  file->append(contents);
  const char type = static_cast<char>(kNoCompression);
  const uint32_t crc = Crc32cExtend(Crc32c(contents), &type, 1);
  file->push_back(type);
  PutFixed32(file, MaskCrc(crc));
  return handle;
}

// Index key for a block ending in `last` followed by a block starting with `next`: the
// shortest string >= last and < next that TF's writer picks (formats.md §7).
void ShortenSeparator(std::string* last, std::string_view next) {
  const size_t limit = std::min(last->size(), next.size());
  size_t i = 0;
  while (i < limit && (*last)[i] == next[i]) ++i;
  if (i >= limit) return;  // one is a prefix of the other: keep the full key
  const unsigned char byte = static_cast<unsigned char>((*last)[i]);
  if (byte < 0xff && byte + 1 < static_cast<unsigned char>(next[i])) {
    (*last)[i] = static_cast<char>(byte + 1);
    last->resize(i + 1);
  }
}

// Index key for the final block: the shortest string >= every key of the table.
void ShortSuccessor(std::string* key) {
  for (size_t i = 0; i < key->size(); ++i) {
    const unsigned char byte = static_cast<unsigned char>((*key)[i]);
    if (byte != 0xff) {
      (*key)[i] = static_cast<char>(byte + 1);
      key->resize(i + 1);
      return;
    }
  }
}

class TableBuilder {
 public:
  void Add(const std::string& key, const std::string& value) {
    if (num_entries_ > 0) {
      MELODY_REQUIRE(key.compare(last_key_) > 0)
          << "sorted table: keys must be strictly increasing, got \"" << key << "\" after \""
          << last_key_ << "\"";
      // An entry of at least two target blocks is put in a block of its own.
      if (key.size() + value.size() >= 2 * kSortedTableBlockSize) FlushDataBlock();
    }
    if (pending_index_entry_) {
      ShortenSeparator(&last_key_, key);
      AddIndexEntry();
    }
    last_key_ = key;
    ++num_entries_;
    data_block_.Add(key, value);
    if (data_block_.SizeEstimate() >= kSortedTableBlockSize) FlushDataBlock();
  }

  std::string Finish() {
    FlushDataBlock();
    BlockBuilder metaindex(kSortedTableRestartInterval);  // always empty in TF tables
    const BlockHandle metaindex_handle = AppendRawBlock(&file_, metaindex.Finish());
    if (pending_index_entry_) {
      ShortSuccessor(&last_key_);
      AddIndexEntry();
    }
    const BlockHandle index_handle = AppendRawBlock(&file_, index_block_.Finish());
    std::string footer;
    PutBlockHandle(&footer, metaindex_handle);
    PutBlockHandle(&footer, index_handle);
    footer.resize(kFooterHandlesSize, '\0');
    PutFixed64(&footer, kSortedTableMagic);
    file_.append(footer);
    return std::move(file_);
  }

 private:
  void FlushDataBlock() {
    if (data_block_.empty()) return;
    pending_handle_ = AppendRawBlock(&file_, data_block_.Finish());
    data_block_.Reset();
    pending_index_entry_ = true;
  }
  void AddIndexEntry() {
    std::string handle;
    PutBlockHandle(&handle, pending_handle_);
    index_block_.Add(last_key_, handle);
    pending_index_entry_ = false;
  }

  std::string file_;
  BlockBuilder data_block_{kSortedTableRestartInterval};
  BlockBuilder index_block_{1};  // one restart per entry, as TF's writer does
  std::string last_key_;
  int64_t num_entries_ = 0;
  bool pending_index_entry_ = false;  // a flushed block still waits for its index key
  BlockHandle pending_handle_;
};

// ---- Reading ------------------------------------------------------------------------

class TableReader {
 public:
  TableReader(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}

  std::vector<std::pair<std::string, std::string>> ReadAll() {
    if (bytes_.size() < kSortedTableFooterSize)
      MELODY_FAIL() << At(0) << "file of " << bytes_.size()
                    << " bytes is too short for a sorted table (" << kSortedTableFooterSize
                    << "-byte footer)";
    const size_t footer = bytes_.size() - kSortedTableFooterSize;
    const uint64_t magic = GetFixed64(bytes_.data() + bytes_.size() - 8);
    if (magic != kSortedTableMagic)
      MELODY_FAIL() << At(bytes_.size() - 8) << "bad table magic number 0x" << std::hex << magic
                    << " (not a TF sorted table, or truncated)";
    size_t pos = footer;
    const size_t handles_end = footer + kFooterHandlesSize;
    const BlockHandle metaindex = ReadHandle(bytes_, &pos, handles_end, footer, "footer");
    const BlockHandle index = ReadHandle(bytes_, &pos, handles_end, footer, "footer");
    ReadBlockContents(metaindex, "metaindex block");  // checks its CRC; contents unused
    std::vector<std::pair<std::string, std::string>> index_entries;
    ParseBlock(ReadBlockContents(index, "index block"), index.offset, "index block",
               &index_entries);

    std::vector<std::pair<std::string, std::string>> entries;
    for (size_t b = 0; b < index_entries.size(); ++b) {
      const std::string& handle_bytes = index_entries[b].second;
      size_t hpos = 0;
      const std::string where = "index entry " + std::to_string(b);
      const BlockHandle handle =
          ReadHandle(handle_bytes, &hpos, handle_bytes.size(), index.offset, where);
      const std::string block_name = "data block " + std::to_string(b);
      ParseBlock(ReadBlockContents(handle, block_name), handle.offset, block_name, &entries);
    }
    return entries;
  }

 private:
  // Message prefix naming the table and the byte offset of the problem.
  std::string At(uint64_t offset) const {
    return what_ + ": corrupt sorted table at byte offset " + std::to_string(offset) + ": ";
  }

  BlockHandle ReadHandle(std::string_view src, size_t* pos, size_t limit, uint64_t offset,
                         const std::string& where) const {
    BlockHandle h;
    if (!GetVarint(src, limit, pos, 10, &h.offset) || !GetVarint(src, limit, pos, 10, &h.size))
      MELODY_FAIL() << At(offset) << "bad block handle in " << where;
    return h;
  }

  // The block's contents after checking bounds, compression type and CRC.
  std::string_view ReadBlockContents(const BlockHandle& h, const std::string& name) {
    const uint64_t data_end = bytes_.size() - kSortedTableFooterSize;
    if (h.offset > data_end || h.size > data_end - h.offset ||
        kBlockTrailerSize > data_end - h.offset - h.size)
      MELODY_FAIL() << At(h.offset) << name << " of " << h.size << " bytes (+" << kBlockTrailerSize
                    << "-byte trailer) runs past the end of the data (" << data_end
                    << " bytes): truncated block";
    const char* p = bytes_.data() + h.offset;
    const unsigned char type = static_cast<unsigned char>(p[h.size]);
    const uint32_t stored = UnmaskCrc(GetFixed32(p + h.size + 1));
    const uint32_t actual = Crc32cExtend(Crc32c(p, h.size), p + h.size, 1);
    if (stored != actual)
      MELODY_FAIL() << At(h.offset) << name << ": block CRC mismatch (stored 0x" << std::hex
                    << stored << ", computed 0x" << actual << ")";
    if (type == kSnappyCompression)
      MELODY_FAIL() << At(h.offset) << name
                    << " is snappy-compressed, which is not supported (TF's "
                    << "checkpoint writers never compress)";
    if (type != kNoCompression)
      MELODY_FAIL() << At(h.offset) << name << ": unknown block compression type "
                    << static_cast<int>(type);
    return std::string_view(p, h.size);
  }

  // Appends the entries of one block to *out; `offset` locates the block for messages.
  void ParseBlock(std::string_view block, uint64_t offset, const std::string& name,
                  std::vector<std::pair<std::string, std::string>>* out) {
    if (block.size() < 4)
      MELODY_FAIL() << At(offset) << name << " is shorter than its restart count";
    const uint32_t num_restarts = GetFixed32(block.data() + block.size() - 4);
    if (num_restarts == 0 || num_restarts > (block.size() - 4) / 4)
      MELODY_FAIL() << At(offset) << name << ": bad restart count " << num_restarts;
    const size_t limit = block.size() - 4 - 4 * static_cast<size_t>(num_restarts);
    for (uint32_t r = 0; r < num_restarts; ++r) {
      const uint32_t restart = GetFixed32(block.data() + limit + 4 * r);
      if (restart > limit || (r == 0 && restart != 0))
        MELODY_FAIL() << At(offset) << name << ": restart point " << r << " at " << restart
                      << " is invalid";
    }
    std::string key;
    size_t pos = 0;
    while (pos < limit) {
      const size_t entry_start = pos;
      uint64_t shared = 0, unshared = 0, value_size = 0;
      if (!GetVarint(block, limit, &pos, 5, &shared) ||
          !GetVarint(block, limit, &pos, 5, &unshared) ||
          !GetVarint(block, limit, &pos, 5, &value_size) || shared > key.size() ||
          unshared > limit - pos || value_size > limit - pos - unshared)
        MELODY_FAIL() << At(offset + entry_start) << name << ": bad entry at block offset "
                      << entry_start;
      key.resize(shared);
      key.append(block.data() + pos, unshared);
      pos += unshared;
      if (!out->empty() && !(key > out->back().first))
        MELODY_FAIL() << At(offset + entry_start) << name << ": keys are not strictly increasing";
      out->emplace_back(key, std::string(block.data() + pos, value_size));
      pos += value_size;
    }
  }

  std::string_view bytes_;
  const std::string& what_;
};

}  // namespace

std::string BuildSortedTable(const std::vector<std::pair<std::string, std::string>>& entries) {
  TableBuilder builder;
  for (const auto& [key, value] : entries) builder.Add(key, value);
  return builder.Finish();
}

std::vector<std::pair<std::string, std::string>> ParseSortedTable(std::string_view bytes,
                                                                  const std::string& what) {
  return TableReader(bytes, what).ReadAll();
}

}  // namespace melody
