// The training input pipeline (apps/lib/train_data.h): loading with errors that name the
// record, the deterministic epoch order, padding, and the prefetch thread.
#include "apps/lib/train_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/file_util.h"
#include "core/tfrecord.h"
#include "data/sequence_example_io.h"
#include "tests/test_util.h"

namespace melody {
namespace {

EncodedMelody Melody(int input_size, int steps, int64_t first_label) {
  EncodedMelody m;
  m.input_size = input_size;
  for (int t = 0; t < steps; ++t) {
    for (int i = 0; i < input_size; ++i) m.inputs.push_back(static_cast<float>(t * 10 + i));
    m.labels.push_back((first_label + t) % 3);
  }
  return m;
}

std::string WriteSet(const std::string& dir, const std::string& name,
                     const std::vector<EncodedMelody>& melodies) {
  std::vector<std::string> records;
  for (const auto& m : melodies) records.push_back(SerializeSequenceExample(m));
  const std::string path = JoinPath(dir, name);
  WriteTFRecordFile(path, records);
  return path;
}

TEST(TrainDataTest, LoadsEveryRecordOfAGlobInNameOrder) {
  const std::string dir = testing::MakeTempDir("train_data");
  WriteSet(dir, "b.tfrecord", {Melody(2, 3, 0)});
  WriteSet(dir, "a.tfrecord", {Melody(2, 1, 0), Melody(2, 2, 0)});
  const auto files = ExpandSequenceExampleGlob(dir + "/*.tfrecord");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(Basename(files[0]), "a.tfrecord");
  const SequenceExampleSet set = SequenceExampleSet::Load(files, 2, 3);
  ASSERT_EQ(set.size(), 3);
  EXPECT_EQ(set.at(0).num_steps(), 1u);
  EXPECT_EQ(set.at(2).num_steps(), 3u);
  EXPECT_EQ(set.total_steps(), 6);
  EXPECT_EQ(SequenceExampleSet::CountRecords(files), 3);
}

TEST(TrainDataTest, NoMatchNamesThePattern) {
  try {
    ExpandSequenceExampleGlob("/nonexistent/dir/*.tfrecord");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/*.tfrecord"), std::string::npos);
  }
}

TEST(TrainDataTest, WrongWidthNamesFileRecordAndOffset) {
  const std::string dir = testing::MakeTempDir("train_data_width");
  const std::string path = WriteSet(dir, "x.tfrecord", {Melody(2, 2, 0), Melody(3, 2, 0)});
  const uint64_t second_offset = 16 + SerializeSequenceExample(Melody(2, 2, 0)).size();
  try {
    SequenceExampleSet::Load({path}, 2, 3);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path + ": record 1 (byte offset " + std::to_string(second_offset) + ")"),
              std::string::npos) << m;
    EXPECT_NE(m.find("input size is 2"), std::string::npos) << m;
  }
}

TEST(TrainDataTest, LabelOutsideTheClassesIsAnError) {
  const std::string dir = testing::MakeTempDir("train_data_label");
  EncodedMelody m = Melody(2, 2, 0);
  m.labels[1] = 7;
  const std::string path = WriteSet(dir, "x.tfrecord", {m});
  EXPECT_THROW(SequenceExampleSet::Load({path}, 2, 3), Error);
}

TEST(TrainDataTest, CorruptRecordIsAnErrorWithItsOffset) {
  const std::string dir = testing::MakeTempDir("train_data_crc");
  const std::string path = WriteSet(dir, "x.tfrecord", {Melody(2, 2, 0), Melody(2, 2, 1)});
  std::string bytes = ReadFileToString(path);
  bytes[bytes.size() - 6] ^= 0x40;  // inside the second payload
  WriteFileAtomically(path, bytes);
  try {
    SequenceExampleSet::Load({path}, 2, 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("offset"), std::string::npos) << e.what();
  }
}

TEST(TrainDataTest, EpochOrderIsAPermutationPerEpochAndDependsOnlyOnSeed) {
  EpochOrder a(42, 10), b(42, 10), c(43, 10);
  std::vector<int64_t> first, second;
  for (int64_t p = 0; p < 10; ++p) first.push_back(a.RecordAt(p));
  for (int64_t p = 10; p < 20; ++p) second.push_back(a.RecordAt(p));
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(first, second);  // reshuffled per epoch
  // Random access (a resumed run) gives the same records as a sequential walk.
  EXPECT_EQ(b.RecordAt(15), second[5]);
  EXPECT_EQ(b.RecordAt(3), first[3]);
  std::vector<int64_t> other;
  for (int64_t p = 0; p < 10; ++p) other.push_back(c.RecordAt(p));
  EXPECT_NE(other, first);
}

TEST(TrainDataTest, TrainingBatchesTileTheStream) {
  EpochOrder a(1, 7), b(1, 7);
  const auto batch2 = TrainingBatchRecords(&a, 2, 3);  // positions 6, 7, 8
  EXPECT_EQ(batch2[0], b.RecordAt(6));
  EXPECT_EQ(batch2[2], b.RecordAt(8));
  EXPECT_EQ(EvalBatchRecords(5, 1, 3), (std::vector<int64_t>{3, 4, 0}));
}

TEST(TrainDataTest, PaddedBatchPadsToTheLongest) {
  const std::string dir = testing::MakeTempDir("train_data_pad");
  const std::string path = WriteSet(dir, "x.tfrecord", {Melody(2, 1, 1), Melody(2, 3, 2)});
  const SequenceExampleSet set = SequenceExampleSet::Load({path}, 2, 3);
  const HostBatch batch = MakePaddedBatch(set, {0, 1});
  EXPECT_EQ(batch.inputs.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(batch.lengths, (std::vector<int32_t>{1, 3}));
  const float* in = batch.inputs.data<float>();
  const int64_t* lab = batch.labels.data<int64_t>();
  EXPECT_EQ(in[0], 0.0f);
  EXPECT_EQ(in[1], 1.0f);
  for (int i = 2; i < 6; ++i) EXPECT_EQ(in[i], 0.0f) << i;  // padding of row 0
  EXPECT_EQ(in[6 + 2 * 2 + 1], 21.0f);                      // row 1, t = 2, i = 1
  EXPECT_EQ(lab[0], 1);
  EXPECT_EQ(lab[1], 0);
  EXPECT_EQ(lab[2], 0);
  EXPECT_EQ(lab[3 + 2], 1);  // (2 + 2) % 3
}

TEST(TrainDataTest, PrefetcherDeliversInOrderAndRethrows) {
  BatchPrefetcher p(
      [](int64_t i) {
        if (i == 13) throw Error("boom at 13");
        HostBatch b;
        b.lengths = {static_cast<int32_t>(i)};
        return b;
      },
      10, 2);
  EXPECT_EQ(p.Next().index, 10);
  EXPECT_EQ(p.Next().lengths[0], 11);
  EXPECT_EQ(p.Next().index, 12);
  EXPECT_THROW(p.Next(), Error);
  EXPECT_GE(p.blocked_seconds(), 0.0);
}

}  // namespace
}  // namespace melody
