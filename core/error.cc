#include "core/error.h"

namespace melody {

std::string DescribeError(const std::exception& e) {
  std::string text = e.what();
  const auto* error = dynamic_cast<const Error*>(&e);
  if (error != nullptr && error->file() != nullptr) {
    text += " (at ";
    text += error->file();
    text += ":" + std::to_string(error->line()) + ")";
  }
  return text;
}

}  // namespace melody
