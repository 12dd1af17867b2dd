// TF checkpoints (formats.md §8): the real V2 checkpoints and the V1 image of the .mag bundle
// in shared/data/compat read with the names, shapes, dtypes and values the compat README
// lists, and rewrite byte for byte; V1/V2 round trips are bit-exact; corruption is reported
// naming the file and tensor; a failed write leaves an existing checkpoint intact; the
// `checkpoint` state file parses real and hand-written variants.
#include "core/tf_checkpoint.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "checkpoint.pb.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/sstable.h"
#include "generator.pb.h"
#include "tests/test_util.h"

namespace melody {
namespace {

const char kAttentionDir[] = "data/compat/checkpoints_v2/attention_rnn_64x64_tf1.13";
const char kBasic2017Dir[] = "data/compat/checkpoints_v2/basic_rnn_64x64_tf1.0";
const char kPolyphonyDir[] = "data/compat/checkpoints_v2/polyphony_3x256_tf2.10_index_only";
const char kBundle[] = "data/compat/attention_rnn_pipeline_2019/my_model.mag";

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a melody::Error";
  return "";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

template <typename T>
Tensor MakeTensor(Shape shape, DType dtype, T start, T step) {
  Tensor t(shape, dtype);
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(start + step * static_cast<T>(i));
  return t;
}

// TF's Adam power accumulator after `steps` updates: a float32 variable initialised to beta
// and multiplied by beta after every update (model.md §3.4), i.e. beta^(steps + 1).
float AdamPowerAfter(float beta, int64_t steps) {
  float power = beta;
  for (int64_t i = 0; i < steps; ++i) power *= beta;
  return power;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// A map exercising every dtype, a scalar, an empty tensor, a NaN payload and a name that
// sorts before lower-case ones.
TensorMap MixedTensors() {
  TensorMap m;
  m["Upper/first"] = MakeTensor<float>({3}, DType::kFloat32, -1.5f, 0.25f);
  m["a/matrix"] = MakeTensor<float>({4, 5}, DType::kFloat32, 0.1f, 0.37f);
  m["a/matrix"].data<float>()[7] = std::nanf("0x123");
  m["b/doubles"] = MakeTensor<double>({2, 3}, DType::kFloat64, 1e-300, 3.25);
  m["c/ints"] = MakeTensor<int32_t>({6}, DType::kInt32, -3, 1000000);
  m["d/step"] = MakeTensor<int64_t>({}, DType::kInt64, int64_t{1} << 40, 0);
  m["e/empty"] = Tensor(Shape{0, 3}, DType::kFloat32);
  m["f/rank4"] = MakeTensor<float>({1, 1, 2, 2}, DType::kFloat32, 2.0f, -1.0f);
  return m;
}

void ExpectSameTensors(const TensorMap& a, const TensorMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_TRUE(SameBytes(ia->second, ib->second)) << ia->first;
  }
}

// ---- V2: real checkpoints ------------------------------------------------------------

TEST(CheckpointV2, AttentionCheckpointTf113) {
  MELODY_REQUIRE_SHARED(kAttentionDir);
  const std::string prefix = testing::SharedPath(kAttentionDir) + "/model.ckpt-12949";
  ASSERT_TRUE(CheckpointV2Exists(prefix));
  const TensorMap t = ReadCheckpointV2(prefix);
  EXPECT_EQ(t.size(), 45u);  // 14 variables x 3 + beta1_power, beta2_power, global_step
  EXPECT_EQ(t.at("global_step").dtype(), DType::kInt64);
  EXPECT_EQ(t.at("global_step").data<int64_t>()[0], 12949);
  // 0.9^12950 underflowed to exactly 0: TF runs with denormals flushed to zero (IEEE
  // gradual underflow would stall the running product at 5.6e-45).
  EXPECT_EQ(t.at("beta1_power").data<float>()[0], 0.0f);
  EXPECT_GT(AdamPowerAfter(0.9f, 12949), 0.0f);
  // 2.3613e-06 (formats.md §8.4 quotes it as ~0.999^12949).
  EXPECT_EQ(t.at("beta2_power").data<float>()[0], AdamPowerAfter(0.999f, 12949));
  EXPECT_NEAR(t.at("beta2_power").data<float>()[0], std::pow(0.999, 12950), 1e-9);
  EXPECT_EQ(t.at("fully_connected/weights").shape(), (Shape{64, 40}));
  const std::string cell0 = "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/";
  EXPECT_EQ(t.at(cell0 + "kernel").shape(), (Shape{138, 74}));
  EXPECT_EQ(t.at(cell0 + "basic_lstm_cell/kernel/Adam_1").shape(), (Shape{138, 256}));
  EXPECT_EQ(t.at(cell0 + "attention/attn_w").shape(), (Shape{1, 1, 64, 64}));
  EXPECT_EQ(t.at("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias/Adam").shape(), (Shape{256}));
  for (const auto& [name, tensor] : t) {
    if (name != "global_step") {
      EXPECT_EQ(tensor.dtype(), DType::kFloat32) << name;
    }
  }

  // Rewriting what we read gives TF's two files back, byte for byte.
  const CheckpointV2Files files = SerializeCheckpointV2(t);
  EXPECT_TRUE(files.index == ReadFileToString(CheckpointIndexPath(prefix)));
  EXPECT_TRUE(files.data == ReadFileToString(CheckpointDataPath(prefix)));
}

TEST(CheckpointV2, Basic2017CheckpointHasLegacyNamesAndInt32Step) {
  MELODY_REQUIRE_SHARED(kBasic2017Dir);
  const std::string prefix = testing::SharedPath(kBasic2017Dir) + "/model.ckpt-50";
  const TensorMap t = ReadCheckpointV2(prefix);
  EXPECT_EQ(t.size(), 21u);
  EXPECT_EQ(t.at("global_step").dtype(), DType::kInt32);
  EXPECT_EQ(t.at("global_step").data<int32_t>()[0], 50);
  EXPECT_EQ(t.begin()->first, "RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Bias");  // 'R' < 'b'
  EXPECT_EQ(t.at("RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Matrix").shape(), (Shape{102, 256}));
  EXPECT_EQ(t.at("RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix/Adam_1").shape(),
            (Shape{128, 256}));
  EXPECT_EQ(t.at("fully_connected/weights").shape(), (Shape{64, 38}));
  EXPECT_EQ(t.at("beta1_power").data<float>()[0], AdamPowerAfter(0.9f, 50));
  EXPECT_EQ(t.at("beta2_power").data<float>()[0], AdamPowerAfter(0.999f, 50));
  const CheckpointV2Files files = SerializeCheckpointV2(t);
  EXPECT_TRUE(files.index == ReadFileToString(CheckpointIndexPath(prefix)));
  EXPECT_TRUE(files.data == ReadFileToString(CheckpointDataPath(prefix)));
}

TEST(CheckpointV2, IndexOnlyPolyphonyListsAndReportsMissingData) {
  MELODY_REQUIRE_SHARED(kPolyphonyDir);
  const std::string prefix = testing::SharedPath(kPolyphonyDir) + "/model.ckpt-10000";
  EXPECT_FALSE(CheckpointV2Exists(prefix));
  const auto list = ListCheckpointV2(prefix);
  EXPECT_EQ(list.size(), 27u);
  EXPECT_EQ(list.at("global_step").first, DType::kInt64);
  EXPECT_EQ(list.at("global_step").second, Shape{});
  EXPECT_EQ(list.at("rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel").second, (Shape{644, 1024}));
  EXPECT_EQ(list.at("fully_connected/weights/Adam").second, (Shape{256, 388}));
  const std::string message = ErrorOf([&] { ReadCheckpointV2(prefix); });
  EXPECT_TRUE(Contains(message, CheckpointDataPath(prefix))) << message;
}

// ---- V2: round trips, corruption, atomicity --------------------------------------------

TEST(CheckpointV2, RoundTripIsBitExact) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string prefix = dir + "/model.ckpt-7";
  const TensorMap tensors = MixedTensors();
  WriteCheckpointV2(prefix, tensors);
  ASSERT_TRUE(CheckpointV2Exists(prefix));
  ExpectSameTensors(ReadCheckpointV2(prefix), tensors);
  const auto list = ListCheckpointV2(prefix);
  EXPECT_EQ(list.at("c/ints").first, DType::kInt32);
  EXPECT_EQ(list.at("e/empty").second, (Shape{0, 3}));
  // The data file is the tensors back to back in name order (formats.md §8.2).
  size_t total = 0;
  for (const auto& [name, t] : tensors) total += t.nbytes();
  EXPECT_EQ(ReadFileToString(CheckpointDataPath(prefix)).size(), total);
  // Only the two checkpoint files remain (no temporaries).
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  closedir(d);
  EXPECT_EQ(names.size(), 2u);
}

TEST(CheckpointV2, EntryBytesMatchTheSpec) {
  TensorMap m;
  m["beta1_power"] = Tensor::Zeros({}, DType::kFloat32);
  m["w"] = Tensor::Zeros({256, 388}, DType::kFloat32);
  const auto entries = ParseSortedTable(SerializeCheckpointV2(m).index, "index");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].second, std::string("\x08\x01\x1a\x02\x08\x01", 6));  // header
  // Scalar: dtype FLOAT, empty shape present, size 4, masked CRC of 4 zero bytes.
  EXPECT_EQ(entries[1].second, std::string("\x08\x01\x12\x00\x28\x04\x35\xa6\x7b\x11\x3a", 11));
  // Rank 2 at offset 4: dims 256 and 388, size 397,312.
  EXPECT_EQ(entries[2].second.substr(0, 20),
            std::string("\x08\x01\x12\x0a\x12\x03\x08\x80\x02\x12\x03\x08\x84\x03\x20\x04\x28"
                        "\x80\xa0\x18",
                        20));
}

TEST(CheckpointV2, FlippedDataByteIsACrcErrorNamingTheTensor) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string prefix = dir + "/m";
  const TensorMap tensors = MixedTensors();
  WriteCheckpointV2(prefix, tensors);
  std::string data = ReadFileToString(CheckpointDataPath(prefix));
  // "b/doubles" follows "Upper/first" (12 bytes) and "a/matrix" (80 bytes).
  data[12 + 80 + 5] ^= 0x10;
  WriteFileAtomically(CheckpointDataPath(prefix), data);
  std::string message = ErrorOf([&] { ReadCheckpointV2(prefix); });
  EXPECT_TRUE(Contains(message, "tensor b/doubles: data CRC mismatch")) << message;
  EXPECT_TRUE(Contains(message, prefix)) << message;

  data[12 + 80 + 5] ^= 0x10;  // undo, then cut the last byte
  WriteFileAtomically(CheckpointDataPath(prefix), data.substr(0, data.size() - 1));
  message = ErrorOf([&] { ReadCheckpointV2(prefix); });
  EXPECT_TRUE(Contains(message, "tensor f/rank4: bytes [")) << message;
  EXPECT_TRUE(Contains(message, "past the end")) << message;
}

TEST(CheckpointV2, TruncatedOrForeignIndexIsAnError) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string prefix = dir + "/m";
  WriteCheckpointV2(prefix, MixedTensors());
  const std::string index = ReadFileToString(CheckpointIndexPath(prefix));
  WriteFileAtomically(CheckpointIndexPath(prefix), index.substr(0, index.size() / 2));
  std::string message = ErrorOf([&] { ListCheckpointV2(prefix); });
  EXPECT_TRUE(Contains(message, CheckpointIndexPath(prefix) + ": corrupt sorted table")) << message;
  WriteFileAtomically(CheckpointIndexPath(prefix), "model_checkpoint_path: \"x\"\n");
  message = ErrorOf([&] { ReadCheckpointV2(prefix); });
  EXPECT_TRUE(Contains(message, "too short")) << message;
  message = ErrorOf([&] { ReadCheckpointV2(dir + "/absent"); });
  EXPECT_TRUE(Contains(message, dir + "/absent.index")) << message;
}

// Writes an index whose header or single entry was edited, with an 8-byte data file.
std::string ReadWithIndex(const tensorflow::BundleHeaderProto& header,
                          const tensorflow::BundleEntryProto& entry) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string prefix = dir + "/m";
  WriteFileAtomically(CheckpointDataPath(prefix), std::string(8, '\0'));
  WriteFileAtomically(CheckpointIndexPath(prefix),
                      BuildSortedTable({{"", SerializeDeterministic(header)},
                                        {"t", SerializeDeterministic(entry)}}));
  return ErrorOf([&] { ReadCheckpointV2(prefix); });
}

TEST(CheckpointV2, BadHeadersAndEntriesAreRejected) {
  tensorflow::BundleHeaderProto header;
  header.set_num_shards(1);
  header.mutable_version()->set_producer(1);
  tensorflow::BundleEntryProto entry;
  entry.set_dtype(tensorflow::DT_FLOAT);
  entry.mutable_shape()->add_dim()->set_size(2);
  entry.set_size(8);
  entry.set_crc32c(MaskCrc(Crc32c(std::string(8, '\0'))));

  auto h = header;
  h.set_num_shards(2);
  EXPECT_TRUE(Contains(ReadWithIndex(h, entry), "2 data shards"));
  h = header;
  h.set_endianness(tensorflow::BundleHeaderProto::BIG);
  EXPECT_TRUE(Contains(ReadWithIndex(h, entry), "big-endian"));
  h = header;
  h.mutable_version()->set_min_consumer(2);
  EXPECT_TRUE(Contains(ReadWithIndex(h, entry), "newer TF"));

  auto e = entry;
  e.set_dtype(tensorflow::DT_STRING);
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "tensor t: unsupported dtype DT_STRING"));
  e = entry;
  e.set_dtype(tensorflow::DT_HALF);
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "DT_HALF"));
  e = entry;
  e.set_size(12);
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "stored size 12 bytes, but float32 [2] needs 8"));
  e = entry;
  e.add_slices();
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "partitioned"));
  e = entry;
  e.set_shard_id(1);
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "shard 1"));
  e = entry;
  e.mutable_shape()->mutable_dim(0)->set_size(-1);
  EXPECT_TRUE(Contains(ReadWithIndex(header, e), "negative dimension"));
}

void ExpectNoTemporaries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) EXPECT_FALSE(Contains(e->d_name, ".tmp.")) << e->d_name;
  closedir(d);
}

TEST(CheckpointV2, FailedWriteLeavesTheExistingCheckpointAndNoTemporaries) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string prefix = dir + "/model.ckpt-1";
  const TensorMap old_tensors = MixedTensors();
  WriteCheckpointV2(prefix, old_tensors);
  const std::string old_index = ReadFileToString(CheckpointIndexPath(prefix));
  const std::string old_data = ReadFileToString(CheckpointDataPath(prefix));

  // The new data (64 KiB) exceeds a file-size limit of 4 KiB: the write fails mid-way (works
  // for root too, unlike permissions). SIGXFSZ would kill the process; ignore it.
  TensorMap bigger = old_tensors;
  bigger["z/big"] = Tensor::Zeros({16384}, DType::kFloat32);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string message = ErrorOf([&] { WriteCheckpointV2(prefix, bigger); });
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(Contains(message, CheckpointDataPath(prefix) + ": write error")) << message;
  EXPECT_TRUE(ReadFileToString(CheckpointIndexPath(prefix)) == old_index);
  EXPECT_TRUE(ReadFileToString(CheckpointDataPath(prefix)) == old_data);
  ExpectNoTemporaries(dir);

  // An unwritable directory (only meaningful when not root) and a missing directory.
  if (geteuid() != 0) {
    ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
    EXPECT_TRUE(Contains(ErrorOf([&] { WriteCheckpointV2(prefix, bigger); }), "cannot open"));
    chmod(dir.c_str(), 0755);
    EXPECT_TRUE(ReadFileToString(CheckpointIndexPath(prefix)) == old_index);
  }
  const std::string missing = dir + "/no/such/dir/model.ckpt-2";
  EXPECT_TRUE(
      Contains(ErrorOf([&] { WriteCheckpointV2(missing, bigger); }), CheckpointDataPath(missing)));
  ExpectNoTemporaries(dir);
  ExpectSameTensors(ReadCheckpointV2(prefix), old_tensors);
}

TEST(CheckpointV2, DeleteRemovesOnlyThatCheckpointsFiles) {
  const std::string dir = testing::MakeTempDir("ckpt_v2_");
  const std::string p1 = dir + "/model.ckpt-1";
  const std::string p10 = dir + "/model.ckpt-10";
  WriteCheckpointV2(p1, MixedTensors());
  WriteCheckpointV2(p10, MixedTensors());
  WriteFileAtomically(p1 + ".meta", "meta");
  WriteFileAtomically(p1 + ".data-00001-of-00002", "x");
  DeleteCheckpointFiles(p1);
  EXPECT_FALSE(PathExists(CheckpointIndexPath(p1)));
  EXPECT_FALSE(PathExists(CheckpointDataPath(p1)));
  EXPECT_FALSE(PathExists(p1 + ".meta"));
  EXPECT_FALSE(PathExists(p1 + ".data-00001-of-00002"));
  EXPECT_TRUE(CheckpointV2Exists(p10));
  EXPECT_NO_THROW(DeleteCheckpointFiles(p1));  // already gone
  EXPECT_FALSE(CheckpointV2Exists(p1));
}

// ---- V1 -----------------------------------------------------------------------------------

std::string BundleCheckpointImage() {
  magenta::GeneratorBundle bundle;
  ParseProtoOrThrow(ReadFileToString(testing::SharedPath(kBundle)), &bundle, kBundle);
  EXPECT_EQ(bundle.checkpoint_file_size(), 1);
  return bundle.checkpoint_file(0);
}

TEST(CheckpointV1, BundleImageParsesAndReserializesByteForByte) {
  MELODY_REQUIRE_SHARED(kBundle);
  const std::string image = BundleCheckpointImage();
  const TensorMap t = ParseCheckpointV1(image, "my_model.mag");
  ASSERT_EQ(t.size(), 14u);
  int64_t parameters = 0;
  for (const auto& [name, tensor] : t) {
    EXPECT_EQ(tensor.dtype(), DType::kFloat32) << name;
    parameters += tensor.numel();
  }
  EXPECT_EQ(parameters, 102166);
  const std::string cell0 = "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/";
  EXPECT_EQ(t.at(cell0 + "basic_lstm_cell/kernel").shape(), (Shape{138, 256}));
  EXPECT_EQ(t.at(cell0 + "attention/attn_w").shape(), (Shape{1, 1, 64, 64}));
  EXPECT_EQ(t.at(cell0 + "attn_output_projection/kernel").shape(), (Shape{128, 64}));
  // Spot values from the compat README.
  const float* biases = t.at("fully_connected/biases").data<float>();
  EXPECT_FLOAT_EQ(biases[0], -0.181056306f);
  EXPECT_FLOAT_EQ(biases[1], -0.174926266f);
  EXPECT_FLOAT_EQ(biases[2], -0.163125187f);
  double sum = 0;
  for (int i = 0; i < 40; ++i) sum += biases[i];
  EXPECT_NEAR(sum, -1.521372, 1e-5);
  const float* k1 = t.at("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel").data<float>();
  EXPECT_FLOAT_EQ(k1[0], 0.0811214224f);
  EXPECT_FLOAT_EQ(k1[1], 0.112721026f);
  EXPECT_FLOAT_EQ(k1[2], -0.128458202f);
  EXPECT_TRUE(SerializeCheckpointV1(t) == image);
}

TEST(CheckpointV1, SliceKeysFollowOrderedCode) {
  TensorMap m;
  m["fully_connected/biases"] = Tensor::Zeros({40}, DType::kFloat32);
  m["fully_connected/weights"] = Tensor::Zeros({64, 40}, DType::kFloat32);
  m["s"] = Tensor::Zeros({}, DType::kInt64);
  const auto entries = ParseSortedTable(SerializeCheckpointV1(m), "v1");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].first, "");
  EXPECT_EQ(entries[1].first, std::string("\0fully_connected/biases\0\x01\x01\x01\x80\x7f", 29));
  EXPECT_EQ(entries[2].first,
            std::string("\0fully_connected/weights\0\x01\x01\x02\x80\x7f\x80\x7f", 32));
  EXPECT_EQ(entries[3].first, std::string("\0s\0\x01\x00", 5));
  // The biases record as formats.md §8.3 lays it out: name, one empty extent, float_val.
  EXPECT_EQ(entries[1].second.substr(0, 31), std::string("\x12\xc2\x01\x0a\x16"
                                                         "fully_connected/biases"
                                                         "\x12\x02\x0a\x00",
                                                         31));
}

TEST(CheckpointV1, RoundTripIsBitExact) {
  const TensorMap tensors = MixedTensors();
  ExpectSameTensors(ParseCheckpointV1(SerializeCheckpointV1(tensors), "v1"), tensors);
}

TEST(CheckpointV1, TensorContentAcceptedAndBadRecordsRejected) {
  // A record whose values are raw tensor_content instead of float_val.
  tensorflow::SavedTensorSlices meta;
  auto* m = meta.mutable_meta()->add_tensor();
  m->set_name("w");
  m->mutable_shape()->add_dim()->set_size(2);
  m->set_type(tensorflow::DT_FLOAT);
  m->add_slice()->add_extent();
  tensorflow::SavedTensorSlices data;
  data.mutable_data()->set_name("w");
  const float values[2] = {1.5f, -2.0f};
  data.mutable_data()->mutable_data()->set_tensor_content(
      std::string(reinterpret_cast<const char*>(values), sizeof values));
  auto image = [&](const tensorflow::SavedTensorSlices& record) {
    return BuildSortedTable(
        {{"", SerializeDeterministic(meta)},
         {std::string("\0w\0\x01\x01\x01\x80\x7f", 8), SerializeDeterministic(record)}});
  };
  const TensorMap t = ParseCheckpointV1(image(data), "v1");
  EXPECT_EQ(t.at("w").ToVector(), (std::vector<float>{1.5f, -2.0f}));

  auto short_record = data;
  short_record.mutable_data()->mutable_data()->clear_tensor_content();
  short_record.mutable_data()->mutable_data()->add_float_val(1.0f);
  EXPECT_TRUE(Contains(ErrorOf([&] { ParseCheckpointV1(image(short_record), "b.mag"); }),
                       "b.mag: tensor w: 1 values stored, shape [2] needs 2"));
  auto other = data;
  other.mutable_data()->set_name("v");
  EXPECT_TRUE(Contains(ErrorOf([&] { ParseCheckpointV1(image(other), "b.mag"); }),
                       "tensor v: data record without metadata"));
  const std::string meta_only = BuildSortedTable({{"", SerializeDeterministic(meta)}});
  EXPECT_TRUE(Contains(ErrorOf([&] { ParseCheckpointV1(meta_only, "b.mag"); }),
                       "tensor w has no data record"));
  auto sliced = data;
  sliced.mutable_data()->mutable_slice()->add_extent()->set_length(1);
  EXPECT_TRUE(Contains(ErrorOf([&] { ParseCheckpointV1(image(sliced), "b.mag"); }), "partitioned"));
}

// Every one-byte change of a V1 image or of a V2 index either throws melody::Error or reads
// back the very same tensors (the block CRCs leave only footer padding unprotected).
TEST(CheckpointFormats, ByteFlipsAreCaughtOrHarmless) {
  const TensorMap tensors = MixedTensors();
  const std::string v1 = SerializeCheckpointV1(tensors);
  const std::string dir = testing::MakeTempDir("ckpt_flip_");
  const std::string prefix = dir + "/m";
  WriteCheckpointV2(prefix, tensors);
  const std::string index = ReadFileToString(CheckpointIndexPath(prefix));
  size_t errors = 0, total = 0;
  for (size_t pos = 0; pos < v1.size(); ++pos) {
    std::string bytes = v1;
    bytes[pos] ^= 0x21;
    ++total;
    try {
      ExpectSameTensors(ParseCheckpointV1(bytes, "flipped"), tensors);
    } catch (const Error&) {
      ++errors;
    }
  }
  for (size_t pos = 0; pos < index.size(); ++pos) {
    std::string bytes = index;
    bytes[pos] ^= 0x21;
    std::ofstream(CheckpointIndexPath(prefix), std::ios::binary | std::ios::trunc)
        << bytes;  // no fsync: fast
    ++total;
    try {
      ExpectSameTensors(ReadCheckpointV2(prefix), tensors);
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, total - 2 * 40);  // at most the two footers' padding is harmless
}

// ---- The `checkpoint` state file ---------------------------------------------------------

TEST(CheckpointState, RealFilesParseAndRewriteIdentically) {
  MELODY_REQUIRE_SHARED(kAttentionDir);
  const char* dirs[] = {kAttentionDir, kBasic2017Dir, kPolyphonyDir};
  const size_t counts[] = {10, 5, 10};
  for (size_t i = 0; i < 3; ++i) {
    const std::string dir = testing::SharedPath(dirs[i]);
    const CheckpointStateRead read = ReadCheckpointStateFile(dir);
    ASSERT_EQ(read.status, CheckpointStateRead::Status::kOk) << read.error;
    EXPECT_EQ(read.state.all_model_checkpoint_paths.size(), counts[i]) << dir;
    EXPECT_EQ(read.state.all_model_checkpoint_paths.back(), read.state.model_checkpoint_path);
    EXPECT_EQ(FormatCheckpointState(read.state), ReadFileToString(dir + "/checkpoint")) << dir;
  }
  const std::string attention = testing::SharedPath(kAttentionDir);
  const CheckpointStateRead read = ReadCheckpointStateFile(attention);
  EXPECT_EQ(read.state.model_checkpoint_path, "model.ckpt-12949");
  EXPECT_EQ(read.state.all_model_checkpoint_paths.front(), "model.ckpt-12643");
  EXPECT_EQ(LatestCheckpoint(attention), attention + "/model.ckpt-12949");
  // The index-only checkpoint's data file is missing: no usable latest checkpoint.
  EXPECT_EQ(LatestCheckpoint(testing::SharedPath(kPolyphonyDir)), "");
}

CheckpointStateRead ParseState(const std::string& text) {
  const std::string dir = testing::MakeTempDir("ckpt_state_");
  WriteFileAtomically(dir + "/checkpoint", text);
  return ReadCheckpointStateFile(dir);
}

TEST(CheckpointState, VariantsTfCanWrite) {
  // Absolute paths, timestamps, comments, both quote styles, escapes, list syntax.
  const CheckpointStateRead read = ParseState(
      "# written by hand\n"
      "model_checkpoint_path: \"/abs/run/train/model.ckpt-20\"\n"
      "all_model_checkpoint_paths: '/abs/run/train/model.ckpt-10'\n"
      "all_model_checkpoint_paths: \"/abs/dir with "
      "\\\"quotes\\\"/tab\\there\\n\\101\\x42\\303\\251\"\n"
      "all_model_checkpoint_paths: [\"a\" \"b\", 'c']\n"
      "all_model_checkpoint_timestamps: 1557859151.123\n"
      "all_model_checkpoint_timestamps: [1.5e9, 2]\n"
      "last_preserved_timestamp: 1557855000.0\n");
  ASSERT_EQ(read.status, CheckpointStateRead::Status::kOk) << read.error;
  EXPECT_EQ(read.state.model_checkpoint_path, "/abs/run/train/model.ckpt-20");
  ASSERT_EQ(read.state.all_model_checkpoint_paths.size(), 4u);
  EXPECT_EQ(read.state.all_model_checkpoint_paths[1],
            "/abs/dir with \"quotes\"/tab\there\nAB\xc3\xa9");
  EXPECT_EQ(read.state.all_model_checkpoint_paths[2], "ab");
  EXPECT_EQ(read.state.all_model_checkpoint_paths[3], "c");
  EXPECT_EQ(ResolveCheckpointPath("/x/train", "/abs/run/train/model.ckpt-20"),
            "/abs/run/train/model.ckpt-20");
  EXPECT_EQ(ResolveCheckpointPath("/x/train", "model.ckpt-20"), "/x/train/model.ckpt-20");
  EXPECT_EQ(ResolveCheckpointPath("", "model.ckpt-20"), "model.ckpt-20");

  // Missing all_model_checkpoint_paths; fields on one line; unknown fields are skipped.
  const CheckpointStateRead minimal =
      ParseState("model_checkpoint_path: \"m-1\" future_field: 3 other { x: \"y\" } list: [1, 2]");
  ASSERT_EQ(minimal.status, CheckpointStateRead::Status::kOk) << minimal.error;
  EXPECT_EQ(minimal.state.model_checkpoint_path, "m-1");
  EXPECT_TRUE(minimal.state.all_model_checkpoint_paths.empty());
}

TEST(CheckpointState, MissingAndUnparsable) {
  EXPECT_EQ(ReadCheckpointStateFile(testing::MakeTempDir("ckpt_state_")).status,
            CheckpointStateRead::Status::kMissing);
  const char* bad[] = {
      "model_checkpoint_path: \"unterminated\n",
      "model_checkpoint_path: unquoted\n",
      "model_checkpoint_path \"no colon\"\n",
      "model_checkpoint_path: \"bad escape \\q\"\n",
      "all_model_checkpoint_paths: \"only the list\"\n",
      "",
      "model_checkpoint_path: \"a\"\nall_model_checkpoint_timestamps: soon\n",
      "\x89PNG garbage",
  };
  for (const char* text : bad) {
    const CheckpointStateRead read = ParseState(text);
    EXPECT_EQ(read.status, CheckpointStateRead::Status::kUnparsable) << text;
    EXPECT_TRUE(Contains(read.error, "/checkpoint: not a valid checkpoint state file: line "))
        << read.error;
  }
}

TEST(CheckpointState, WriteReadRoundTripAndLatest) {
  const std::string dir = testing::MakeTempDir("ckpt_state_");
  CheckpointStateFile state;
  state.model_checkpoint_path = "model.ckpt-3";
  state.all_model_checkpoint_paths = {"odd \"name\"\\ \xc3\xa9\t", "model.ckpt-3"};
  WriteCheckpointStateFile(dir, state);
  EXPECT_EQ(ReadFileToString(dir + "/checkpoint"),
            "model_checkpoint_path: \"model.ckpt-3\"\n"
            "all_model_checkpoint_paths: \"odd \\\"name\\\"\\\\ \\303\\251\\t\"\n"
            "all_model_checkpoint_paths: \"model.ckpt-3\"\n");
  const CheckpointStateRead read = ReadCheckpointStateFile(dir);
  ASSERT_EQ(read.status, CheckpointStateRead::Status::kOk) << read.error;
  EXPECT_EQ(read.state.all_model_checkpoint_paths, state.all_model_checkpoint_paths);
  ExpectNoTemporaries(dir);

  EXPECT_EQ(LatestCheckpoint(dir), "");  // files not written yet
  WriteCheckpointV2(dir + "/model.ckpt-3", MixedTensors());
  EXPECT_EQ(LatestCheckpoint(dir), dir + "/model.ckpt-3");
  state.model_checkpoint_path = dir + "/model.ckpt-3";  // absolute
  WriteCheckpointStateFile(dir, state);
  EXPECT_EQ(LatestCheckpoint(dir), dir + "/model.ckpt-3");
  WriteFileAtomically(dir + "/checkpoint", "garbage");
  EXPECT_EQ(LatestCheckpoint(dir), "");
}

}  // namespace
}  // namespace melody
