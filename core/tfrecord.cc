#include "core/tfrecord.h"

#include <cerrno>
#include <cstring>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/little_endian.h"

namespace melody {
namespace {

bool LooksCompressed(const unsigned char* p) {
  if (p[0] == 0x1f && p[1] == 0x8b) return true;  // gzip
  return p[0] == 0x78 && (p[1] == 0x01 || p[1] == 0x5e || p[1] == 0x9c || p[1] == 0xda);
}

}  // namespace

std::string FrameTFRecord(std::string_view payload) {
  std::string out(payload.size() + 16, '\0');
  PutFixed64(&out[0], payload.size());
  PutFixed32(&out[8], MaskCrc(Crc32c(out.data(), 8)));
  std::memcpy(&out[12], payload.data(), payload.size());
  PutFixed32(&out[12 + payload.size()], MaskCrc(Crc32c(payload)));
  return out;
}

TFRecordReader::TFRecordReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) MELODY_FAIL() << path_ << ": cannot open TFRecord file: " << std::strerror(errno);
}

TFRecordReader::~TFRecordReader() {
  if (file_) std::fclose(file_);
}

void TFRecordReader::Fail(const std::string& what) const {
  MELODY_FAIL() << path_ << ": " << what << " in record " << index_ << " at byte offset "
                << record_offset_;
}

size_t TFRecordReader::ReadUpTo(void* dst, size_t n) {
  size_t got = std::fread(dst, 1, n, file_);
  if (got < n && std::ferror(file_))
    MELODY_FAIL() << path_ << ": read error at byte offset " << offset_ + got << ": "
                  << std::strerror(errno);
  offset_ += got;
  return got;
}

bool TFRecordReader::Next(std::string* record) {
  record_offset_ = offset_;
  unsigned char header[12];
  size_t got = ReadUpTo(header, sizeof header);
  if (got == 0) return false;
  if (got < sizeof header) Fail("truncated record header (" + std::to_string(got) + " of 12 bytes)");
  uint32_t length_crc = MaskCrc(Crc32c(header, 8));
  if (length_crc != GetFixed32(header + 8)) {
    if (record_offset_ == 0 && LooksCompressed(header))
      Fail("corrupted length CRC; the file looks gzip/zlib-compressed, which is not supported");
    Fail("corrupted record (length CRC mismatch)");
  }
  uint64_t length = GetFixed64(header);
  // The length is trusted only now that its CRC matched; still grow the buffer as data
  // arrives so that a truncated file cannot make us allocate its claimed size up front.
  record->clear();
  uint64_t remaining = length;
  char buf[1 << 16];
  while (remaining > 0) {
    size_t want = remaining < sizeof buf ? static_cast<size_t>(remaining) : sizeof buf;
    size_t n = ReadUpTo(buf, want);
    record->append(buf, n);
    if (n < want)
      Fail("truncated record (" + std::to_string(record->size()) + " of " +
           std::to_string(length) + " payload bytes)");
    remaining -= n;
  }
  unsigned char footer[4];
  if (ReadUpTo(footer, 4) < 4) Fail("truncated record (missing data CRC)");
  if (MaskCrc(Crc32c(*record)) != GetFixed32(footer)) Fail("corrupted record (data CRC mismatch)");
  ++index_;
  return true;
}

std::vector<std::string> ReadTFRecordFile(const std::string& path) {
  std::vector<std::string> out;
  TFRecordReader reader(path);
  std::string rec;
  while (reader.Next(&rec)) out.push_back(std::move(rec));
  return out;
}

void ForEachTFRecord(const std::string& path,
                     const std::function<bool(const std::string&, uint64_t)>& fn) {
  TFRecordReader reader(path);
  std::string rec;
  while (reader.Next(&rec))
    if (!fn(rec, reader.record_index())) return;
}

void TFRecordWriter::Write(std::string_view payload) {
  file_.Write(FrameTFRecord(payload));
  ++records_;
}

void WriteTFRecordFile(const std::string& path, const std::vector<std::string>& records) {
  TFRecordWriter writer(path);
  for (const auto& r : records) writer.Write(r);
  writer.Close();
}

}  // namespace melody
