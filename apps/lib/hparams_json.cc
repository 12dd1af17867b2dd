#include "apps/lib/hparams_json.h"

#include "core/error.h"

namespace melody {

nlohmann::json HParamToJson(const HParamValue& v) {
  switch (v.type) {
    case HParamValue::Type::kInt: return v.int_value;
    case HParamValue::Type::kFloat: return v.float_value;
    case HParamValue::Type::kBool: return v.bool_value;
    case HParamValue::Type::kIntList: return v.list_value;
  }
  return nullptr;
}

HParamValue HParamFromJson(const nlohmann::json& j, const HParamValue* like,
                           const std::string& what) {
  using T = HParamValue::Type;
  const T type = like ? like->type
                      : j.is_boolean() ? T::kBool
                      : j.is_array() ? T::kIntList
                      : j.is_number_integer() ? T::kInt : T::kFloat;
  switch (type) {
    case T::kInt:
      MELODY_REQUIRE(j.is_number_integer()) << what << ": expected an integer, got " << j.dump();
      return HParamValue::Int(j.get<int64_t>());
    case T::kFloat:
      MELODY_REQUIRE(j.is_number()) << what << ": expected a number, got " << j.dump();
      return HParamValue::Float(j.get<double>());
    case T::kBool:
      MELODY_REQUIRE(j.is_boolean()) << what << ": expected true/false, got " << j.dump();
      return HParamValue::Bool(j.get<bool>());
    case T::kIntList:
      MELODY_REQUIRE(j.is_array()) << what << ": expected a list, got " << j.dump();
      for (const auto& e : j)
        MELODY_REQUIRE(e.is_number_integer()) << what << ": expected a list of integers, got "
                                              << j.dump();
      return HParamValue::IntList(j.get<std::vector<int64_t>>());
  }
  MELODY_FAIL() << what << ": unsupported value " << j.dump();
}

}  // namespace melody
