// Errors: library code throws melody::Error with a message that names the file and what
// was wrong; binaries catch it at the top, print it and exit non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace melody {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

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
  [[noreturn]] ~ErrorBuilder() noexcept(false) { throw Error(stream_.str()); }

 private:
  const char* file_;
  int line_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace melody

// MELODY_FAIL() << "file " << path << ": bad header";  throws melody::Error.
#define MELODY_FAIL() ::melody::internal::ErrorBuilder(__FILE__, __LINE__)
// MELODY_REQUIRE(n > 0) << "n must be positive, got " << n;
#define MELODY_REQUIRE(cond) \
  if (cond) {                \
  } else                     \
    MELODY_FAIL()
