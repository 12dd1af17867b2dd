#include "models/model_checkpoint.h"

#include <cctype>
#include <cstring>

#include "core/error.h"

namespace melody {
namespace {

constexpr char kLegacyCellStart[] = "RNN/MultiRNNCell/Cell";
constexpr char kLegacyLinear[] = "/BasicLSTMCell/Linear/";
constexpr char kGlobalStep[] = "global_step";
constexpr char kBeta1Power[] = "beta1_power";
constexpr char kBeta2Power[] = "beta2_power";
constexpr char kFcBiases[] = "fully_connected/biases";

bool StartsWith(const std::string& s, const std::string& start) {
  return s.compare(0, start.size(), start) == 0;
}

// The tensor stored under `name`, or under a legacy name that maps to it; nullptr if none.
const Tensor* FindTensor(const TensorMap& tensors, const std::string& name) {
  auto it = tensors.find(name);
  if (it != tensors.end()) return &it->second;
  for (const auto& [stored, tensor] : tensors)
    if (CanonicalVariableName(stored) == name) return &tensor;
  return nullptr;
}

std::string CellScope(size_t k) { return "rnn/multi_rnn_cell/cell_" + std::to_string(k) + "/"; }

// The scope holding cell k's LSTM (with its optional wrappers), or "" when the checkpoint
// has no LSTM for cell k.
std::string FindLstmScope(const TensorMap& tensors, size_t k) {
  for (const char* wrappers : {"", "attention_cell_wrapper/", "input_projection_wrapper/",
                               "input_projection_wrapper/attention_cell_wrapper/"}) {
    const std::string scope = CellScope(k) + wrappers + "basic_lstm_cell/";
    if (tensors.count(scope + "bias")) return scope;
  }
  return "";
}

const Tensor& Require(const TensorMap& tensors, const std::string& name, const std::string& why) {
  auto it = tensors.find(name);
  MELODY_REQUIRE(it != tensors.end()) << "checkpoint has no " << name << " (" << why << ")";
  return it->second;
}

int64_t Dim(const Tensor& t, int rank, int i, const std::string& name) {
  MELODY_REQUIRE(t.rank() == rank) << "checkpoint tensor " << name << " has shape "
                                   << ShapeToString(t.shape()) << ", expected rank " << rank;
  return t.dim(i);
}

// Copies `stored` into `target` after checking dtype and shape; messages name `name`.
void CopyVariable(const Tensor* stored, const std::string& name, Tensor* target,
                  const std::string& what) {
  MELODY_REQUIRE(stored) << what << ": checkpoint is missing variable " << name;
  MELODY_REQUIRE(stored->dtype() == DType::kFloat32)
      << what << ": variable " << name << ": checkpoint dtype " << DTypeName(stored->dtype())
      << ", model dtype float32";
  MELODY_REQUIRE(stored->shape() == target->shape())
      << what << ": variable " << name << ": checkpoint shape " << ShapeToString(stored->shape())
      << ", model shape " << ShapeToString(target->shape());
  target->CopyFrom(*stored);
}

// Every variable of params->layout() from the tensor named <variable><suffix>.
void LoadWithSuffix(const TensorMap& tensors, const std::string& suffix, Parameters* params,
                    const std::string& what) {
  for (size_t i = 0; i < params->size(); ++i) {
    const std::string name = params->name(i) + suffix;
    CopyVariable(FindTensor(tensors, name), name, &params->at(i), what);
  }
}

template <typename T>
T ReadScalar(const TensorMap& tensors, const std::string& name, const std::string& what) {
  const Tensor* t = FindTensor(tensors, name);
  MELODY_REQUIRE(t) << what << ": checkpoint is missing variable " << name;
  MELODY_REQUIRE(t->dtype() == DTypeOf<T>::value && t->numel() == 1 && t->rank() <= 1)
      << what << ": variable " << name << ": expected a " << DTypeName(DTypeOf<T>::value)
      << " scalar, checkpoint has " << DTypeName(t->dtype()) << " " << ShapeToString(t->shape());
  return t->CopyTo(Device::CPU()).data<T>()[0];
}

template <typename T>
Tensor Scalar(T value) {
  Tensor t(Shape{}, DTypeOf<T>::value);
  t.data<T>()[0] = value;
  return t;
}

}  // namespace

std::string CanonicalVariableName(const std::string& name) {
  // RNN/MultiRNNCell/Cell<k>/BasicLSTMCell/Linear/{Matrix,Bias}[/Adam|/Adam_1]
  if (!StartsWith(name, kLegacyCellStart)) return name;
  size_t pos = std::strlen(kLegacyCellStart);
  const size_t digits_start = pos;
  while (pos < name.size() && std::isdigit(static_cast<unsigned char>(name[pos]))) ++pos;
  if (pos == digits_start || name.compare(pos, std::strlen(kLegacyLinear), kLegacyLinear) != 0)
    return name;
  const std::string cell = name.substr(digits_start, pos - digits_start);
  const std::string rest = name.substr(pos + std::strlen(kLegacyLinear));
  for (const char* suffix : {"", "/Adam", "/Adam_1"}) {
    if (rest == std::string("Matrix") + suffix)
      return "rnn/multi_rnn_cell/cell_" + cell + "/basic_lstm_cell/kernel" + suffix;
    if (rest == std::string("Bias") + suffix)
      return "rnn/multi_rnn_cell/cell_" + cell + "/basic_lstm_cell/bias" + suffix;
  }
  return name;
}

TensorMap CanonicalizeCheckpointTensors(TensorMap tensors) {
  TensorMap out;
  std::map<std::string, std::string> source;  // canonical name -> name it came from
  for (auto& [name, tensor] : tensors) {
    std::string canonical = CanonicalVariableName(name);
    auto [it, inserted] = source.emplace(canonical, name);
    MELODY_REQUIRE(inserted) << "checkpoint tensors " << it->second << " and " << name
                             << " both map to " << canonical;
    if (canonical == kGlobalStep && tensor.dtype() == DType::kInt32) {
      // TF 1.0 stored global_step as int32; today's variable is int64.
      Tensor wide(tensor.shape(), DType::kInt64);
      const Tensor host = tensor.CopyTo(Device::CPU());
      for (int64_t i = 0; i < host.numel(); ++i) wide.data<int64_t>()[i] = host.data<int32_t>()[i];
      tensor = wide;
    }
    out.emplace(std::move(canonical), std::move(tensor));
  }
  return out;
}

ModelShape InferModelShape(const TensorMap& stored, int attn_length_if_attention) {
  const TensorMap tensors = CanonicalizeCheckpointTensors(stored);
  ModelShape shape;
  shape.num_classes =
      static_cast<int>(Dim(Require(tensors, kFcBiases, "number of classes"), 1, 0, kFcBiases));
  std::string scope0;
  for (size_t k = 0;; ++k) {
    const std::string scope = FindLstmScope(tensors, k);
    if (scope.empty()) break;
    if (k == 0) scope0 = scope;
    const std::string bias = scope + "bias";
    const int64_t gates = Dim(tensors.at(bias), 1, 0, bias);
    MELODY_REQUIRE(gates > 0 && gates % 4 == 0)
        << "checkpoint tensor " << bias << " has " << gates << " entries, not 4 gates x layer size";
    shape.layer_sizes.push_back(static_cast<int>(gates / 4));
  }
  MELODY_REQUIRE(!shape.layer_sizes.empty())
      << "checkpoint has no rnn/multi_rnn_cell/cell_0/.../basic_lstm_cell/bias (LSTM layer "
         "sizes)";
  const std::string cell0 = CellScope(0);
  shape.residual_connections = StartsWith(scope0, cell0 + "input_projection_wrapper/");
  const bool attention = scope0.find("attention_cell_wrapper/") != std::string::npos;
  if (attention) {
    MELODY_REQUIRE(attn_length_if_attention > 0)
        << "checkpoint has attention variables but attn_length " << attn_length_if_attention
        << " was given (attn_length is not stored in checkpoints)";
    shape.attn_length = attn_length_if_attention;
  }
  // The input width: the layer-0 input projection's rows (residual), else the attention
  // wrapper's input projection width, else the LSTM kernel's rows minus its output width.
  if (shape.residual_connections) {
    const std::string name = cell0 + "input_projection_wrapper/kernel";
    shape.input_size = static_cast<int>(Dim(Require(tensors, name, "input size"), 2, 0, name));
  } else if (attention) {
    const std::string name = cell0 + "attention_cell_wrapper/bias";
    shape.input_size = static_cast<int>(Dim(Require(tensors, name, "input size"), 1, 0, name));
  } else {
    const std::string name = scope0 + "kernel";
    shape.input_size = static_cast<int>(Dim(Require(tensors, name, "input size"), 2, 0, name) -
                                        shape.layer_sizes[0]);
  }
  // Every variable of the implied model must be there with its shape.
  const ModelLayout layout = ModelLayout::Build(shape);
  for (const VariableSpec& v : layout.variables) {
    auto it = tensors.find(v.name);
    MELODY_REQUIRE(it != tensors.end())
        << "checkpoint is missing variable " << v.name << " of the model it implies";
    MELODY_REQUIRE(it->second.shape() == v.shape)
        << "variable " << v.name << ": checkpoint shape " << ShapeToString(it->second.shape())
        << ", implied model shape " << ShapeToString(v.shape);
  }
  return shape;
}

void LoadParameters(const TensorMap& tensors, Parameters* params, const std::string& what) {
  LoadWithSuffix(tensors, "", params, what);
}

void AddParameters(const Parameters& params, const std::string& suffix, TensorMap* out) {
  for (size_t i = 0; i < params.size(); ++i)
    (*out)[params.name(i) + suffix] = params.at(i).CopyTo(Device::CPU());
}

TensorMap TrainingCheckpointTensors(const TrainingCheckpoint& checkpoint) {
  const size_t n = checkpoint.weights.size();
  MELODY_REQUIRE(checkpoint.adam_m.size() == n && checkpoint.adam_s.size() == n)
      << "training checkpoint: " << n << " weights but " << checkpoint.adam_m.size() << " and "
      << checkpoint.adam_s.size() << " Adam slots";
  for (size_t i = 0; i < n; ++i)
    MELODY_REQUIRE(checkpoint.adam_m.name(i) == checkpoint.weights.name(i) &&
                   checkpoint.adam_s.name(i) == checkpoint.weights.name(i))
        << "training checkpoint: Adam slots are not laid out like the weights at "
        << checkpoint.weights.name(i);
  TensorMap out;
  AddParameters(checkpoint.weights, "", &out);
  AddParameters(checkpoint.adam_m, "/Adam", &out);
  AddParameters(checkpoint.adam_s, "/Adam_1", &out);
  out[kBeta1Power] = Scalar<float>(checkpoint.beta1_power);
  out[kBeta2Power] = Scalar<float>(checkpoint.beta2_power);
  out[kGlobalStep] = Scalar<int64_t>(checkpoint.global_step);
  return out;
}

TrainingCheckpoint TrainingCheckpointFromTensors(const ModelLayout& layout, const TensorMap& stored,
                                                 const std::string& what) {
  const TensorMap tensors = CanonicalizeCheckpointTensors(stored);
  TrainingCheckpoint checkpoint;
  checkpoint.weights = Parameters(layout);
  checkpoint.adam_m = Parameters(layout);
  checkpoint.adam_s = Parameters(layout);
  LoadWithSuffix(tensors, "", &checkpoint.weights, what);
  LoadWithSuffix(tensors, "/Adam", &checkpoint.adam_m, what);
  LoadWithSuffix(tensors, "/Adam_1", &checkpoint.adam_s, what);
  checkpoint.beta1_power = ReadScalar<float>(tensors, kBeta1Power, what);
  checkpoint.beta2_power = ReadScalar<float>(tensors, kBeta2Power, what);
  checkpoint.global_step = ReadScalar<int64_t>(tensors, kGlobalStep, what);
  return checkpoint;
}

}  // namespace melody
