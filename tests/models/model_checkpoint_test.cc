// Model variables <-> checkpoint tensors (formats.md §6, §8.4; model.md §3): legacy names,
// the model shape a real checkpoint or bundle implies, loading weights into a layout built
// from it, training-checkpoint round trips (the compat attention checkpoint is rewritten
// byte for byte through TrainingCheckpoint), and the file the TF cross-check script reads
// (MELODY_KEEP_CHECKPOINT_DIR, see tests/reference/README.md).
#include "models/model_checkpoint.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "generator.pb.h"
#include "tests/test_util.h"

namespace melody {
namespace {

const char kAttentionPrefix[] =
    "data/compat/checkpoints_v2/attention_rnn_64x64_tf1.13/model.ckpt-12949";
const char kBasic2017Prefix[] = "data/compat/checkpoints_v2/basic_rnn_64x64_tf1.0/model.ckpt-50";
const char kPolyphonyPrefix[] =
    "data/compat/checkpoints_v2/polyphony_3x256_tf2.10_index_only/model.ckpt-10000";
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

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

ModelShape MakeShape(int input, int classes, std::vector<int> layers, int attn, bool residual) {
  ModelShape s;
  s.input_size = input;
  s.num_classes = classes;
  s.layer_sizes = std::move(layers);
  s.attn_length = attn;
  s.residual_connections = residual;
  return s;
}

void ExpectShape(const ModelShape& got, const ModelShape& want) {
  EXPECT_EQ(got.input_size, want.input_size);
  EXPECT_EQ(got.num_classes, want.num_classes);
  EXPECT_EQ(got.layer_sizes, want.layer_sizes);
  EXPECT_EQ(got.attn_length, want.attn_length);
  EXPECT_EQ(got.residual_connections, want.residual_connections);
}

TEST(ModelCheckpoint, LegacyNamesMapToCurrentOnes) {
  EXPECT_EQ(CanonicalVariableName("RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Matrix"),
            "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel");
  EXPECT_EQ(CanonicalVariableName("RNN/MultiRNNCell/Cell12/BasicLSTMCell/Linear/Bias/Adam_1"),
            "rnn/multi_rnn_cell/cell_12/basic_lstm_cell/bias/Adam_1");
  EXPECT_EQ(CanonicalVariableName("RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix/Adam"),
            "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel/Adam");
  for (const char* unchanged : {"fully_connected/weights", "global_step", "beta1_power",
                                "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
                                "RNN/MultiRNNCell/Cell/BasicLSTMCell/"
                                "Linear/Bias",
                                "RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Other",
                                "RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Bias/Momentum"})
    EXPECT_EQ(CanonicalVariableName(unchanged), unchanged);

  TensorMap clash;
  clash["RNN/MultiRNNCell/Cell0/BasicLSTMCell/Linear/Bias"] = Tensor::Zeros({4}, DType::kFloat32);
  clash["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias"] = Tensor::Zeros({4}, DType::kFloat32);
  const std::string message = ErrorOf([&] { CanonicalizeCheckpointTensors(clash); });
  EXPECT_NE(message.find("both map to rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias"),
            std::string::npos)
      << message;
}

TEST(ModelCheckpoint, Basic2017CheckpointCanonicalizes) {
  MELODY_REQUIRE_SHARED(CheckpointIndexPath(kBasic2017Prefix));
  const TensorMap stored = ReadCheckpointV2(testing::SharedPath(kBasic2017Prefix));
  const TensorMap t = CanonicalizeCheckpointTensors(stored);
  ASSERT_EQ(t.size(), stored.size());
  EXPECT_EQ(t.at("global_step").dtype(), DType::kInt64);
  EXPECT_EQ(t.at("global_step").data<int64_t>()[0], 50);
  EXPECT_TRUE(SameBytes(t.at("rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel/Adam_1"),
                        stored.at("RNN/MultiRNNCell/Cell1/BasicLSTMCell/Linear/Matrix/Adam_1")));
  for (const auto& [name, tensor] : t) EXPECT_EQ(name.find("RNN/"), std::string::npos) << name;
  const ModelShape shape = InferModelShape(stored, 40);  // legacy names accepted directly
  ExpectShape(shape, MakeShape(38, 38, {64, 64}, 0, false));

  // Resaved under today's names with an int64 step; reads back equal.
  const ModelLayout layout = ModelLayout::Build(shape);
  const TrainingCheckpoint ckpt = TrainingCheckpointFromTensors(layout, stored, "2017");
  EXPECT_EQ(ckpt.global_step, 50);
  const std::string prefix = testing::MakeTempDir("model_ckpt_") + "/model.ckpt-50";
  WriteCheckpointV2(prefix, TrainingCheckpointTensors(ckpt));
  const TensorMap back = ReadCheckpointV2(prefix);
  ASSERT_EQ(back.size(), t.size());
  for (const auto& [name, tensor] : t) EXPECT_TRUE(SameBytes(back.at(name), tensor)) << name;
}

TEST(ModelCheckpoint, AttentionCheckpointShapeLoadAndByteIdenticalResave) {
  MELODY_REQUIRE_SHARED(CheckpointIndexPath(kAttentionPrefix));
  const std::string prefix = testing::SharedPath(kAttentionPrefix);
  const TensorMap t = ReadCheckpointV2(prefix);
  const ModelShape shape = InferModelShape(t, 40);
  ExpectShape(shape, MakeShape(74, 40, {64, 64}, 40, false));
  const ModelLayout layout = ModelLayout::Build(shape);
  EXPECT_EQ(layout.NumParameters(), 102166);

  Parameters weights(layout);
  LoadParameters(t, &weights, prefix);
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_TRUE(SameBytes(weights.at(i), t.at(weights.name(i)))) << weights.name(i);

  const TrainingCheckpoint ckpt = TrainingCheckpointFromTensors(layout, t, prefix);
  EXPECT_EQ(ckpt.global_step, 12949);
  EXPECT_EQ(ckpt.beta1_power, 0.0f);
  EXPECT_FLOAT_EQ(ckpt.beta2_power, 2.361270617e-06f);
  // Through TrainingCheckpoint and back out: TF's own two files, byte for byte.
  const CheckpointV2Files files = SerializeCheckpointV2(TrainingCheckpointTensors(ckpt));
  EXPECT_TRUE(files.index == ReadFileToString(CheckpointIndexPath(prefix)));
  EXPECT_TRUE(files.data == ReadFileToString(CheckpointDataPath(prefix)));
}

TEST(ModelCheckpoint, BundleWeightsLoadIntoTheInferredModel) {
  MELODY_REQUIRE_SHARED(kBundle);
  magenta::GeneratorBundle bundle;
  ParseProtoOrThrow(ReadFileToString(testing::SharedPath(kBundle)), &bundle, kBundle);
  const TensorMap t = ParseCheckpointV1(bundle.checkpoint_file(0), kBundle);
  ExpectShape(InferModelShape(t, 40), MakeShape(74, 40, {64, 64}, 40, false));
  Parameters weights(ModelLayout::Build(InferModelShape(t, 40)));
  LoadParameters(t, &weights, kBundle);
  EXPECT_FLOAT_EQ(weights.Get("fully_connected/biases").data<float>()[0], -0.181056306f);
  // The bundle has no optimizer state: a training checkpoint cannot come from it.
  const std::string message =
      ErrorOf([&] { TrainingCheckpointFromTensors(weights.layout(), t, "my_model.mag"); });
  EXPECT_NE(message.find("my_model.mag: checkpoint is missing variable "
                         "rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/kernel/Adam"),
            std::string::npos)
      << message;
  // Without attn_length the attention model cannot be built.
  EXPECT_NE(ErrorOf([&] { InferModelShape(t, 0); }).find("attn_length"), std::string::npos);
}

TEST(ModelCheckpoint, IndexOnlyPolyphonyShape) {
  MELODY_REQUIRE_SHARED(CheckpointIndexPath(kPolyphonyPrefix));
  TensorMap t;  // zero tensors with the listed shapes: InferModelShape only needs shapes
  for (const auto& [name, info] : ListCheckpointV2(testing::SharedPath(kPolyphonyPrefix)))
    t[name] = Tensor(info.second, info.first);
  ExpectShape(InferModelShape(t, 40), MakeShape(388, 388, {256, 256, 256}, 0, false));
}

TEST(ModelCheckpoint, InferredShapeRoundTripsForEveryLayoutKind) {
  const ModelShape shapes[] = {
      MakeShape(38, 38, {128, 128}, 0, false),     // basic_rnn-like
      MakeShape(121, 40, {32}, 0, false),          // one layer
      MakeShape(74, 40, {16, 24, 24}, 40, false),  // attention
      MakeShape(20, 9, {16, 16, 24}, 0, true),     // residual, projection on 0 and 2
      MakeShape(20, 9, {16, 16}, 8, true),         // residual + attention
  };
  for (const ModelShape& shape : shapes) {
    Parameters params(ModelLayout::Build(shape));
    TensorMap t;
    AddParameters(params, "", &t);
    ExpectShape(InferModelShape(t, shape.attn_length > 0 ? shape.attn_length : 40), shape);
  }
}

TEST(ModelCheckpoint, MissingAndMismatchedVariablesAreNamed) {
  const ModelShape shape = MakeShape(10, 5, {8, 6}, 0, false);
  Parameters params(ModelLayout::Build(shape));
  params.InitializeRandom(1);
  TensorMap t;
  AddParameters(params, "", &t);

  Parameters wrong(ModelLayout::Build(MakeShape(10, 5, {8, 7}, 0, false)));
  std::string message = ErrorOf([&] { LoadParameters(t, &wrong, "run/train/model.ckpt-5"); });
  EXPECT_EQ(message,
            "run/train/model.ckpt-5: variable rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel: "
            "checkpoint shape [14, 24], model shape [15, 28]");

  TensorMap missing = t;
  missing.erase("fully_connected/weights");
  message = ErrorOf([&] { LoadParameters(missing, &params, "ckpt"); });
  EXPECT_EQ(message, "ckpt: checkpoint is missing variable fully_connected/weights");
  EXPECT_NE(ErrorOf([&] { InferModelShape(missing, 40); }).find("fully_connected/weights"),
            std::string::npos);
  missing.erase("fully_connected/biases");
  EXPECT_NE(ErrorOf([&] { InferModelShape(missing, 40); }).find("fully_connected/biases"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { InferModelShape({}, 40); }).find("no fully_connected/biases"),
            std::string::npos);

  TensorMap doubles = t;
  doubles["fully_connected/biases"] = Tensor::Zeros({5}, DType::kFloat64);
  message = ErrorOf([&] { LoadParameters(doubles, &params, "ckpt"); });
  EXPECT_NE(message.find("checkpoint dtype float64"), std::string::npos) << message;

  // Extra tensors are ignored.
  TensorMap extra = t;
  extra["unrelated/thing"] = Tensor::Zeros({3}, DType::kInt32);
  Parameters loaded(params.layout());
  LoadParameters(extra, &loaded, "ckpt");
  for (size_t i = 0; i < loaded.size(); ++i) EXPECT_TRUE(SameBytes(loaded.at(i), params.at(i)));
}

TrainingCheckpoint RandomTrainingCheckpoint(const ModelLayout& layout) {
  TrainingCheckpoint c;
  c.weights = Parameters(layout);
  c.adam_m = Parameters(layout);
  c.adam_s = Parameters(layout);
  c.weights.InitializeRandom(11);
  c.adam_m.InitializeRandom(12);
  c.adam_s.InitializeRandom(13);
  c.beta1_power = 0.9f * 0.9f * 0.9f;
  c.beta2_power = 0.997002999f;
  c.global_step = 2;
  return c;
}

TEST(ModelCheckpoint, TrainingCheckpointRoundTripThroughV2) {
  const ModelLayout layout = ModelLayout::Build(MakeShape(12, 7, {8, 6}, 5, false));
  TrainingCheckpoint c = RandomTrainingCheckpoint(layout);
  const TensorMap tensors = TrainingCheckpointTensors(c);
  EXPECT_EQ(tensors.size(), 3 * layout.variables.size() + 3);
  EXPECT_EQ(tensors.at("global_step").dtype(), DType::kInt64);
  EXPECT_EQ(tensors.at("beta1_power").shape(), Shape{});
  EXPECT_TRUE(
      tensors.count("rnn/multi_rnn_cell/cell_0/attention_cell_wrapper/attention/attn_w/Adam_1"));

  const std::string prefix = testing::MakeTempDir("model_ckpt_") + "/model.ckpt-2";
  WriteCheckpointV2(prefix, tensors);
  const TrainingCheckpoint back =
      TrainingCheckpointFromTensors(layout, ReadCheckpointV2(prefix), prefix);
  EXPECT_EQ(back.global_step, 2);
  EXPECT_EQ(back.beta1_power, c.beta1_power);
  EXPECT_EQ(back.beta2_power, c.beta2_power);
  for (size_t i = 0; i < layout.variables.size(); ++i) {
    EXPECT_TRUE(SameBytes(back.weights.at(i), c.weights.at(i))) << layout.variables[i].name;
    EXPECT_TRUE(SameBytes(back.adam_m.at(i), c.adam_m.at(i))) << layout.variables[i].name;
    EXPECT_TRUE(SameBytes(back.adam_s.at(i), c.adam_s.at(i))) << layout.variables[i].name;
  }
  // The copies do not alias the live parameters.
  c.weights.at(0).data<float>()[0] += 1.0f;
  EXPECT_FALSE(SameBytes(tensors.at(layout.variables[0].name), c.weights.at(0)));

  TensorMap no_step = tensors;
  no_step.erase("global_step");
  EXPECT_NE(ErrorOf([&] {
              TrainingCheckpointFromTensors(layout, no_step, "x");
            }).find("x: checkpoint is missing variable global_step"),
            std::string::npos);
  TensorMap float_step = tensors;
  float_step["global_step"] = Tensor::Zeros({}, DType::kFloat32);
  EXPECT_NE(ErrorOf([&] {
              TrainingCheckpointFromTensors(layout, float_step, "x");
            }).find("expected a int64 scalar"),
            std::string::npos);
}

// Writes a training checkpoint (plus float64/int32 extras), its state file, a V1 image and a
// JSON dump of every tensor for tests/reference/check_checkpoint_with_tf.py.
TEST(ModelCheckpoint, WritesFilesForTheTfCrossCheckWhenAsked) {
  const char* dir = std::getenv("MELODY_KEEP_CHECKPOINT_DIR");
  if (!dir || !*dir)
    GTEST_SKIP() << "set MELODY_KEEP_CHECKPOINT_DIR to write the files the TF cross-check reads";
  MakeDirectories(dir);
  const ModelLayout layout = ModelLayout::Build(MakeShape(12, 7, {8, 6}, 5, false));
  TensorMap tensors = TrainingCheckpointTensors(RandomTrainingCheckpoint(layout));
  Tensor doubles({2, 3}, DType::kFloat64);
  for (int i = 0; i < 6; ++i) doubles.data<double>()[i] = 1.0 / (i + 3) - 0.25;
  Tensor ints({4}, DType::kInt32);
  for (int i = 0; i < 4; ++i) ints.data<int32_t>()[i] = -2000000000 + 1234567 * i;
  tensors["extra/float64"] = doubles;
  tensors["extra/int32"] = ints;
  // Large enough for TF's block policy to matter in the V1 image: 160 KB, then 560 KB
  // (>= two 256 KiB blocks, so TF flushes before adding it and it sits in a block alone).
  for (const auto& [name, n] :
       {std::pair<const char*, int64_t>{"extra/mid", 40000}, {"extra/big", 140000}}) {
    Tensor t({n}, DType::kFloat32);
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(i % 977) * 0.125f - 7;
    tensors[name] = t;
  }

  const std::string prefix = JoinPath(dir, "model.ckpt-2");
  WriteCheckpointV2(prefix, tensors);
  WriteCheckpointStateFile(dir, {"model.ckpt-2", {"model.ckpt-2"}});
  WriteFileAtomically(JoinPath(dir, "v1_image.ckpt"), SerializeCheckpointV1(tensors));

  nlohmann::json dump = nlohmann::json::object();
  for (const auto& [name, t] : tensors) {
    nlohmann::json values = nlohmann::json::array();
    for (int64_t i = 0; i < t.numel(); ++i) {
      switch (t.dtype()) {
        case DType::kFloat32: values.push_back(static_cast<double>(t.data<float>()[i])); break;
        case DType::kFloat64: values.push_back(t.data<double>()[i]); break;
        case DType::kInt32: values.push_back(t.data<int32_t>()[i]); break;
        case DType::kInt64: values.push_back(t.data<int64_t>()[i]); break;
      }
    }
    dump[name] = {{"dtype", DTypeName(t.dtype())}, {"shape", t.shape()}, {"values", values}};
  }
  WriteFileAtomically(JoinPath(dir, "expected.json"), dump.dump(1) + "\n");
  EXPECT_EQ(ReadCheckpointV2(prefix).size(), tensors.size());
}

}  // namespace
}  // namespace melody
