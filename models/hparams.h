// Hyperparameters as the reference keeps them (a forked TF HParams): an ordered set of
// named, typed values whose type is fixed by the value they were created with, the
// `--hparams` parser with its grammar and error messages (shared/spec/apps.md §3), and the
// Python dict repr used in the log line `hparams = {...}` (model.md §1.1).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace melody {

// One value: int, float, bool or list of int (the types the melody configs use).
struct HParamValue {
  enum class Type { kInt, kFloat, kBool, kIntList };
  Type type = Type::kInt;
  int64_t int_value = 0;
  double float_value = 0.0;
  bool bool_value = false;
  std::vector<int64_t> list_value;

  static HParamValue Int(int64_t v);
  static HParamValue Float(double v);
  static HParamValue Bool(bool v);
  static HParamValue IntList(std::vector<int64_t> v);

  // Python repr: 64, 0.001, 1e-05, True, [128, 128].
  std::string PythonRepr() const;
  // The Python type name used in parse errors: int, float, bool (a list's element type).
  const char* TypeName() const;
  bool operator==(const HParamValue& other) const;
};

class HParams {
 public:
  // Adds a new hyperparameter at the end (throws if the name exists).
  void Add(const std::string& name, HParamValue value);
  // Replaces an existing hyperparameter's value, or appends a new one (config merge).
  void Set(const std::string& name, HParamValue value);
  bool Has(const std::string& name) const;
  // Throws melody::Error naming the hyperparameter when absent or of another type.
  const HParamValue& Get(const std::string& name) const;
  int64_t GetInt(const std::string& name) const;
  double GetFloat(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  const std::vector<int64_t>& GetIntList(const std::string& name) const;

  const std::vector<std::pair<std::string, HParamValue>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Parses a `--hparams` string (`name=value,name=[v v],...`) against the existing names
  // and types and applies it; all or nothing. Throws melody::Error with the reference's
  // message (apps.md §3 table) on any error.
  void Parse(const std::string& text);

  // {'batch_size': 128, 'rnn_layer_sizes': [128, 128], ...} in insertion order.
  std::string PythonDictRepr() const;

 private:
  std::vector<std::pair<std::string, HParamValue>> entries_;
};

// Python's repr() of a float (shortest round-trip digits; exponent form outside
// 1e-4 <= |x| < 1e16; "1.0" keeps its ".0"; inf, nan).
std::string PythonFloatRepr(double value);

}  // namespace melody
