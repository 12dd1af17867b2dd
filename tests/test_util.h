// Helpers shared by the test suites: locating shared/ (golden vectors and real data,
// which sit beside the checkout) and skipping cleanly, with the reason, when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace melody::testing {

// $MELODY_SHARED_DIR if set, else the shared/ beside the source tree.
std::string SharedDir();
// SharedDir()/relative.
std::string SharedPath(const std::string& relative);
// True when SharedPath(relative) exists.
bool HaveShared(const std::string& relative);
// The repository root (for shipped fixtures under tests/ and examples/).
std::string SourcePath(const std::string& relative);
// A fresh empty directory under $TMPDIR (or /tmp), removed when the test binary exits.
std::string MakeTempDir(const std::string& prefix);
// Names of the entries of `dir` that do not start with '.', sorted (empty when `dir`
// cannot be opened).
std::vector<std::string> FilesIn(const std::string& dir);
// Parses a JSON file; throws melody::Error naming the file on failure.
nlohmann::json LoadJson(const std::string& path);
// Standard base64 decoding (for golden serialized_b64 fields).
std::string Base64Decode(const std::string& text);
// Lower-case hex SHA-256 / SHA-1 of bytes.
std::string Sha256Hex(const std::string& bytes);
std::string Sha1Hex(const std::string& bytes);
// The golden files' hashes of an encoded melody (shared/golden/README.md): inputs_sha256 over
// every input value as float32 little-endian, labels_sha256 over the labels as int64 LE.
std::string InputsSha256(const std::vector<float>& inputs);
std::string LabelsSha256(const std::vector<int64_t>& labels);

}  // namespace melody::testing

// Skips the current test (with the reason) when shared/<relative> is missing.
#define MELODY_REQUIRE_SHARED(relative)                                                 \
  do {                                                                                  \
    if (!::melody::testing::HaveShared(relative))                                       \
      GTEST_SKIP() << "shared data not found: " << ::melody::testing::SharedPath(relative) \
                   << " (set MELODY_SHARED_DIR to the shared/ directory)";              \
  } while (0)
