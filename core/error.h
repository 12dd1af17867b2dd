// Errors: library code throws melody::Error with a message that names the file and what
// was wrong, and the source location that raised it; binaries catch it at the top, print
// both (DescribeError) and exit non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace melody {

class Error : public std::runtime_error {
 public:
  // `file` (a string literal, e.g. __FILE__, or null) and `line` say where it was raised.
  explicit Error(const std::string& what, const char* file = nullptr, int line = 0)
      : std::runtime_error(what), file_(file), line_(line) {}
  // The source file (relative to the repository root in our builds, which map __FILE__'s
  // prefix away) and line of the MELODY_FAIL / MELODY_REQUIRE that raised it; null and 0
  // when raised without one.
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  const char* file_;
  int line_;
};

// What a tool prints for an error that reached its top level: the message, then, for a
// melody::Error raised by MELODY_FAIL / MELODY_REQUIRE, " (at <file>:<line>)".
std::string DescribeError(const std::exception& e);

namespace internal {
// Collects a message with operator<< and throws it when the statement ends.
class ErrorBuilder {
 public:
  ErrorBuilder(const char* file, int line) : file_(file), line_(line) {}
  template <typename T>
  ErrorBuilder& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }
  [[noreturn]] ~ErrorBuilder() noexcept(false) { throw Error(stream_.str(), file_, line_); }

 private:
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Turns `ErrorBuilder << ...` into a void expression for MELODY_REQUIRE's conditional
// (& binds after every <<, so the whole message is streamed first).
struct ErrorVoidify {
  void operator&(const ErrorBuilder&) {}
};
}  // namespace internal

}  // namespace melody

// MELODY_FAIL() << "file " << path << ": bad header";  throws melody::Error.
#define MELODY_FAIL() ::melody::internal::ErrorBuilder(__FILE__, __LINE__)
// MELODY_REQUIRE(n > 0) << "n must be positive, got " << n;
// One expression (not an if statement), so it nests under an unbraced if/else without a
// dangling else; the message is built only when the condition fails.
#define MELODY_REQUIRE(cond) \
  (cond) ? (void)0 : ::melody::internal::ErrorVoidify() & MELODY_FAIL()
