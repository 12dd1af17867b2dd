// Numbers printed the way the reference's numpy prints them, for the training and evaluation
// console lines (shared/spec/training.md §4.2, §7.4: "Accuracy = 0.5703125, ... Loss =
// 1.4234589"), which show str() of numpy float32 values.
//
// numpy (>= 1.14, checked against 1.23.5 with tests/fixtures/float_format/) prints a float32
// with the fewest significant digits that still read back as the same float32 under IEEE
// round-half-even (Dragon4 in "unique" mode: a decimal exactly halfway to a neighbour counts
// only for an even mantissa; of two shortest candidates the nearer, a tie to the even digit;
// the same digits as C++17's shortest std::to_chars), then:
// * positional notation when 1e-4 <= |x| < 1e16 (and for 0): at least one digit after the
//   point ("1.0", "100.0", "0.0001", "123456790.0", "-0.0");
// * otherwise scientific: trailing zeros and a bare point removed, a signed exponent of at
//   least two digits ("1e-04", "1.5e-05", "1e+16", "3.4028235e+38", "1e-45");
// * "nan" for every NaN (either sign, any payload), "inf", "-inf".
#pragma once

#include <string>

namespace melody {

// str(numpy.float32(value)).
std::string NumpyFloat32Str(float value);

// The shortest round-trip significant digits of a finite, non-zero |value| as numpy's Dragon4
// finds them ("12345679", no leading or trailing zeros), and the decimal exponent of the
// first digit (123456792.0f -> "12345679", 8).
void ShortestFloat32Digits(float value, std::string* digits, int* exponent);

}  // namespace melody
