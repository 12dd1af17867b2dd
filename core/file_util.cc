#include "core/file_util.h"

#include <signal.h>
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
  temp_path_ = NewTempFileName(path_);
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
  if (file_) std::fclose(file_);
  if (file_ || finished_) Discard();
}

void AtomicFileWriter::Discard() {
  std::remove(temp_path_.c_str());
  UnregisterTempFile(registration_);
  registration_ = -1;
  file_ = nullptr;
  finished_ = false;
}

void AtomicFileWriter::Write(const void* data, size_t size) {
  MELODY_REQUIRE(file_) << path_ << ": write after commit";
  if (size && std::fwrite(data, 1, size, file_) != size)
    MELODY_FAIL() << path_ << ": write error: " << std::strerror(errno);
  bytes_written_ += size;
}

void AtomicFileWriter::Finish() {
  MELODY_REQUIRE(file_) << path_ << ": finished or committed twice";
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  int err = errno;
  ok = (std::fclose(file_) == 0) && ok;
  if (!ok && err == 0) err = errno;
  file_ = nullptr;
  finished_ = true;
  if (!ok) {
    Discard();
    MELODY_FAIL() << path_ << ": write error: " << std::strerror(err);
  }
}

void AtomicFileWriter::Commit() {
  if (!finished_) Finish();
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    Discard();
    MELODY_FAIL() << path_ << ": cannot rename temporary file into place: "
                  << std::strerror(err);
  }
  finished_ = false;
  UnregisterTempFile(registration_);
  registration_ = -1;
}

namespace {

// Holds SIGINT, SIGTERM and SIGHUP back on this thread for its lifetime.
class HoldTerminationSignals {
 public:
  HoldTerminationSignals() {
    sigset_t hold;
    sigemptyset(&hold);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&hold, s);
    ::pthread_sigmask(SIG_BLOCK, &hold, &saved_);
  }
  ~HoldTerminationSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

// The previous file at a final path, kept under a temporary name until the whole set is
// in place. A hard link keeps the old file visible at its path meanwhile; where links
// are not supported the old file is moved aside instead.
struct PreviousFile {
  std::string kept_at;  // "" when there was no previous file
  bool moved = false;   // moved aside (not linked): the path is empty until replaced
};

PreviousFile KeepPrevious(const std::string& path) {
  PreviousFile previous;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return previous;
  // A temporary name of `path`, so that RemoveStaleTempFiles(path) finds it after a kill.
  const std::string kept = NewTempFileName(path);
  if (::link(path.c_str(), kept.c_str()) == 0) {
    previous.kept_at = kept;
  } else if (std::rename(path.c_str(), kept.c_str()) == 0) {
    previous.kept_at = kept;
    previous.moved = true;
  } else {
    MELODY_FAIL() << path << ": cannot keep the previous file while replacing it: "
                  << std::strerror(errno);
  }
  return previous;
}

void PutBack(const std::string& path, const PreviousFile& previous) {
  if (previous.kept_at.empty()) {
    std::remove(path.c_str());
  } else {
    std::rename(previous.kept_at.c_str(), path.c_str());
  }
}

}  // namespace

void CommitTogether(const std::vector<AtomicFileWriter*>& writers) {
  for (AtomicFileWriter* writer : writers)
    if (!writer->finished_) writer->Finish();
  HoldTerminationSignals hold;
  std::vector<PreviousFile> previous;
  auto roll_back = [&](size_t replaced) {
    for (size_t j = 0; j < replaced; ++j) PutBack(writers[j]->path_, previous[j]);
    for (size_t j = replaced; j < previous.size(); ++j) {
      if (previous[j].moved) {
        PutBack(writers[j]->path_, previous[j]);
      } else if (!previous[j].kept_at.empty()) {
        std::remove(previous[j].kept_at.c_str());  // the file itself was not touched
      }
    }
    for (size_t j = replaced; j < writers.size(); ++j) writers[j]->Discard();
  };
  try {
    for (AtomicFileWriter* writer : writers) previous.push_back(KeepPrevious(writer->path_));
  } catch (const Error&) {
    roll_back(0);
    throw;
  }
  for (size_t i = 0; i < writers.size(); ++i) {
    AtomicFileWriter& writer = *writers[i];
    if (std::rename(writer.temp_path_.c_str(), writer.path_.c_str()) != 0) {
      const int err = errno;
      roll_back(i);
      MELODY_FAIL() << writer.path_ << ": cannot rename temporary file into place: "
                    << std::strerror(err) << " (the files written with it were put back as "
                    << "they were)";
    }
    writer.finished_ = false;
    UnregisterTempFile(writer.registration_);
    writer.registration_ = -1;
  }
  for (const PreviousFile& p : previous)
    if (!p.kept_at.empty()) std::remove(p.kept_at.c_str());
}

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.Write(bytes);
  writer.Commit();
}

}  // namespace melody
