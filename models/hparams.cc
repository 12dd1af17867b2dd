// HParams and the `--hparams` parser. The grammar is the reference's regular expression
//   name([index])? \s* = \s* ( value-without-,-or-[ | \[ list-without-] \] ) ($ | ,\s*)
// applied repeatedly from the start of the string; values are converted like Python's
// int() / float() / the bool rule below; then the parsed values are applied to the set,
// where list/scalar/index mismatches are rejected (apps.md §3).
#include "models/hparams.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "core/error.h"

namespace melody {

// ---- values --------------------------------------------------------------------------

HParamValue HParamValue::Int(int64_t v) {
  HParamValue out;
  out.type = Type::kInt;
  out.int_value = v;
  return out;
}
HParamValue HParamValue::Float(double v) {
  HParamValue out;
  out.type = Type::kFloat;
  out.float_value = v;
  return out;
}
HParamValue HParamValue::Bool(bool v) {
  HParamValue out;
  out.type = Type::kBool;
  out.bool_value = v;
  return out;
}
HParamValue HParamValue::IntList(std::vector<int64_t> v) {
  HParamValue out;
  out.type = Type::kIntList;
  out.list_value = std::move(v);
  return out;
}

bool HParamValue::operator==(const HParamValue& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::kInt: return int_value == o.int_value;
    case Type::kFloat: return float_value == o.float_value;
    case Type::kBool: return bool_value == o.bool_value;
    case Type::kIntList: return list_value == o.list_value;
  }
  return false;
}

const char* HParamValue::TypeName() const {
  switch (type) {
    case Type::kFloat: return "float";
    case Type::kBool: return "bool";
    default: return "int";
  }
}

std::string PythonFloatRepr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest digits that round-trip, from %e at increasing precision.
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*e", precision - 1, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  std::string text(buf);
  const bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  const size_t e = text.find('e');
  const int exponent = std::atoi(text.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (text[i] != '.') digits += text[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int decpt = exponent + 1;  // value = 0.DIGITS × 10^decpt
  const int n = static_cast<int>(digits.size());
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(-decpt, '0') + digits;
    } else if (decpt >= n) {
      out = digits + std::string(decpt - n, '0') + ".0";
    } else {
      out = digits.substr(0, decpt) + "." + digits.substr(decpt);
    }
  } else {
    out = digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof(exp_text), "e%c%02d", exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    out += exp_text;
  }
  return negative ? "-" + out : out;
}

std::string HParamValue::PythonRepr() const {
  switch (type) {
    case Type::kInt: return std::to_string(int_value);
    case Type::kFloat: return PythonFloatRepr(float_value);
    case Type::kBool: return bool_value ? "True" : "False";
    case Type::kIntList: {
      std::string out = "[";
      for (size_t i = 0; i < list_value.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(list_value[i]);
      }
      return out + "]";
    }
  }
  return "";
}

// ---- the set -------------------------------------------------------------------------

void HParams::Add(const std::string& name, HParamValue value) {
  MELODY_REQUIRE(!Has(name)) << "hyperparameter " << name << " already exists";
  entries_.emplace_back(name, std::move(value));
}

void HParams::Set(const std::string& name, HParamValue value) {
  for (auto& entry : entries_) {
    if (entry.first == name) {
      entry.second = std::move(value);
      return;
    }
  }
  entries_.emplace_back(name, std::move(value));
}

bool HParams::Has(const std::string& name) const {
  for (const auto& entry : entries_)
    if (entry.first == name) return true;
  return false;
}

const HParamValue& HParams::Get(const std::string& name) const {
  for (const auto& entry : entries_)
    if (entry.first == name) return entry.second;
  MELODY_FAIL() << "no hyperparameter named " << name;
}

namespace {
const HParamValue& GetTyped(const HParams& h, const std::string& name, HParamValue::Type t) {
  const HParamValue& v = h.Get(name);
  MELODY_REQUIRE(v.type == t) << "hyperparameter " << name << " has type " << v.TypeName()
                              << (v.type == HParamValue::Type::kIntList ? " list" : "")
                              << ", read as another type";
  return v;
}
}  // namespace

int64_t HParams::GetInt(const std::string& name) const {
  return GetTyped(*this, name, HParamValue::Type::kInt).int_value;
}
double HParams::GetFloat(const std::string& name) const {
  return GetTyped(*this, name, HParamValue::Type::kFloat).float_value;
}
bool HParams::GetBool(const std::string& name) const {
  return GetTyped(*this, name, HParamValue::Type::kBool).bool_value;
}
const std::vector<int64_t>& HParams::GetIntList(const std::string& name) const {
  return GetTyped(*this, name, HParamValue::Type::kIntList).list_value;
}

std::string HParams::PythonDictRepr() const {
  std::string out = "{";
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i) out += ", ";
    out += "'" + entries_[i].first + "': " + entries_[i].second.PythonRepr();
  }
  return out + "}";
}

// ---- parsing -------------------------------------------------------------------------

namespace {

bool IsPySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string StripPySpace(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && IsPySpace(s[a])) ++a;
  while (b > a && IsPySpace(s[b - 1])) --b;
  return s.substr(a, b - a);
}

// Digits with single underscores between them (Python numeric literal rule); appends the
// digits to `out`. Returns the index after the run, or npos when malformed/empty.
size_t ScanDigits(const std::string& s, size_t i, std::string* out) {
  const size_t start = i;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      *out += s[i++];
    } else if (s[i] == '_' && i > start && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isdigit(static_cast<unsigned char>(s[i - 1]))) {
      ++i;
    } else {
      break;
    }
  }
  return i == start ? std::string::npos : i;
}

// Python int(text) for base-10 text; nullopt when it would raise (or exceed int64).
std::optional<int64_t> PyInt(const std::string& raw) {
  const std::string s = StripPySpace(raw);
  size_t i = 0;
  std::string digits;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) digits += s[i++];
  const size_t end = ScanDigits(s, i, &digits);
  if (end == std::string::npos || end != s.size()) return std::nullopt;
  errno = 0;
  char* stop = nullptr;
  const long long v = std::strtoll(digits.c_str(), &stop, 10);
  if (errno == ERANGE || *stop != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

// Python float(text); nullopt when it would raise.
std::optional<double> PyFloat(const std::string& raw) {
  const std::string s = StripPySpace(raw);
  size_t i = 0;
  std::string text;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) text += s[i++];
  std::string word;
  for (size_t k = i; k < s.size(); ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  if (word == "inf" || word == "infinity" || word == "nan") {
    const double v = word == "nan" ? std::nan("") : HUGE_VAL;
    return text == "-" ? -v : v;
  }
  bool mantissa_digits = false;
  size_t next = ScanDigits(s, i, &text);
  if (next != std::string::npos) {
    mantissa_digits = true;
    i = next;
  }
  if (i < s.size() && s[i] == '.') {
    text += s[i++];
    next = ScanDigits(s, i, &text);
    if (next != std::string::npos) {
      mantissa_digits = true;
      i = next;
    }
  }
  if (!mantissa_digits) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    text += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) text += s[i++];
    next = ScanDigits(s, i, &text);
    if (next == std::string::npos) return std::nullopt;
    i = next;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(text.c_str(), nullptr);
}

// Parses one textual value with the hyperparameter's (element) type.
std::optional<HParamValue> ParseScalar(HParamValue::Type type, const std::string& text) {
  switch (type) {
    case HParamValue::Type::kInt:
    case HParamValue::Type::kIntList: {
      auto v = PyInt(text);
      if (!v) return std::nullopt;
      return HParamValue::Int(*v);
    }
    case HParamValue::Type::kFloat: {
      auto v = PyFloat(text);
      if (!v) return std::nullopt;
      return HParamValue::Float(*v);
    }
    case HParamValue::Type::kBool: {
      if (text == "true" || text == "True") return HParamValue::Bool(true);
      if (text == "false" || text == "False") return HParamValue::Bool(false);
      auto v = PyInt(text);
      if (!v) return std::nullopt;
      return HParamValue::Bool(*v != 0);
    }
  }
  return std::nullopt;
}

// What the parsing phase produced for one name (Python: a value, a list, or {index: value}).
struct ParsedEntry {
  enum class Kind { kScalar, kList, kIndexed } kind = Kind::kScalar;
  HParamValue scalar;
  std::vector<HParamValue> list;
  std::vector<std::pair<int64_t, HParamValue>> indexed;  // insertion order
};

[[noreturn]] void ParseFail(const std::string& name, const HParamValue& current,
                            const std::string& value, const std::string& whole) {
  MELODY_FAIL() << "Could not parse hparam '" << name << "' of type '" << current.TypeName()
                << "' with value '" << value << "' in " << whole;
}

[[noreturn]] void ReuseFail(const std::string& name, const std::string& whole) {
  MELODY_FAIL() << "Multiple assignments to variable '" << name << "' in " << whole;
}

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)); }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
size_t SkipSpace(const std::string& s, size_t i) {
  while (i < s.size() && IsPySpace(s[i])) ++i;
  return i;
}
// Python's `$` without MULTILINE: the end, or just before a final newline.
bool AtPyEnd(const std::string& s, size_t i) {
  return i == s.size() || (i + 1 == s.size() && s[i] == '\n');
}

// One item of the --hparams grammar as matched, before its value is converted.
struct MatchedItem {
  std::string name;
  bool has_index = false;
  std::string index_text;  // the digits inside [ ] when has_index
  bool is_list = false;    // value was [ ... ]: the text between the brackets
  std::string value;
};

// The parsed entries by name, in the order the names first appeared.
using ParsedEntries = std::vector<std::pair<std::string, ParsedEntry>>;

ParsedEntry* FindEntry(ParsedEntries* entries, const std::string& name) {
  for (auto& e : *entries)
    if (e.first == name) return &e.second;
  return nullptr;
}

// Match: the item regex at *pos. On a match, returns the item and moves *pos past it and
// its separator; otherwise returns nullopt (*pos unchanged).
std::optional<MatchedItem> MatchItem(const std::string& text, size_t* pos) {
  const size_t i = *pos;
  if (i >= text.size() || !IsNameStart(text[i])) return std::nullopt;
  MatchedItem item;
  size_t j = i + 1;
  while (j < text.size() && IsNameChar(text[j])) ++j;
  item.name = text.substr(i, j - i);
  // Optional [ \s* digits \s* ].
  if (j < text.size() && text[j] == '[') {
    size_t k = SkipSpace(text, j + 1);
    const size_t digits_start = k;
    while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
    if (k > digits_start) {
      const std::string digits = text.substr(digits_start, k - digits_start);
      k = SkipSpace(text, k);
      if (k < text.size() && text[k] == ']') {
        item.has_index = true;
        item.index_text = digits;
        j = k + 1;
      }
    }
  }
  size_t k = SkipSpace(text, j);
  if (k >= text.size() || text[k] != '=') return std::nullopt;
  k = SkipSpace(text, k + 1);
  // Alternative 1: a single value up to ',' or '[' or the end.
  size_t end = k;
  while (end < text.size() && text[end] != ',' && text[end] != '[') ++end;
  if (end == text.size() || text[end] == ',') {
    item.value = text.substr(k, end - k);
    *pos = end == text.size() ? end : SkipSpace(text, end + 1);
    return item;
  }
  if (text[k] != '[') return std::nullopt;
  // Alternative 2: [ list ].
  const size_t close = text.find(']', k + 1);
  if (close == std::string::npos) return std::nullopt;
  const size_t after = close + 1;
  if (!AtPyEnd(text, after) && text[after] != ',') return std::nullopt;
  item.is_list = true;
  item.value = text.substr(k + 1, close - k - 1);
  *pos = AtPyEnd(text, after) ? after : SkipSpace(text, after + 1);
  return item;
}

// Convert, a single value: name=value (or name[i]=value, kept for the apply step to
// refuse with the reference's message).
void ConvertScalarItem(const MatchedItem& item, const HParamValue& current,
                       const std::string& whole, ParsedEntries* entries) {
  std::optional<HParamValue> parsed = ParseScalar(current.type, item.value);
  if (!parsed) ParseFail(item.name, current, item.value, whole);
  if (!item.has_index) {
    if (FindEntry(entries, item.name) != nullptr) ReuseFail(item.name, whole);
    ParsedEntry entry;
    entry.scalar = *parsed;
    entries->emplace_back(item.name, entry);
    return;
  }
  ParsedEntry* entry = FindEntry(entries, item.name);
  if (entry != nullptr) {
    if (entry->kind != ParsedEntry::Kind::kIndexed) ReuseFail(item.name, whole);
  } else {
    ParsedEntry fresh;
    fresh.kind = ParsedEntry::Kind::kIndexed;
    entries->emplace_back(item.name, fresh);
    entry = &entries->back().second;
  }
  auto index = PyInt(item.index_text);
  MELODY_REQUIRE(index.has_value()) << "Malformed hyperparameter value: index " << item.index_text;
  for (const auto& kv : entry->indexed)
    if (kv.first == *index) ReuseFail(item.name + "[" + std::to_string(*index) + "]", whole);
  entry->indexed.emplace_back(*index, *parsed);
}

// Convert, a list: name=[v v,v]; elements are split at spaces and commas.
void ConvertListItem(const MatchedItem& item, const HParamValue& current,
                     const std::string& whole, ParsedEntries* entries) {
  if (item.has_index) MELODY_FAIL() << "Assignment of a list to a list index.";
  if (FindEntry(entries, item.name) != nullptr) ReuseFail(item.name, whole);
  ParsedEntry entry;
  entry.kind = ParsedEntry::Kind::kList;
  std::string element;
  auto flush = [&]() {
    if (element.empty()) return;
    std::optional<HParamValue> parsed = ParseScalar(current.type, element);
    if (!parsed) ParseFail(item.name, current, item.value, whole);
    entry.list.push_back(*parsed);
    element.clear();
  };
  for (char c : item.value) {
    if (c == ' ' || c == ',')
      flush();
    else
      element += c;
  }
  flush();
  entries->emplace_back(item.name, entry);
}

// Convert: the item's text into typed values of the named hyperparameter's type.
void ConvertItem(const HParams& hparams, const MatchedItem& item, const std::string& whole,
                 ParsedEntries* entries) {
  if (!hparams.Has(item.name)) MELODY_FAIL() << "Unknown hyperparameter type for " << item.name;
  const HParamValue& current = hparams.Get(item.name);
  if (item.is_list)
    ConvertListItem(item, current, whole, entries);
  else
    ConvertScalarItem(item, current, whole, entries);
}

// Apply: one parsed entry to `updated`, refusing list/scalar/index mismatches.
void ApplyEntry(const std::string& name, const ParsedEntry& entry, const HParamValue& current,
                HParams* updated) {
  const bool is_list_param = current.type == HParamValue::Type::kIntList;
  switch (entry.kind) {
    case ParsedEntry::Kind::kList: {
      if (!is_list_param)
        MELODY_FAIL() << "Must not pass a list for single-valued parameter: " << name;
      std::vector<int64_t> values;
      for (const HParamValue& v : entry.list) values.push_back(v.int_value);
      updated->Set(name, HParamValue::IntList(values));
      break;
    }
    case ParsedEntry::Kind::kScalar:
      if (is_list_param) MELODY_FAIL() << "Must pass a list for multi-valued parameter: " << name << ".";
      updated->Set(name, entry.scalar);
      break;
    case ParsedEntry::Kind::kIndexed: {
      if (is_list_param) MELODY_FAIL() << "Must pass a list for multi-valued parameter: " << name << ".";
      std::string repr = "{";
      for (size_t k = 0; k < entry.indexed.size(); ++k) {
        if (k) repr += ", ";
        repr += std::to_string(entry.indexed[k].first) + ": " + entry.indexed[k].second.PythonRepr();
      }
      repr += "}";
      MELODY_FAIL() << "Could not cast hparam '" << name << "' of type '<class '"
                    << current.TypeName() << "'>' from value " << repr;
    }
  }
}

}  // namespace

// Items are matched and converted one at a time, left to right (so the first bad item
// gives the error, as in the reference), then applied to a copy: all or nothing.
void HParams::Parse(const std::string& text) {
  ParsedEntries entries;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t item_start = pos;
    const std::optional<MatchedItem> item = MatchItem(text, &pos);
    if (!item) MELODY_FAIL() << "Malformed hyperparameter value: " << text.substr(item_start);
    ConvertItem(*this, *item, text, &entries);
  }
  HParams updated = *this;
  for (const auto& [name, entry] : entries) ApplyEntry(name, entry, Get(name), &updated);
  *this = updated;
}

}  // namespace melody
