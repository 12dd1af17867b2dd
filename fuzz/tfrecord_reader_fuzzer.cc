// libFuzzer target for the TFRecord reader (core/tfrecord.h), which reads files: each
// input is written to a per-process scratch file that has no name left on disk.
//  1. The input as a TFRecord file: reading must succeed or throw melody::Error; every
//     record is then offered to the NoteSequence and SequenceExample parsers.
//  2. The input cut into payloads (each prefixed by a length byte), framed with
//     FrameTFRecord: reading must give back exactly those payloads; the framed file cut
//     short at an input-chosen offset must fail with melody::Error or yield a prefix.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "core/error.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "example.pb.h"
#include "music.pb.h"

namespace {

// The scratch file is created with a unique name and unlinked at once; the reader opens
// it again through /proc/self/fd, so nothing is left in /dev/shm however the fuzzer ends
// (-max_total_time, a crash, a kill). Without /proc it keeps its name and is removed at
// exit.
class ScratchFile {
 public:
  ScratchFile() {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string name = std::string(dir) + "/melody_tfrecord_fuzz_XXXXXX";
    fd_ = mkstemp(name.data());
    if (fd_ < 0) std::abort();
    const std::string by_fd = "/proc/self/fd/" + std::to_string(fd_);
    if (access(by_fd.c_str(), R_OK) == 0 && unlink(name.c_str()) == 0) {
      path_ = by_fd;
    } else {
      path_ = name;
      std::atexit([] { unlink(Get().named_path()); });
    }
  }
  static ScratchFile& Get() {
    static ScratchFile file;
    return file;
  }
  const std::string& path() const { return path_; }
  const char* named_path() const { return path_.c_str(); }

  void Write(const std::string& bytes) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }

 private:
  int fd_ = -1;
  std::string path_;
};

const std::string& ScratchPath() { return ScratchFile::Get().path(); }

void WriteScratch(const std::string& bytes) { ScratchFile::Get().Write(bytes); }

// Records of the scratch file, or false when the reader threw melody::Error.
bool ReadScratch(std::vector<std::string>* records) {
  try {
    *records = melody::ReadTFRecordFile(ScratchPath());
    return true;
  } catch (const melody::Error&) {
    return false;
  }
}

void OfferToParsers(const std::string& record) {
  magenta::NoteSequence sequence;
  tensorflow::SequenceExample example;
  try {
    melody::ParseProtoOrThrow(record, &sequence, "record");
    melody::SerializeDeterministic(sequence);
  } catch (const melody::Error&) {
  }
  try {
    melody::ParseProtoOrThrow(record, &example, "record");
    melody::SerializeDeterministic(example);
  } catch (const melody::Error&) {
  }
}

}  // namespace

// Protobuf logs every string field with invalid UTF-8 it parses; random records are full
// of them, and the parse result (not the log) is what is checked.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                     const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // 1. Raw bytes as a file.
  WriteScratch(input);
  std::vector<std::string> records;
  if (ReadScratch(&records))
    for (const std::string& record : records) OfferToParsers(record);

  // 2. Round trip through FrameTFRecord.
  std::vector<std::string> payloads;
  for (size_t i = 0; i < size;) {
    size_t length = data[i++];
    if (length > size - i) length = size - i;
    payloads.push_back(input.substr(i, length));
    i += length;
  }
  std::string framed;
  for (const std::string& payload : payloads) framed += melody::FrameTFRecord(payload);
  WriteScratch(framed);
  if (!ReadScratch(&records) || records != payloads) std::abort();

  // A cut anywhere but at a record boundary must be reported, never misread.
  size_t cut = size == 0 ? 0 : (static_cast<size_t>(data[0]) * 257 + size) % (framed.size() + 1);
  WriteScratch(framed.substr(0, cut));
  if (ReadScratch(&records)) {
    size_t consumed = 0;
    for (size_t r = 0; r < records.size(); ++r) {
      if (r >= payloads.size() || records[r] != payloads[r]) std::abort();
      consumed += payloads[r].size() + 16;
    }
    if (consumed != cut) std::abort();
  }
  return 0;
}
