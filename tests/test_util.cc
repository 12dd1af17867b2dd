#include "tests/test_util.h"

#include <dirent.h>

#include <algorithm>

#include <openssl/evp.h>
#include <stdlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/file_util.h"

namespace melody::testing {

std::string SharedDir() {
  if (const char* env = std::getenv("MELODY_SHARED_DIR"); env && *env) return env;
  return MELODY_SHARED_DIR_DEFAULT;
}

std::string SharedPath(const std::string& relative) { return JoinPath(SharedDir(), relative); }

bool HaveShared(const std::string& relative) { return PathExists(SharedPath(relative)); }

std::string SourcePath(const std::string& relative) { return JoinPath(MELODY_SOURCE_DIR, relative); }

namespace {
// Temporary directories made by the tests, removed when the test binary exits (set
// MELODY_KEEP_TEST_TMP=1 to keep them for inspection).
std::mutex temp_dirs_mutex;
std::vector<std::string>* temp_dirs = nullptr;

void RemoveTempDirs() {
  if (const char* keep = std::getenv("MELODY_KEEP_TEST_TMP"); keep && *keep == '1') return;
  std::lock_guard<std::mutex> lock(temp_dirs_mutex);
  for (const auto& dir : *temp_dirs) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}
}  // namespace

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (!::mkdtemp(pattern.data())) MELODY_FAIL() << "mkdtemp failed for " << pattern;
  std::lock_guard<std::mutex> lock(temp_dirs_mutex);
  if (!temp_dirs) {
    temp_dirs = new std::vector<std::string>();
    std::atexit(RemoveTempDirs);
  }
  temp_dirs->push_back(pattern);
  return pattern;
}

nlohmann::json LoadJson(const std::string& path) {
  std::string text = ReadFileToString(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    MELODY_FAIL() << path << ": invalid JSON: " << e.what();
  }
}

std::string Base64Decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) continue;  // padding and whitespace
    acc = ((acc << 6) | v) & 0xffffff;  // only the unread bits matter; keeps the shift defined
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

namespace {
std::string DigestHex(const EVP_MD* md, const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, md, nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}
}  // namespace

std::string Sha256Hex(const std::string& bytes) { return DigestHex(EVP_sha256(), bytes); }
std::string Sha1Hex(const std::string& bytes) { return DigestHex(EVP_sha1(), bytes); }

namespace {
// Raw bytes of a vector in host order; the test hosts are little-endian, as the golden
// hashes require. An empty vector may have a null data(), which memcpy must not see.
template <typename T>
std::string HostBytes(const std::vector<T>& values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}
}  // namespace

std::string InputsSha256(const std::vector<float>& inputs) { return Sha256Hex(HostBytes(inputs)); }
std::string LabelsSha256(const std::vector<int64_t>& labels) { return Sha256Hex(HostBytes(labels)); }

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace melody::testing
