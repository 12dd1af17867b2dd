// core/temp_files.h: the registry of temporary files, the signal cleanup (in child
// processes killed by each signal), AtomicFileWriter's registration, and the sweep of
// temporary files left by dead writers (issue 11, point 4).
#include "core/temp_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

void Touch(const std::string& path) { WriteFileAtomically(path, "x"); }

// The pid of a child that has already exited (and been reaped): no process has it now,
// short of the kernel reusing it at once.
pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(TempFileRegistryTest, RemovesRegisteredPathsOnly) {
  const std::string dir = testing::MakeTempDir("temp_files_test");
  Touch(dir + "/a");
  Touch(dir + "/b");
  Touch(dir + "/kept");
  const int a = RegisterTempFile(dir + "/a");
  const int b = RegisterTempFile(dir + "/b");
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(RemoveRegisteredTempFiles(), 2);
  EXPECT_FALSE(PathExists(dir + "/a"));
  EXPECT_FALSE(PathExists(dir + "/b"));
  EXPECT_TRUE(PathExists(dir + "/kept"));
  // An unregistered path is no longer touched.
  Touch(dir + "/a");
  UnregisterTempFile(a);
  UnregisterTempFile(b);
  EXPECT_EQ(RemoveRegisteredTempFiles(), 0);
  EXPECT_TRUE(PathExists(dir + "/a"));
}

TEST(TempFileRegistryTest, RelativePathsAreMadeAbsolute) {
  const std::string dir = testing::MakeTempDir("temp_files_test");
  Touch(dir + "/relative");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.c_str()), 0);
  const int handle = RegisterTempFile("relative");
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_EQ(RemoveRegisteredTempFiles(), 1);
  EXPECT_FALSE(PathExists(dir + "/relative"));
  UnregisterTempFile(handle);
}

TEST(TempFileRegistryTest, FullRegistryAndLongPathsAreRefusedNotOverwritten) {
  std::vector<int> handles;
  for (int i = 0; i < kMaxRegisteredTempFiles; ++i) {
    handles.push_back(RegisterTempFile("/nonexistent/slot" + std::to_string(i)));
    ASSERT_GE(handles.back(), 0) << i;
  }
  EXPECT_EQ(RegisterTempFile("/nonexistent/one_too_many"), -1);
  for (int h : handles) UnregisterTempFile(h);
  EXPECT_EQ(RegisterTempFile("/" + std::string(kMaxRegisteredPathBytes, 'x')), -1);
  const int fits = RegisterTempFile("/" + std::string(kMaxRegisteredPathBytes - 1, 'x'));
  EXPECT_GE(fits, 0);
  UnregisterTempFile(fits);
}

TEST(TempFileRegistryTest, StaleHandleDoesNotReleaseANewRegistration) {
  const std::string dir = testing::MakeTempDir("temp_files_test");
  const int old_handle = RegisterTempFile(dir + "/old");
  UnregisterTempFile(old_handle);
  const int new_handle = RegisterTempFile(dir + "/new");  // most likely the same slot
  ASSERT_GE(new_handle, 0);
  EXPECT_NE(new_handle, old_handle);
  UnregisterTempFile(old_handle);  // a second release of the old handle: no effect
  Touch(dir + "/new");
  EXPECT_EQ(RemoveRegisteredTempFiles(), 1);
  EXPECT_FALSE(PathExists(dir + "/new"));
  UnregisterTempFile(new_handle);
}

TEST(TempFileRegistryTest, AtomicFileWriterRegistersItsTemporaryFileUntilCommit) {
  const std::string dir = testing::MakeTempDir("temp_files_test");
  {
    AtomicFileWriter writer(dir + "/out");
    writer.Write("partial");
    ASSERT_TRUE(PathExists(writer.temp_path()));
    EXPECT_EQ(RemoveRegisteredTempFiles(), 1);
    EXPECT_FALSE(PathExists(writer.temp_path()));
  }  // destroyed without Commit: nothing to remove any more, no error
  AtomicFileWriter writer(dir + "/out");
  writer.Write("done");
  writer.Commit();
  EXPECT_EQ(RemoveRegisteredTempFiles(), 0);
  EXPECT_EQ(ReadFileToString(dir + "/out"), "done");
}

TEST(TempFileNameTest, ParsesOnlyTheWritersNames) {
  pid_t pid = 0;
  EXPECT_EQ(TempFileName("dir/out.tfrecord", 123, 4), "dir/out.tfrecord.tmp.123.4");
  EXPECT_TRUE(ParseTempFileName("out.tfrecord.tmp.123.4", "out.tfrecord", &pid));
  EXPECT_EQ(pid, 123);
  for (const char* other : {"out.tfrecord.tmp.123", "out.tfrecord.tmp.123.", "out.tfrecord.tmp..4",
                            "out.tfrecord.tmp.12a.4", "out.tfrecord.tmp.123.4.5",
                            "xout.tfrecord.tmp.123.4", "out.tfrecord", "out.tfrecord.tmp.1234567890.1",
                            "other.tmp.123.4"})
    EXPECT_FALSE(ParseTempFileName(other, "out.tfrecord", &pid)) << other;
}

TEST(StaleTempFilesTest, RemovesOnlyFilesOfDeadUnlockedWritersOfThatPath) {
  const std::string dir = testing::MakeTempDir("temp_files_test");
  const std::string out = dir + "/out.tfrecord";
  const pid_t dead = DeadPid();
  const std::string stale = TempFileName(out, dead, 0);
  const std::string stale2 = TempFileName(out, dead, 7);
  const std::string ours = TempFileName(out, ::getpid(), 99);
  const std::string init = TempFileName(out, 1, 0);  // pid 1 is alive
  const std::string locked = TempFileName(out, dead, 3);
  const std::string other_output = TempFileName(dir + "/other.tfrecord", dead, 0);
  for (const std::string& p : {stale, stale2, ours, init, locked, other_output}) Touch(p);
  MakeDirectories(TempFileName(out, dead, 8));  // not a regular file
  const int lock_fd = ::open(locked.c_str(), O_RDONLY);
  ASSERT_GE(lock_fd, 0);
  ASSERT_EQ(::flock(lock_fd, LOCK_EX), 0);

  std::vector<std::string> removed = RemoveStaleTempFiles(out);
  ::close(lock_fd);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{stale, stale2}));
  EXPECT_FALSE(PathExists(stale));
  for (const std::string& p : {ours, init, locked, other_output}) EXPECT_TRUE(PathExists(p)) << p;
  EXPECT_TRUE(IsDirectory(TempFileName(out, dead, 8)));
  // Relative to the current directory when the path has no directory part.
  EXPECT_TRUE(RemoveStaleTempFiles("no_such_output_here").empty());
}

// A child writes through AtomicFileWriter and waits; the parent sends `signal_number`.
// The child must die by that signal (a shell's 128 + signal) with its temporary file gone.
void ExpectSignalRemovesTemporaryFile(int signal_number) {
  const std::string dir = testing::MakeTempDir("temp_files_signal");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    InstallTempFileCleanupOnSignals();
    AtomicFileWriter writer(dir + "/out.tfrecord");
    writer.Write("half a dataset");
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  // Temporary files of out.tfrecord in the directory (the child's counter is inherited
  // from this process, so its number is not known).
  auto child_files = [&] {
    int n = 0;
    DIR* d = ::opendir(dir.c_str());
    while (dirent* e = d ? ::readdir(d) : nullptr) {
      pid_t pid = 0;
      n += ParseTempFileName(e->d_name, "out.tfrecord", &pid) && pid == child;
    }
    if (d) ::closedir(d);
    return n;
  };
  ASSERT_EQ(child_files(), 1);
  ASSERT_EQ(::kill(child, signal_number), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), signal_number);
  EXPECT_EQ(child_files(), 0);
  EXPECT_FALSE(PathExists(dir + "/out.tfrecord"));
}

TEST(TempFileSignalTest, SigintRemovesTemporaryFilesAndKillsWithTheSignal) {
  ExpectSignalRemovesTemporaryFile(SIGINT);
}
TEST(TempFileSignalTest, SigtermRemovesTemporaryFilesAndKillsWithTheSignal) {
  ExpectSignalRemovesTemporaryFile(SIGTERM);
}
TEST(TempFileSignalTest, SighupRemovesTemporaryFilesAndKillsWithTheSignal) {
  ExpectSignalRemovesTemporaryFile(SIGHUP);
}

}  // namespace
}  // namespace melody
