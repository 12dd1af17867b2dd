#include "core/file_util.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/temp_files.h"

namespace melody {

std::string ReadFileToString(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) MELODY_FAIL() << path << ": cannot open for reading: " << std::strerror(errno);
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool failed = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (failed) MELODY_FAIL() << path << ": read error: " << std::strerror(err);
  return out;
}

std::string ExpandUser(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  if (path.size() > 1 && path[1] != '/') return path;  // ~user is not expanded
  const char* home = std::getenv("HOME");
  if (!home) return path;
  return std::string(home) + path.substr(1);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void MakeDirectories(const std::string& path) {
  if (path.empty() || IsDirectory(path)) return;
  std::string parent = Dirname(path);
  if (!parent.empty() && parent != path) MakeDirectories(parent);
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    MELODY_FAIL() << path << ": cannot create directory: " << std::strerror(errno);
  if (!IsDirectory(path)) MELODY_FAIL() << path << ": exists and is not a directory";
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  static std::atomic<unsigned long> counter{0};
  temp_path_ = TempFileName(path_, ::getpid(), counter++);
  // Registered before it exists, so a signal at any point after creation removes it.
  registration_ = RegisterTempFile(temp_path_);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) {
    const int err = errno;
    UnregisterTempFile(registration_);
    MELODY_FAIL() << path_ << ": cannot open for writing (" << temp_path_
                  << "): " << std::strerror(err);
  }
  // Held until the file is closed: tells RemoveStaleTempFiles that a writer owns it.
  (void)::flock(fileno(file_), LOCK_EX | LOCK_NB);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
    Discard();
  }
}

void AtomicFileWriter::Discard() {
  std::remove(temp_path_.c_str());
  UnregisterTempFile(registration_);
  registration_ = -1;
}

void AtomicFileWriter::Write(const void* data, size_t size) {
  MELODY_REQUIRE(file_) << path_ << ": write after commit";
  if (size && std::fwrite(data, 1, size, file_) != size)
    MELODY_FAIL() << path_ << ": write error: " << std::strerror(errno);
  bytes_written_ += size;
}

void AtomicFileWriter::Commit() {
  MELODY_REQUIRE(file_) << path_ << ": committed twice";
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  int err = errno;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) {
    Discard();
    MELODY_FAIL() << path_ << ": write error: " << std::strerror(err);
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    err = errno;
    Discard();
    MELODY_FAIL() << path_ << ": cannot rename temporary file into place: "
                  << std::strerror(err);
  }
  UnregisterTempFile(registration_);
  registration_ = -1;
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.Write(bytes);
  writer.Commit();
}

}  // namespace melody
