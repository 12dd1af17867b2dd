#include "core/float_format.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace melody {
namespace {

// Just enough unsigned big-integer arithmetic for exact float32 digit generation. The largest
// number involved is below 2^200 (a 24-bit mantissa times 2^106, or 10^45 times 2^26), so a
// fixed 320 bits suffice.
class BigUint {
 public:
  explicit BigUint(uint64_t v = 0) {
    words_[0] = static_cast<uint32_t>(v);
    words_[1] = static_cast<uint32_t>(v >> 32);
    size_ = words_[1] ? 2 : words_[0] ? 1 : 0;
  }

  void MultiplyBy(uint32_t factor) {
    uint64_t carry = 0;
    for (int i = 0; i < size_; ++i) {
      uint64_t product = static_cast<uint64_t>(words_[i]) * factor + carry;
      words_[i] = static_cast<uint32_t>(product);
      carry = product >> 32;
    }
    if (carry) Push(static_cast<uint32_t>(carry));
  }

  void MultiplyByPowerOf10(int n) {
    for (; n >= 9; n -= 9) MultiplyBy(1000000000u);
    static constexpr uint32_t kSmall[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                          100000000};
    MultiplyBy(kSmall[n]);
  }

  void ShiftLeft(int bits) {
    for (; bits >= 32; bits -= 32) {
      MELODY_REQUIRE(size_ < kWords) << "BigUint overflow";
      for (int i = size_; i > 0; --i) words_[i] = words_[i - 1];
      words_[0] = 0;
      ++size_;
    }
    if (bits == 0 || size_ == 0) return;
    uint32_t carry = 0;
    for (int i = 0; i < size_; ++i) {
      uint32_t next = words_[i] >> (32 - bits);
      words_[i] = (words_[i] << bits) | carry;
      carry = next;
    }
    if (carry) Push(carry);
  }

  BigUint operator+(const BigUint& other) const {
    BigUint sum;
    uint64_t carry = 0;
    int n = size_ > other.size_ ? size_ : other.size_;
    for (int i = 0; i < n; ++i) {
      uint64_t s = static_cast<uint64_t>(Word(i)) + other.Word(i) + carry;
      sum.words_[i] = static_cast<uint32_t>(s);
      carry = s >> 32;
    }
    sum.size_ = n;
    if (carry) sum.Push(static_cast<uint32_t>(carry));
    return sum;
  }

  // *this -= other; requires *this >= other.
  void Subtract(const BigUint& other) {
    int64_t borrow = 0;
    for (int i = 0; i < size_; ++i) {
      int64_t d = static_cast<int64_t>(words_[i]) - other.Word(i) - borrow;
      borrow = d < 0;
      words_[i] = static_cast<uint32_t>(d + (borrow << 32));
    }
    while (size_ > 0 && words_[size_ - 1] == 0) --size_;
  }

  static int Compare(const BigUint& a, const BigUint& b) {
    if (a.size_ != b.size_) return a.size_ < b.size_ ? -1 : 1;
    for (int i = a.size_ - 1; i >= 0; --i)
      if (a.words_[i] != b.words_[i]) return a.words_[i] < b.words_[i] ? -1 : 1;
    return 0;
  }

 private:
  static constexpr int kWords = 10;
  uint32_t Word(int i) const { return i < size_ ? words_[i] : 0; }
  void Push(uint32_t w) {
    MELODY_REQUIRE(size_ < kWords) << "BigUint overflow";
    words_[size_++] = w;
  }

  std::array<uint32_t, kWords> words_{};
  int size_ = 0;
};

bool operator<(const BigUint& a, const BigUint& b) { return BigUint::Compare(a, b) < 0; }

// Divides remainder by scale where remainder < 10 * scale: returns the quotient digit and
// leaves the remainder.
int ExtractDigit(BigUint* remainder, const BigUint& scale) {
  int digit = 0;
  while (!(*remainder < scale)) {
    remainder->Subtract(scale);
    ++digit;
  }
  return digit;
}

std::string Positional(const std::string& digits, int exponent) {
  const int n = static_cast<int>(digits.size());
  if (exponent < 0) return "0." + std::string(-exponent - 1, '0') + digits;
  const int integer_digits = exponent + 1;
  if (n <= integer_digits) return digits + std::string(integer_digits - n, '0') + ".0";
  return digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string Scientific(const std::string& digits, int exponent) {
  std::string out(1, digits[0]);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out += '0';
  return out + std::to_string(magnitude);
}

}  // namespace

void ShortestFloat32Digits(float value, std::string* digits, int* exponent) {
  MELODY_REQUIRE(std::isfinite(value) && value != 0.0f)
      << "ShortestFloat32Digits needs a finite non-zero value";
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t fraction = bits & 0x7fffffu;
  const int biased_exponent = static_cast<int>((bits >> 23) & 0xff);
  // |value| = mantissa * 2^e.
  const uint64_t mantissa = biased_exponent ? fraction | 0x800000u : fraction;
  const int e = biased_exponent ? biased_exponent - 150 : -149;
  // Below a power of two (other than the smallest normal) the gap to the next float down is
  // half the gap up, so the two rounding margins differ.
  const bool unequal_margins = fraction == 0 && biased_exponent > 1;

  // |value| = remainder / scale; the numbers within margin_low below or margin_high above
  // |value| read back as |value| (half-gaps to the neighbours, scaled like remainder).
  BigUint remainder(mantissa), scale(1), margin_low(1);
  const int margin_shift = unequal_margins ? 2 : 1;
  if (e >= 0) {
    remainder.ShiftLeft(e + margin_shift);
    scale.ShiftLeft(margin_shift);
    margin_low.ShiftLeft(e);
  } else {
    remainder.ShiftLeft(margin_shift);
    scale.ShiftLeft(-e + margin_shift);
  }
  BigUint margin_high = margin_low;
  if (unequal_margins) margin_high.ShiftLeft(1);

  // Scale so that scale <= remainder < 10 * scale: the first digit is then at 10^p.
  int p = static_cast<int>(std::floor(std::log10(std::fabs(static_cast<double>(value)))));
  if (p >= 0) {
    scale.MultiplyByPowerOf10(p);
  } else {
    remainder.MultiplyByPowerOf10(-p);
    margin_low.MultiplyByPowerOf10(-p);
    margin_high.MultiplyByPowerOf10(-p);
  }
  for (;;) {  // log10 may be one off next to a power of ten
    BigUint ten_scale = scale;
    ten_scale.MultiplyBy(10);
    if (!(remainder < ten_scale)) {
      scale = ten_scale;
      ++p;
    } else if (remainder < scale) {
      remainder.MultiplyBy(10);
      margin_low.MultiplyBy(10);
      margin_high.MultiplyBy(10);
      --p;
    } else {
      break;
    }
  }

  // Generate digits until the digits so far, or those with the last one raised by one, lie
  // within the margins. A decimal exactly halfway to a neighbouring float reads back as
  // `value` only when its mantissa is even (round-half-even), and numpy uses it only then.
  const bool even = mantissa % 2 == 0;
  digits->clear();
  int digit;
  bool low, high;
  for (;;) {
    digit = ExtractDigit(&remainder, scale);
    const int c_low = BigUint::Compare(remainder, margin_low);
    const int c_high = BigUint::Compare(remainder + margin_high, scale);
    low = c_low < 0 || (even && c_low == 0);
    high = c_high > 0 || (even && c_high == 0);
    if (low || high) break;
    digits->push_back(static_cast<char>('0' + digit));
    remainder.MultiplyBy(10);
    margin_low.MultiplyBy(10);
    margin_high.MultiplyBy(10);
  }
  bool round_down = low;
  if (low == high) {  // both candidates read back: take the nearer, a tie to the even digit
    BigUint twice = remainder;
    twice.MultiplyBy(2);
    int c = BigUint::Compare(twice, scale);
    round_down = c < 0 || (c == 0 && digit % 2 == 0);
  }
  *exponent = p;
  if (round_down) {
    digits->push_back(static_cast<char>('0' + digit));
  } else if (digit < 9) {
    digits->push_back(static_cast<char>('0' + digit + 1));
  } else {
    // Carry through trailing nines: 0.1999.. -> 0.2, 9.99.. -> 10.
    while (!digits->empty() && digits->back() == '9') digits->pop_back();
    if (digits->empty()) {
      digits->push_back('1');
      ++*exponent;
    } else {
      ++digits->back();
    }
  }
}

std::string NumpyFloat32Str(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  const std::string sign = std::signbit(value) ? "-" : "";
  if (value == 0.0f) return sign + "0.0";
  std::string digits;
  int exponent;
  ShortestFloat32Digits(value, &digits, &exponent);
  // numpy's notation rule, compared in (at least) double precision: float32(1e-4) is just
  // below 1e-4 and so scientific, float32(1e16) just above 1e16.
  const double magnitude = std::fabs(static_cast<double>(value));
  if (magnitude >= 1e-4 && magnitude < 1e16) return sign + Positional(digits, exponent);
  return sign + Scientific(digits, exponent);
}

}  // namespace melody
