// TFRecord files (shared/spec/formats.md §3): length (u64 LE), masked CRC32C of the
// length, payload, masked CRC32C of the payload; no header, no trailer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_util.h"

namespace melody {

// Encodes one record's framing around `payload` (16 bytes of overhead).
std::string FrameTFRecord(std::string_view payload);

// Reads records one by one. Both CRCs are checked; truncation, a bad length CRC or a bad
// data CRC throws melody::Error naming the file, the record index and the byte offset of
// the record's start. A file that looks gzip/zlib-compressed is reported as such.
class TFRecordReader {
 public:
  explicit TFRecordReader(std::string path);
  ~TFRecordReader();
  TFRecordReader(const TFRecordReader&) = delete;
  TFRecordReader& operator=(const TFRecordReader&) = delete;

  // Next payload into *record; false at a clean end of file.
  bool Next(std::string* record);
  // Index and start offset of the record last returned by Next().
  uint64_t record_index() const { return index_ - 1; }
  uint64_t record_offset() const { return record_offset_; }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void Fail(const std::string& what) const;
  size_t ReadUpTo(void* dst, size_t n);

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;         // bytes consumed so far
  uint64_t record_offset_ = 0;  // start of the current record
  uint64_t index_ = 0;          // records returned so far
};

// All records of a file.
std::vector<std::string> ReadTFRecordFile(const std::string& path);
// Calls fn(payload, index) for every record; stops early if fn returns false.
void ForEachTFRecord(const std::string& path,
                     const std::function<bool(const std::string&, uint64_t)>& fn);

// Writes records to a temporary file that replaces `path` on Close(). Without Close()
// (e.g. on an exception) nothing is left at `path`.
class TFRecordWriter {
 public:
  explicit TFRecordWriter(const std::string& path) : file_(path) {}
  void Write(std::string_view payload);
  void Close() { file_.Commit(); }
  uint64_t records_written() const { return records_; }

 private:
  AtomicFileWriter file_;
  uint64_t records_ = 0;
};

void WriteTFRecordFile(const std::string& path, const std::vector<std::string>& records);

}  // namespace melody
