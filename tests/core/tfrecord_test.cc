// CRC32C test vectors (formats.md §12) and TFRecord framing: reads every TFRecord under
// shared/, rewrites it byte for byte, and reports corruption with file, index and offset.
#include <dirent.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/tfrecord.h"
#include "tests/test_util.h"

namespace melody {
namespace {

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(MaskCrc(Crc32c(std::string())), 0xA282EAD8u);
  EXPECT_EQ(MaskCrc(Crc32c(std::string(4, '\0'))), 0x3A117BA6u);
  EXPECT_EQ(MaskCrc(Crc32c(std::string("hello world"))), 0x6DD87E00u);
}

TEST(Crc32c, ExtendMatchesWholeAndUnmaskInverts) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  for (size_t split : {0u, 1u, 7u, 8u, 9u, 500u, 1000u}) {
    uint32_t a = Crc32c(data.data(), split);
    EXPECT_EQ(Crc32cExtend(a, data.data() + split, data.size() - split), Crc32c(data)) << split;
  }
  for (uint32_t v : {0u, 1u, 0xdeadbeefu, 0xffffffffu}) EXPECT_EQ(UnmaskCrc(MaskCrc(v)), v);
}

TEST(TFRecord, HeaderForElevenByteRecord) {
  std::string framed = FrameTFRecord("hello world");
  const unsigned char expected[12] = {0x0b, 0, 0, 0, 0, 0, 0, 0, 0x86, 0x15, 0xf5, 0x04};
  ASSERT_EQ(framed.size(), 27u);
  EXPECT_EQ(std::memcmp(framed.data(), expected, 12), 0);
  const unsigned char data_crc[4] = {0x00, 0x7e, 0xd8, 0x6d};
  EXPECT_EQ(std::memcmp(framed.data() + 23, data_crc, 4), 0);
}

void CollectTFRecords(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.push_back(e->d_name);
  closedir(d);
  for (const auto& name : names) {
    if (name == "." || name == "..") continue;
    std::string path = JoinPath(dir, name);
    if (IsDirectory(path))
      CollectTFRecords(path, out);
    else if (name.size() > 9 && name.substr(name.size() - 9) == ".tfrecord")
      out->push_back(path);
  }
}

TEST(TFRecord, EverySharedFileReadsAndRoundTripsByteForByte) {
  MELODY_REQUIRE_SHARED("data/compat");
  std::vector<std::string> files;
  CollectTFRecords(testing::SharedPath("data"), &files);
  CollectTFRecords(testing::SharedPath("golden"), &files);
  ASSERT_GE(files.size(), 10u);
  std::string tmp = testing::MakeTempDir("tfrecord_test");
  size_t total_records = 0;
  for (const auto& path : files) {
    std::vector<std::string> records = ReadTFRecordFile(path);
    total_records += records.size();
    std::string out = JoinPath(tmp, "copy.tfrecord");
    WriteTFRecordFile(out, records);
    EXPECT_EQ(ReadFileToString(out), ReadFileToString(path)) << path;
  }
  EXPECT_GT(total_records, 100u);
}

TEST(TFRecord, ThreeRecordTestFile) {
  MELODY_REQUIRE_SHARED("data/testmidi/tfrecord_iterator_test.tfrecord");
  auto records = ReadTFRecordFile(testing::SharedPath("data/testmidi/tfrecord_iterator_test.tfrecord"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "hello world");
  EXPECT_EQ(records[1], "12345");
  EXPECT_EQ(records[2], "success");
}

std::string ExpectReadError(const std::string& path) {
  try {
    ReadTFRecordFile(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}

TEST(TFRecord, CorruptionIsReportedWithFileIndexAndOffset) {
  std::string dir = testing::MakeTempDir("tfrecord_corrupt");
  std::string good = FrameTFRecord("first") + FrameTFRecord("second record");
  size_t second = FrameTFRecord("first").size();  // 21

  std::string bad_data = good;
  bad_data[second + 12] ^= 1;  // payload byte of record 1
  std::string path = JoinPath(dir, "bad_data.tfrecord");
  WriteFileAtomically(path, bad_data);
  std::string msg = ExpectReadError(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("data CRC"), std::string::npos) << msg;
  EXPECT_NE(msg.find("record 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset " + std::to_string(second)), std::string::npos) << msg;

  std::string bad_len = good;
  bad_len[second + 1] ^= 0x40;
  WriteFileAtomically(path, bad_len);
  msg = ExpectReadError(path);
  EXPECT_NE(msg.find("length CRC"), std::string::npos) << msg;

  WriteFileAtomically(path, good.substr(0, good.size() - 3));
  msg = ExpectReadError(path);
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset " + std::to_string(second)), std::string::npos) << msg;

  WriteFileAtomically(path, good.substr(0, second + 5));
  msg = ExpectReadError(path);
  EXPECT_NE(msg.find("truncated record header"), std::string::npos) << msg;

  std::string gz = good;
  gz[0] = '\x1f';
  gz[1] = '\x8b';
  WriteFileAtomically(path, gz);
  msg = ExpectReadError(path);
  EXPECT_NE(msg.find("compressed"), std::string::npos) << msg;

  WriteFileAtomically(path, "");
  EXPECT_TRUE(ReadTFRecordFile(path).empty());
}

TEST(TFRecord, WriterLeavesNothingBehindWithoutClose) {
  std::string dir = testing::MakeTempDir("tfrecord_writer");
  std::string path = JoinPath(dir, "out.tfrecord");
  {
    TFRecordWriter writer(path);
    writer.Write("abc");
  }
  EXPECT_FALSE(PathExists(path));
  TFRecordWriter writer(path);
  writer.Write("abc");
  writer.Close();
  EXPECT_EQ(ReadTFRecordFile(path), std::vector<std::string>{"abc"});
}

}  // namespace
}  // namespace melody
