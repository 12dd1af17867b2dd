// TF's sorted table (formats.md §7): the spec's byte vectors, TF's block policy (restart
// interval, block flushing, shortened index keys), byte-identical rebuilds of every real
// table in shared/data/compat, and corruption reports naming the table and byte offset.
#include "core/sstable.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/file_util.h"
#include "generator.pb.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

uint64_t ReadVarint(const std::string& s, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = static_cast<unsigned char>(s.at((*pos)++));
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
}

uint32_t Fixed32At(const std::string& s, size_t pos) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(pos + i));
  return v;
}

struct Handle {
  uint64_t offset, size;
};

// The footer's (metaindex, index) handles, decoded independently of the code under test.
std::pair<Handle, Handle> FooterHandles(const std::string& table) {
  size_t pos = table.size() - 48;
  Handle meta{ReadVarint(table, &pos), 0};
  meta.size = ReadVarint(table, &pos);
  Handle index{ReadVarint(table, &pos), 0};
  index.size = ReadVarint(table, &pos);
  return {meta, index};
}

// Keys and handles of the index block (restart interval 1: every entry is a full key).
std::vector<std::pair<std::string, Handle>> IndexEntries(const std::string& table) {
  const Handle index = FooterHandles(table).second;
  const std::string block = table.substr(index.offset, index.size);
  const uint32_t restarts = Fixed32At(block, block.size() - 4);
  const size_t limit = block.size() - 4 - 4 * restarts;
  std::vector<std::pair<std::string, Handle>> out;
  size_t pos = 0;
  while (pos < limit) {
    EXPECT_EQ(ReadVarint(block, &pos), 0u) << "index entries share no prefix";
    const uint64_t key_size = ReadVarint(block, &pos);
    const uint64_t value_size = ReadVarint(block, &pos);
    const std::string key = block.substr(pos, key_size);
    size_t vpos = pos + key_size;
    Handle h{ReadVarint(block, &vpos), 0};
    h.size = ReadVarint(block, &vpos);
    EXPECT_EQ(vpos, pos + key_size + value_size);
    out.emplace_back(key, h);
    pos += key_size + value_size;
  }
  EXPECT_EQ(restarts, out.size());
  return out;
}

// Recomputes the trailer CRC of the block at `offset` after its bytes were changed.
void FixBlockCrc(std::string* table, const Handle& h) {
  const uint32_t crc = MaskCrc(Crc32c(table->data() + h.offset, h.size + 1));
  for (int i = 0; i < 4; ++i)
    (*table)[h.offset + h.size + 1 + i] = static_cast<char>(crc >> (8 * i));
}

std::string ExpectThrows(const std::string& bytes) {
  try {
    ParseSortedTable(bytes, "t.index");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(SortedTable, EmptyTableIsTwoEmptyBlocksAndFooter) {
  const std::string table = BuildSortedTable({});
  const std::string empty_block = Bytes({0, 0, 0, 0, 1, 0, 0, 0, 0x00, 0xc0, 0xf2, 0xa1, 0xb0});
  ASSERT_EQ(table.size(), 13u + 13u + 48u);
  EXPECT_EQ(table.substr(0, 13), empty_block);   // metaindex (formats.md §12)
  EXPECT_EQ(table.substr(13, 13), empty_block);  // empty index
  EXPECT_EQ(table.substr(table.size() - 8),
            Bytes({0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb}));
  // Footer: metaindex (0, 8), index (13, 8), zero padding to 40 bytes.
  EXPECT_EQ(table.substr(26, 4), Bytes({0, 8, 13, 8}));
  EXPECT_EQ(table.substr(30, 36), std::string(36, '\0'));
  EXPECT_TRUE(ParseSortedTable(table, "empty").empty());
}

TEST(SortedTable, OneEntryLayoutByHand) {
  const std::string table = BuildSortedTable({{"ab", "xyz"}});
  // Entry: shared 0, unshared 2, value 3, "ab", "xyz"; restart array [0]; count 1.
  const std::string block = Bytes({0, 2, 3, 'a', 'b', 'x', 'y', 'z', 0, 0, 0, 0, 1, 0, 0, 0});
  EXPECT_EQ(table.substr(0, block.size()), block);
  EXPECT_EQ(table[block.size()], '\0');  // no compression
  EXPECT_EQ(Fixed32At(table, block.size() + 1), MaskCrc(Crc32c(block + std::string(1, '\0'))));
  const auto index = IndexEntries(table);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].first, "b");  // short successor of the last key "ab"
  EXPECT_EQ(index[0].second.offset, 0u);
  EXPECT_EQ(index[0].second.size, block.size());
}

TEST(SortedTable, RestartEverySixteenEntriesWithPrefixCompression) {
  Entries entries;
  for (int i = 0; i < 46; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "variable/%03d", i);
    entries.emplace_back(key, std::string(static_cast<size_t>(i), 'v'));
  }
  const std::string table = BuildSortedTable(entries);
  const Handle data = IndexEntries(table).at(0).second;
  const std::string block = table.substr(data.offset, data.size);
  ASSERT_EQ(Fixed32At(block, block.size() - 4), 3u);  // restarts at entries 0, 16, 32
  const size_t restarts_at = block.size() - 4 - 12;
  EXPECT_EQ(Fixed32At(block, restarts_at), 0u);
  // The entry at a restart point stores its whole key (shared = 0), "variable/016".
  size_t pos = Fixed32At(block, restarts_at + 4);
  EXPECT_EQ(ReadVarint(block, &pos), 0u);
  EXPECT_EQ(ReadVarint(block, &pos), 12u);
  // Entry 1 shares "variable/00" with entry 0.
  pos = 0;
  ReadVarint(block, &pos);
  ReadVarint(block, &pos);
  pos += ReadVarint(block, &pos) + 12;
  EXPECT_EQ(ReadVarint(block, &pos), 11u);
  EXPECT_EQ(ParseSortedTable(table, "t"), entries);
}

TEST(SortedTable, BlockFlushPolicyAndShortenedIndexKeys) {
  const std::string quarter_mb(kSortedTableBlockSize, 'x');
  // The first entry fills a block on its own; the boundary key is shortened to "the r".
  const Entries two_blocks = {{"the quick brown fox", quarter_mb}, {"the who", "y"}};
  const std::string table = BuildSortedTable(two_blocks);
  auto index = IndexEntries(table);
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0].first, "the r");
  EXPECT_EQ(index[1].first, "u");
  EXPECT_EQ(ParseSortedTable(table, "t"), two_blocks);

  // An entry of >= 2 blocks' worth is preceded by a flush, so it sits alone in its block;
  // "a" + 1 is not below "b", so the full key is kept.
  const Entries big = {{"a", "1"}, {"b", std::string(2 * kSortedTableBlockSize, 'z')}, {"c", "3"}};
  const std::string big_table = BuildSortedTable(big);
  index = IndexEntries(big_table);
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index[0].first, "a");
  EXPECT_EQ(index[1].first, "b");
  EXPECT_EQ(index[2].first, "d");
  EXPECT_EQ(index[0].second.size, 13u);  // entry "a" "1" (3 + 2 bytes), restart array, count
  EXPECT_EQ(ParseSortedTable(big_table, "t"), big);

  // A final key of 0xff bytes followed by 0x00 increments the first non-0xff byte.
  const std::string tail = BuildSortedTable({{std::string("\xff\x00", 2), "v"}});
  EXPECT_EQ(IndexEntries(tail).at(0).first, std::string("\xff\x01", 2));
}

TEST(SortedTable, ManyEntriesRoundTrip) {
  Entries entries;
  for (int i = 0; i < 3000; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "k%06d", i * 7);
    entries.emplace_back(key,
                         std::string(static_cast<size_t>((i * 131) % 997), static_cast<char>(i)));
  }
  entries.insert(entries.begin(), {"", "header"});
  const std::string table = BuildSortedTable(entries);
  EXPECT_GT(IndexEntries(table).size(), 3u);
  EXPECT_EQ(ParseSortedTable(table, "t"), entries);
}

TEST(SortedTable, RejectsUnsortedOrDuplicateKeys) {
  EXPECT_THROW(BuildSortedTable({{"b", ""}, {"a", ""}}), Error);
  EXPECT_THROW(BuildSortedTable({{"a", ""}, {"a", ""}}), Error);
  // Bytewise order: 'Z' (0x5a) < 'a' (0x61), and 0x80 sorts after ASCII.
  EXPECT_NO_THROW(BuildSortedTable({{"Z", ""}, {"a", ""}, {"\x80", ""}}));
}

TEST(SortedTable, CorruptionIsReportedWithOffset) {
  const std::string good = BuildSortedTable({{"alpha", "1"}, {"beta", "22"}});
  ASSERT_NO_THROW(ParseSortedTable(good, "t.index"));

  std::string bad_magic = good;
  bad_magic[bad_magic.size() - 1] ^= 1;
  EXPECT_NE(ExpectThrows(bad_magic).find("t.index: corrupt sorted table at byte offset "),
            std::string::npos);
  EXPECT_NE(ExpectThrows(bad_magic).find("magic"), std::string::npos);

  EXPECT_NE(ExpectThrows(good.substr(0, good.size() - 10)).find("magic"), std::string::npos);
  EXPECT_NE(ExpectThrows(good.substr(0, 20)).find("too short"), std::string::npos);

  std::string bad_crc = good;
  bad_crc[3] ^= 0x40;  // inside data block 0 (offset 0)
  std::string message = ExpectThrows(bad_crc);
  EXPECT_NE(message.find("byte offset 0: data block 0: block CRC mismatch"), std::string::npos)
      << message;

  const Handle index = FooterHandles(good).second;
  std::string bad_index_crc = good;
  bad_index_crc[index.offset] ^= 1;
  message = ExpectThrows(bad_index_crc);
  EXPECT_NE(message.find("byte offset " + std::to_string(index.offset) + ": index block"),
            std::string::npos)
      << message;

  const Handle data = IndexEntries(good).at(0).second;
  std::string snappy = good;
  snappy[data.offset + data.size] = 1;
  FixBlockCrc(&snappy, data);
  EXPECT_NE(ExpectThrows(snappy).find("snappy"), std::string::npos);
  std::string unknown_type = good;
  unknown_type[data.offset + data.size] = 7;
  FixBlockCrc(&unknown_type, data);
  EXPECT_NE(ExpectThrows(unknown_type).find("compression type 7"), std::string::npos);

  // A block handle pointing past the data: the file cut inside the index block.
  std::string truncated_block = good;
  truncated_block[good.size() - 48 + 3] = 0x7f;  // index size byte -> 127
  message = ExpectThrows(truncated_block);
  EXPECT_NE(message.find("truncated block"), std::string::npos) << message;
}

// ---- Real tables written by TF ---------------------------------------------------------

const char* const kCompatIndexFiles[] = {
    "data/compat/checkpoints_v2/attention_rnn_64x64_tf1.13/model.ckpt-12949.index",
    "data/compat/checkpoints_v2/basic_rnn_64x64_tf1.0/model.ckpt-50.index",
    "data/compat/checkpoints_v2/polyphony_3x256_tf2.10_index_only/model.ckpt-10000.index",
};

TEST(SortedTable, RealV2IndexFilesRebuildByteForByte) {
  MELODY_REQUIRE_SHARED("data/compat/checkpoints_v2");
  const size_t expected_entries[] = {46, 22, 28};
  const char* expected_index_key[] = {"s", "h", "s"};
  for (size_t i = 0; i < 3; ++i) {
    const std::string path = testing::SharedPath(kCompatIndexFiles[i]);
    const std::string bytes = ReadFileToString(path);
    const Entries entries = ParseSortedTable(bytes, path);
    EXPECT_EQ(entries.size(), expected_entries[i]) << path;
    EXPECT_EQ(entries.at(0).first, "") << path;
    const auto index = IndexEntries(bytes);
    ASSERT_EQ(index.size(), 1u) << path;
    EXPECT_EQ(index[0].first, expected_index_key[i]) << path;
    EXPECT_TRUE(BuildSortedTable(entries) == bytes) << path << " differs after a rebuild";
  }
}

// Every single-byte change of a real index is either reported as an Error or leaves the
// parsed entries unchanged: block CRCs cover everything but the footer.
TEST(SortedTable, EveryByteFlipOfARealIndexIsCaughtOrHarmless) {
  MELODY_REQUIRE_SHARED(kCompatIndexFiles[1]);
  const std::string original = ReadFileToString(testing::SharedPath(kCompatIndexFiles[1]));
  const Entries expected = ParseSortedTable(original, "original");
  size_t errors = 0, harmless = 0;
  for (size_t pos = 0; pos < original.size(); ++pos) {
    for (int flip : {0x01, 0x80, 0xff}) {
      std::string bytes = original;
      bytes[pos] = static_cast<char>(bytes[pos] ^ flip);
      try {
        EXPECT_EQ(ParseSortedTable(bytes, "mutated"), expected) << "byte " << pos;
        ++harmless;
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 3 * (original.size() - 48));
  // Harmless: the 34 footer padding bytes after the two handles, and a handle's last byte
  // gaining a continuation bit before a zero padding byte (the same number, 2 bytes long).
  EXPECT_LE(harmless, 3u * 34u + 1u);
}

TEST(SortedTable, BundleV1ImageRebuildsByteForByte) {
  MELODY_REQUIRE_SHARED("data/compat/attention_rnn_pipeline_2019/my_model.mag");
  magenta::GeneratorBundle bundle;
  ASSERT_TRUE(bundle.ParseFromString(ReadFileToString(
      testing::SharedPath("data/compat/attention_rnn_pipeline_2019/my_model.mag"))));
  ASSERT_EQ(bundle.checkpoint_file_size(), 1);
  const std::string& image = bundle.checkpoint_file(0);
  ASSERT_EQ(image.size(), 411379u);
  const Entries entries = ParseSortedTable(image, "my_model.mag");
  EXPECT_EQ(entries.size(), 15u);  // meta record + 14 tensors
  const auto index = IndexEntries(image);
  ASSERT_EQ(index.size(), 2u);  // 13 entries in 278,901 bytes, then 2 in 132,309
  EXPECT_EQ(index[0].second.size, 278901u);
  EXPECT_EQ(index[1].second.size, 132309u);
  EXPECT_EQ(index[1].first, "\x01");  // successor of a last key starting with 0x00
  EXPECT_TRUE(BuildSortedTable(entries) == image);
}

}  // namespace
}  // namespace melody
