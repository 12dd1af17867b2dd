// File helpers whose errors name the file and the failing operation.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace melody {

// Whole file as bytes. Throws melody::Error("<path>: <reason>") on failure.
std::string ReadFileToString(const std::string& path);

// `~` or `~/...` expanded with $HOME; other paths returned unchanged.
std::string ExpandUser(const std::string& path);

bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
// mkdir -p. Throws on failure.
void MakeDirectories(const std::string& path);
// Parent directory of `path` ("" when it has none).
std::string Dirname(const std::string& path);
// Last component of `path` (after the last '/'; "" when it ends with '/').
std::string Basename(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

// Writes a file so that readers never see a partial one: bytes go to
// "<path>.tmp.<pid>.<n>" (TempFileName, core/temp_files.h) and are renamed onto `path` by
// Commit(). Destroying the writer without Commit() removes the temporary file and leaves
// `path` untouched. While it exists the temporary file is in the temp-file registry (so
// the data tools' signal handlers remove it) and holds an advisory lock (so
// RemoveStaleTempFiles leaves it alone).
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void Write(const void* data, size_t size);
  void Write(std::string_view bytes) { Write(bytes.data(), bytes.size()); }
  // Flushes, fsyncs and closes the temporary file without renaming it (the first half of
  // Commit; CommitTogether finishes every file before it replaces any).
  void Finish();
  // Finish() unless done, then renames onto the final path.
  void Commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  friend void CommitTogether(const std::vector<AtomicFileWriter*>& writers);
  void Discard();

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool finished_ = false;  // closed, temporary file complete, not renamed yet
  int registration_ = -1;  // RegisterTempFile handle
  uint64_t bytes_written_ = 0;
};

// Replaces several files as a set: every writer is finished (flushed, fsynced) before any
// final path is touched, then they are renamed in turn. If a rename fails, the files
// already replaced get their previous contents back (or are removed if they did not
// exist), the temporary files are removed and the error names the path that failed: the
// old set stays as it was. SIGINT/SIGTERM/SIGHUP are held back on the calling thread
// while the renames run. Only a kill -9 (or a crash of the machine) in the instant
// between two renames can leave a mixed set.
void CommitTogether(const std::vector<AtomicFileWriter*>& writers);

// Writes `bytes` to `path` atomically (AtomicFileWriter).
void WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace melody
