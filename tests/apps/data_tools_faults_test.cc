// The data tools (convert_dir_to_note_sequences, melody_rnn_create_dataset) under faults:
// signals and kill -9 leftovers, thread limits, a dataset pair that must be replaced
// together, outputs checked before the work, odd inputs (issue 11). The binaries are run
// as child processes where the point is their exit status; they skip when not built.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <glog/logging.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "apps/lib/convert_dir.h"
#include "apps/lib/create_dataset.h"
#include "core/error.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/temp_files.h"
#include "core/tfrecord.h"
#include "music.pb.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using testing::MakeTempDir;
using testing::SharedPath;

std::string ToolPath(const std::string& tool) {
  return std::string(MELODY_BINARY_DIR) + "/apps/" + tool;
}

#define SKIP_UNLESS_BUILT(tool)                                                    \
  do {                                                                             \
    if (::access(ToolPath(tool).c_str(), X_OK) != 0)                               \
      GTEST_SKIP() << "binary not built: " << ToolPath(tool);                      \
  } while (0)

// Starts `tool` with `args`, stdout and stderr to `log`. Returns the pid.
pid_t Spawn(const std::string& tool, const std::vector<std::string>& args,
            const std::string& log) {
  const std::string binary = ToolPath(tool);
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs the tool to the end; returns the wait status and the output in *log_text.
int RunTool(const std::string& tool, const std::vector<std::string>& args,
            const std::string& dir, std::string* log_text = nullptr) {
  const std::string log = dir + "/tool.log";
  const pid_t pid = Spawn(tool, args, log);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (log_text) *log_text = ReadFileToString(log);
  return status;
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

// Names in `dir` that are temporary files of an AtomicFileWriter (".tmp.<pid>.<n>").
std::vector<std::string> TempFilesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    const std::string name = e->d_name;
    if (name.find(".tmp.") != std::string::npos) names.push_back(name);
  }
  if (d) ::closedir(d);
  return names;
}

bool WaitFor(const std::function<bool()>& condition, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

pid_t DeadPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

// A NoteSequence that gives one training example (a C major scale of 8 bars).
std::string MelodicSequence(const std::string& filename) {
  magenta::NoteSequence ns;
  ns.set_filename(filename);
  ns.set_id("/id/midi/test/" + filename);
  ns.add_tempos()->set_qpm(120);
  auto* ts = ns.add_time_signatures();
  ts->set_numerator(4);
  ts->set_denominator(4);
  const int pitches[] = {60, 62, 64, 65, 67, 69, 71, 72};
  for (int i = 0; i < 64; ++i) {
    auto* note = ns.add_notes();
    note->set_pitch(pitches[i % 8]);
    note->set_velocity(80);
    note->set_start_time(0.5 * i);
    note->set_end_time(0.5 * i + 0.5);
  }
  ns.set_total_time(32.0);
  return SerializeDeterministic(ns);
}

// ---- point 4: signals and kill -9 leftovers ----------------------------------------

// The dataset tool blocked on a FIFO input (its outputs open, nothing read) gets each
// signal: it dies by that signal, its temporary files are gone, the earlier pair stays.
TEST(DataToolsSignalTest, CreateDatasetRemovesItsTemporaryFilesOnEachSignal) {
  SKIP_UNLESS_BUILT("melody_rnn_create_dataset");
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    const std::string dir = MakeTempDir("data_tools_signal");
    const std::string out = dir + "/out";
    MakeDirectories(out);
    WriteFileAtomically(out + "/training_melodies.tfrecord", "old training");
    WriteFileAtomically(out + "/eval_melodies.tfrecord", "old eval");
    ASSERT_EQ(::mkfifo((dir + "/in.tfrecord").c_str(), 0600), 0);
    const pid_t pid = Spawn("melody_rnn_create_dataset",
                            {"--config=basic_rnn", "--input=" + dir + "/in.tfrecord",
                             "--output_dir=" + out, "--report=" + dir + "/report.tsv"},
                            dir + "/tool.log");
    // Opening the FIFO for writing waits for the tool to open it for reading.
    const int fifo = ::open((dir + "/in.tfrecord").c_str(), O_WRONLY);
    ASSERT_GE(fifo, 0);
    ASSERT_TRUE(WaitFor([&] { return TempFilesIn(out).size() == 2; }, 20))
        << ReadFileToString(dir + "/tool.log");
    ASSERT_EQ(::kill(pid, signal_number), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(fifo);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
    EXPECT_EQ(WTERMSIG(status), signal_number);
    EXPECT_TRUE(TempFilesIn(out).empty());
    EXPECT_TRUE(TempFilesIn(dir).empty());
    EXPECT_EQ(ReadFileToString(out + "/training_melodies.tfrecord"), "old training");
    EXPECT_EQ(ReadFileToString(out + "/eval_melodies.tfrecord"), "old eval");
  }
}

// The converter is stopped (SIGSTOP) once its temporary file exists, sent the signal and
// continued: it dies by the signal and leaves no temporary file.
TEST(DataToolsSignalTest, ConverterRemovesItsTemporaryFileOnEachSignal) {
  SKIP_UNLESS_BUILT("convert_dir_to_note_sequences");
  MELODY_REQUIRE_SHARED("data/nottingham");
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    const std::string dir = MakeTempDir("data_tools_signal");
    const pid_t pid = Spawn("convert_dir_to_note_sequences",
                            {"--input_dir=" + SharedPath("data/nottingham"),
                             "--output_file=" + dir + "/out.tfrecord", "--num_threads=1"},
                            dir + "/tool.log");
    const bool started = WaitFor([&] { return !TempFilesIn(dir).empty(); }, 20);
    ::kill(pid, SIGSTOP);
    int status = 0;
    if (!started || ::waitpid(pid, &status, WNOHANG) == pid) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "the converter ended before it could be signalled";
    }
    ASSERT_EQ(::kill(pid, signal_number), 0);
    ASSERT_EQ(::kill(pid, SIGCONT), 0);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
    EXPECT_EQ(WTERMSIG(status), signal_number);
    EXPECT_TRUE(TempFilesIn(dir).empty());
    EXPECT_FALSE(PathExists(dir + "/out.tfrecord"));
  }
}

// What a kill -9 left (a temporary file of a dead process) is removed by the next
// successful run for the same output; another output's and a live process's are kept.
TEST(DataToolsStaleFilesTest, SuccessfulRunsRemoveTheirOwnStaleTemporaryFiles) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  FLAGS_minloglevel = google::GLOG_WARNING;
  const std::string dir = MakeTempDir("data_tools_stale");
  MakeDirectories(dir + "/midi");
  WriteFileAtomically(dir + "/midi/a.mid", ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid")));
  const pid_t dead = DeadPid();
  const std::string stale = TempFileName(dir + "/out.tfrecord", dead, 0);
  const std::string other = TempFileName(dir + "/other.tfrecord", dead, 0);
  const std::string live = TempFileName(dir + "/out.tfrecord", 1, 0);
  for (const std::string& p : {stale, other, live}) WriteFileAtomically(p, std::string(1000, 'x'));
  ConvertDirOptions options;
  options.input_dir = dir + "/midi";
  options.output_file = dir + "/out.tfrecord";
  ConvertDirToNoteSequences(options);
  EXPECT_FALSE(PathExists(stale));
  EXPECT_TRUE(PathExists(other));
  EXPECT_TRUE(PathExists(live));

  // The dataset tool: both outputs and the report.
  const std::string out = dir + "/dataset";
  MakeDirectories(out);
  std::vector<std::string> stale_dataset = {
      TempFileName(out + "/training_melodies.tfrecord", dead, 1),
      TempFileName(out + "/eval_melodies.tfrecord", dead, 2),
      TempFileName(dir + "/report.tsv", dead, 3)};
  for (const std::string& p : stale_dataset) WriteFileAtomically(p, "left by kill -9");
  WriteTFRecordFile(dir + "/in.tfrecord", {MelodicSequence("scale.mid")});
  CreateDatasetOptions dataset_options;
  dataset_options.log_progress = false;
  CreateDataset({dir + "/in.tfrecord", out, dir + "/report.tsv"}, dataset_options);
  for (const std::string& p : stale_dataset) EXPECT_FALSE(PathExists(p)) << p;
  EXPECT_TRUE(TempFilesIn(out).empty());
}

// ---- point 1: file names that are not UTF-8 -----------------------------------------

TEST(NonUtf8NamesTest, InvalidBytesAreEscapedValidUtf8IsKept) {
  // Hand-made cases of the UTF-8 rules (RFC 3629) protobuf applies to proto3 strings.
  const std::pair<std::string, std::string> cases[] = {
      {"plain.mid", "plain.mid"},
      {"caf\xc3\xa9.mid", "caf\xc3\xa9.mid"},                // é, valid
      {"\xf0\x9f\x8e\xb5.mid", "\xf0\x9f\x8e\xb5.mid"},      // U+1F3B5, valid
      {"back\\slash.mid", "back\\slash.mid"},                // valid, unchanged
      {"caf\xe9.mid", "caf\\xe9.mid"},                       // Latin-1 é
      {"\xc0\xaf", "\\xc0\\xaf"},                            // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},                   // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},          // above U+10FFFF
      {"\xe2\x82", "\\xe2\\x82"},                            // cut short
      {"\xe2\x82\xac\xff", "\xe2\x82\xac\\xff"},             // € then a stray byte
  };
  for (const auto& [raw, stored] : cases) {
    EXPECT_EQ(EscapeInvalidUtf8(raw), stored) << raw;
    // The stored form is something every parser accepts.
    magenta::NoteSequence ns;
    ns.set_filename(EscapeInvalidUtf8(raw));
    magenta::NoteSequence back;
    EXPECT_NO_THROW(ParseProtoOrThrow(SerializeDeterministic(ns), &back, "escaped name")) << stored;
  }
}

TEST(NonUtf8NamesTest, SuchFilesAreConvertedIntoRecordsThatParse) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  FLAGS_minloglevel = google::GLOG_ERROR;
  const std::string midi = ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid"));
  const std::string dir = MakeTempDir("non_utf8");
  const std::string input = dir + "/songs\xff";  // the collection name is not UTF-8 either
  MakeDirectories(input + "/sub\xfe");
  WriteFileAtomically(input + "/caf\xe9.mid", midi);
  WriteFileAtomically(input + "/ok.mid", midi);
  WriteFileAtomically(input + "/sub\xfe/x.mid", midi);
  ConvertDirOptions options;
  options.input_dir = input;
  options.output_file = dir + "/out.tfrecord";
  options.recursive = true;
  const ConvertDirResult result = ConvertDirToNoteSequences(options);
  EXPECT_EQ(result.converted, 3);
  EXPECT_EQ(result.escaped_names, 2);
  EXPECT_EQ(result.failed, 0);
  const std::vector<std::string> records = ReadTFRecordFile(options.output_file);
  ASSERT_EQ(records.size(), 3u);
  std::vector<std::string> filenames;
  for (const std::string& record : records) {
    magenta::NoteSequence ns;
    ASSERT_NO_THROW(ParseProtoOrThrow(record, &ns, "record"));
    EXPECT_EQ(ns.collection_name(), "songs\\xff");
    EXPECT_EQ(ns.id(), "/id/midi/songs\\xff/" + testing::Sha1Hex(ns.filename()));
    filenames.push_back(ns.filename());
  }
  EXPECT_EQ(filenames, (std::vector<std::string>{"caf\\xe9.mid", "ok.mid", "sub\\xfe/x.mid"}));
  // And the dataset tool reads every one of them.
  CreateDatasetOptions dataset;
  dataset.log_progress = false;
  EXPECT_EQ(CreateDatasetFromRecords(records, dataset).inputs_processed, 3);
}

// ---- point 2: threads ---------------------------------------------------------------

TEST(ThreadLimitTest, NumThreadsAboveTheLimitIsRefusedNamingIt) {
  const std::string dir = MakeTempDir("thread_limit");
  ConvertDirOptions convert;
  convert.input_dir = dir;
  convert.output_file = dir + "/out.tfrecord";
  convert.num_threads = kMaxConvertThreads + 1;
  std::string what = ErrorOf([&] { ConvertDirToNoteSequences(convert); });
  EXPECT_NE(what.find("between 0 (all cores) and " + std::to_string(kMaxConvertThreads)),
            std::string::npos) << what;
  EXPECT_FALSE(PathExists(convert.output_file));
  convert.num_threads = kMaxConvertThreads;  // the limit itself is allowed
  EXPECT_EQ(ConvertDirToNoteSequences(convert).num_threads, kMaxConvertThreads);

  WriteTFRecordFile(dir + "/in.tfrecord", {MelodicSequence("scale.mid")});
  CreateDatasetOptions options;
  options.log_progress = false;
  options.num_threads = kMaxDatasetThreads + 1;
  what = ErrorOf([&] { CreateDataset({dir + "/in.tfrecord", dir + "/out", ""}, options); });
  EXPECT_NE(what.find("between 0 (all cores) and " + std::to_string(kMaxDatasetThreads)),
            std::string::npos) << what;
  EXPECT_FALSE(PathExists(dir + "/out"));
  options.num_threads = -1;
  EXPECT_NE(ErrorOf([&] { CreateDatasetFromRecords({MelodicSequence("x.mid")}, options); })
                .find("--num_threads"),
            std::string::npos);
}

// Runs fn in a child process whose user may have at most `limit` processes and threads
// (RLIMIT_NPROC). Root is not bound by that limit, so as root the child first becomes
// `nobody`. Returns fn's result as the exit code; 77 when the limit cannot be set up; -1
// when the child did not exit (e.g. killed by the 60 s alarm: a hang).
int RunWithThreadLimit(rlim_t limit, const std::function<int()>& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(60);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(77);
    const rlimit rl = {limit, limit};
    if (::setrlimit(RLIMIT_NPROC, &rl) != 0) ::_exit(77);
    // The limit must actually bite: a thread beyond it must fail to start.
    ::_exit(fn());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A directory the child (maybe `nobody`) can use.
std::string SharedTempDir(const std::string& prefix) {
  const std::string dir = MakeTempDir(prefix);
  ::chmod(dir.c_str(), 0777);
  return dir;
}

int ExpectError(const std::function<void()>& fn, const std::string& expected) {
  try {
    fn();
  } catch (const Error& e) {
    if (std::string(e.what()).find(expected) != std::string::npos) return 0;
    std::fprintf(stderr, "unexpected error: %s\n", e.what());
    return 1;
  }
  return 2;
}

// The limit lets the child run one more thread at most: starting the second worker fails.
TEST(ThreadLimitTest, ThreadThatCannotStartIsAClearErrorInBothTools) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  FLAGS_minloglevel = google::GLOG_WARNING;
  const std::string dir = SharedTempDir("thread_limit");
  MakeDirectories(dir + "/midi");
  WriteFileAtomically(dir + "/midi/a.mid", ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid")));
  WriteTFRecordFile(dir + "/in.tfrecord", {MelodicSequence("scale.mid")});
  ::chmod((dir + "/in.tfrecord").c_str(), 0644);
  ::chmod((dir + "/midi").c_str(), 0755);
  ::chmod((dir + "/midi/a.mid").c_str(), 0644);

  const int convert = RunWithThreadLimit(2, [&] {
    ConvertDirOptions options;
    options.input_dir = dir + "/midi";
    options.output_file = dir + "/out.tfrecord";
    options.num_threads = 8;
    return ExpectError([&] { ConvertDirToNoteSequences(options); }, "cannot start parsing thread");
  });
  if (convert == 77) GTEST_SKIP() << "cannot set RLIMIT_NPROC for a child here";
  EXPECT_EQ(convert, 0) << "2: no error; 1: another error; -1: hung or crashed";
  EXPECT_FALSE(PathExists(dir + "/out.tfrecord"));
  EXPECT_TRUE(TempFilesIn(dir).empty());

  const int dataset = RunWithThreadLimit(2, [&] {
    CreateDatasetOptions options;
    options.log_progress = false;
    options.num_threads = 8;
    return ExpectError([&] { CreateDataset({dir + "/in.tfrecord", dir + "/out", ""}, options); },
                       "cannot start worker thread");
  });
  EXPECT_EQ(dataset, 0) << "2: no error; 1: another error; -1: hung or crashed";
  EXPECT_TRUE(TempFilesIn(dir + "/out").empty());

  // The binaries exit 1 with the message (no abort, no hang).
  for (const char* tool : {"convert_dir_to_note_sequences", "melody_rnn_create_dataset"}) {
    if (::access(ToolPath(tool).c_str(), X_OK) != 0) continue;
    const std::vector<std::string> args =
        std::string(tool) == "convert_dir_to_note_sequences"
            ? std::vector<std::string>{"--input_dir=" + dir + "/midi",
                                       "--output_file=" + dir + "/bin.tfrecord", "--num_threads=8"}
            : std::vector<std::string>{"--config=basic_rnn", "--input=" + dir + "/in.tfrecord",
                                       "--output_dir=" + dir + "/bin", "--num_threads=8"};
    const int status = RunWithThreadLimit(2, [&] {
      int s = RunTool(tool, args, dir);
      return WIFEXITED(s) ? WEXITSTATUS(s) : 100 + (WIFSIGNALED(s) ? WTERMSIG(s) : 0);
    });
    EXPECT_EQ(status, 1) << tool << ": " << ReadFileToString(dir + "/tool.log");
    EXPECT_NE(ReadFileToString(dir + "/tool.log").find("cannot start"), std::string::npos)
        << ReadFileToString(dir + "/tool.log");
    EXPECT_TRUE(TempFilesIn(dir).empty());
  }
}

// ---- point 6: only regular files, of bounded size ---------------------------------

// A FIFO, a link to /dev/zero and a socket named like MIDI files are skipped (not read:
// the FIFO would block, /dev/zero never ends); files over the size limit are skipped
// unread; a link to a regular file is still followed.
TEST(RegularFilesOnlyTest, DevicesFifosSocketsAndHugeFilesAreSkippedWithTheReason) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  FLAGS_minloglevel = google::GLOG_ERROR;
  const std::string midi = ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid"));
  const std::string dir = MakeTempDir("regular_files");
  const std::string input = dir + "/in";
  MakeDirectories(input);
  WriteFileAtomically(input + "/a.mid", midi);
  ASSERT_EQ(::symlink((input + "/a.mid").c_str(), (input + "/b_link.mid").c_str()), 0);
  ASSERT_EQ(::mkfifo((input + "/c_fifo.mid").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/dev/zero", (input + "/d_zero.mid").c_str()), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string socket_path = input + "/e_socket.mid";
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::strcpy(address.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  // Over the default limit by one byte (sparse: costs no disk).
  const int big = ::open((input + "/f_big.mid").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(big, 0);
  ASSERT_EQ(::ftruncate(big, static_cast<off_t>(kDefaultMaxMidiFileBytes + 1)), 0);
  ::close(big);

  ConvertDirOptions options;
  options.input_dir = input;
  options.output_file = dir + "/out.tfrecord";
  const ConvertDirResult result = ConvertDirToNoteSequences(options);
  ::close(sock);
  EXPECT_EQ(result.converted, 2);  // a.mid and the link to it
  EXPECT_EQ(result.failed, 0);
  ASSERT_EQ(result.skipped.size(), 4u);
  const char* expected[][2] = {{"c_fifo.mid", "is a FIFO, not a regular file"},
                               {"d_zero.mid", "is a character device, not a regular file"},
                               {"e_socket.mid", "is a socket, not a regular file"},
                               {"f_big.mid", "larger than the limit of 67108864 bytes"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(result.skipped[i].path, input + "/" + expected[i][0]);
    EXPECT_NE(result.skipped[i].reason.find(expected[i][1]), std::string::npos)
        << result.skipped[i].reason;
  }
  EXPECT_EQ(result.input_bytes, 2 * midi.size());
  EXPECT_EQ(ReadTFRecordFile(options.output_file).size(), 2u);
}

TEST(RegularFilesOnlyTest, SizeLimitIsInclusive) {
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  FLAGS_minloglevel = google::GLOG_ERROR;
  const std::string midi = ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid"));
  const std::string dir = MakeTempDir("regular_files");
  MakeDirectories(dir + "/in");
  WriteFileAtomically(dir + "/in/a.mid", midi);
  ConvertDirOptions options;
  options.input_dir = dir + "/in";
  options.output_file = dir + "/out.tfrecord";
  options.max_file_bytes = midi.size();
  EXPECT_EQ(ConvertDirToNoteSequences(options).converted, 1);
  options.max_file_bytes = midi.size() - 1;
  const ConvertDirResult result = ConvertDirToNoteSequences(options);
  EXPECT_EQ(result.converted, 0);
  ASSERT_EQ(result.skipped.size(), 1u);
  EXPECT_NE(result.skipped[0].reason.find("is " + std::to_string(midi.size()) + " bytes"),
            std::string::npos) << result.skipped[0].reason;
}

TEST(RegularFilesOnlyTest, BinaryChecksTheSizeFlag) {
  SKIP_UNLESS_BUILT("convert_dir_to_note_sequences");
  const std::string dir = MakeTempDir("regular_files");
  std::string log;
  EXPECT_EQ(ExitCode(RunTool("convert_dir_to_note_sequences",
                             {"--input_dir=" + dir, "--output_file=" + dir + "/o.tfrecord",
                              "--max_midi_file_mb=0"},
                             dir, &log)),
            1);
  EXPECT_NE(log.find("--max_midi_file_mb must be between 1 and 4096"), std::string::npos) << log;
}

// ---- point 3: the dataset pair is replaced together --------------------------------

// The second of three renames fails (its final path is a directory): the first file gets
// its previous contents back, the third is untouched, no temporary file is left.
TEST(CommitTogetherTest, FailedRenamePutsTheEarlierFilesBack) {
  const std::string dir = MakeTempDir("commit_together");
  WriteFileAtomically(dir + "/a", "old a");
  MakeDirectories(dir + "/b/not_empty");
  WriteFileAtomically(dir + "/c", "old c");
  {
    AtomicFileWriter a(dir + "/a"), b(dir + "/b"), c(dir + "/c"), d(dir + "/d");
    a.Write("new a");
    b.Write("new b");
    c.Write("new c");
    d.Write("new d");
    try {
      CommitTogether({&d, &a, &b, &c});
      ADD_FAILURE() << "no error for a final path that is a directory";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(dir + "/b: cannot rename"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(PathExists(dir + "/d"));  // did not exist before: removed again
  EXPECT_EQ(ReadFileToString(dir + "/a"), "old a");
  EXPECT_TRUE(IsDirectory(dir + "/b/not_empty"));
  EXPECT_EQ(ReadFileToString(dir + "/c"), "old c");
  EXPECT_TRUE(TempFilesIn(dir).empty());
}

TEST(CommitTogetherTest, ReplacesEverySetMember) {
  const std::string dir = MakeTempDir("commit_together");
  WriteFileAtomically(dir + "/a", "old a");
  AtomicFileWriter a(dir + "/a"), b(dir + "/b");
  a.Write("new a");
  b.Write("new b");
  CommitTogether({&a, &b});
  EXPECT_EQ(ReadFileToString(dir + "/a"), "new a");
  EXPECT_EQ(ReadFileToString(dir + "/b"), "new b");
  EXPECT_TRUE(TempFilesIn(dir).empty());
}

// The reproduction: training_melodies.tfrecord is a directory. The run fails
// naming it, and eval_melodies.tfrecord is still the previous one.
TEST(DatasetPairTest, FailureToPlaceOneFileLeavesThePreviousPair) {
  FLAGS_minloglevel = google::GLOG_WARNING;
  const std::string dir = MakeTempDir("dataset_pair");
  const std::string out = dir + "/out";
  MakeDirectories(out + "/training_melodies.tfrecord/x");
  WriteFileAtomically(out + "/eval_melodies.tfrecord", "old eval");
  WriteTFRecordFile(dir + "/in.tfrecord", {MelodicSequence("scale.mid")});
  CreateDatasetOptions options;
  options.log_progress = false;
  options.eval_ratio = 0.0;
  try {
    CreateDataset({dir + "/in.tfrecord", out, ""}, options);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training_melodies.tfrecord"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ReadFileToString(out + "/eval_melodies.tfrecord"), "old eval");
  EXPECT_TRUE(IsDirectory(out + "/training_melodies.tfrecord/x"));
  EXPECT_TRUE(TempFilesIn(out).empty());
}

// ---- point 5: outputs are checked before the work -----------------------------------

// An input whose first record is corrupt: any error about the outputs must come before
// the first read of it.
std::string CorruptInput(const std::string& dir) {
  std::string framed = FrameTFRecord(MelodicSequence("scale.mid"));
  framed[20] ^= 0x55;
  WriteFileAtomically(dir + "/corrupt.tfrecord", framed);
  return dir + "/corrupt.tfrecord";
}

TEST(OutputsCheckedFirstTest, CreateDatasetRefusesUnwritableOutputsBeforeReading) {
  const std::string dir = MakeTempDir("outputs_first");
  const std::string input = CorruptInput(dir);
  CreateDatasetOptions options;
  options.log_progress = false;
  // The input's own error, for comparison.
  EXPECT_NE(ErrorOf([&] { CreateDataset({input, dir + "/out", ""}, options); }).find("record 0"),
            std::string::npos);
  WriteFileAtomically(dir + "/a_file", "");
  std::string what =
      ErrorOf([&] { CreateDataset({input, dir + "/out", dir + "/missing/report.tsv"}, options); });
  EXPECT_NE(what.find(dir + "/missing/report.tsv: cannot open for writing"), std::string::npos)
      << what;
  EXPECT_TRUE(TempFilesIn(dir + "/out").empty());
  what = ErrorOf([&] { CreateDataset({input, dir + "/a_file/out", ""}, options); });
  EXPECT_NE(what.find("a_file"), std::string::npos) << what;
  EXPECT_EQ(what.find("record 0"), std::string::npos) << what;
  MakeDirectories(dir + "/out/eval_melodies.tfrecord");
  what = ErrorOf([&] { CreateDataset({input, dir + "/out", ""}, options); });
  EXPECT_NE(what.find("eval_melodies.tfrecord: output file is a directory"), std::string::npos)
      << what;
  what = ErrorOf([&] { CreateDataset({input, dir + "/out2", dir}, options); });
  EXPECT_NE(what.find("--report is a directory"), std::string::npos) << what;
}

TEST(OutputsCheckedFirstTest, EvalRatioOutsideZeroOneOrNanIsRefused) {
  const std::string dir = MakeTempDir("outputs_first");
  WriteTFRecordFile(dir + "/in.tfrecord", {MelodicSequence("scale.mid")});
  for (double ratio : {1.5, -1.0, std::nan(""), -0.0001, 1.0001}) {
    CreateDatasetOptions options;
    options.log_progress = false;
    options.eval_ratio = ratio;
    const std::string what = ErrorOf([&] { CreateDataset({dir + "/in.tfrecord", dir + "/out", ""}, options); });
    EXPECT_NE(what.find("--eval_ratio must be between 0 and 1"), std::string::npos)
        << ratio << ": " << what;
    EXPECT_FALSE(PathExists(dir + "/out/training_melodies.tfrecord")) << ratio;
    EXPECT_NE(ErrorOf([&] { CreateDatasetFromRecords({MelodicSequence("x.mid")}, options); })
                  .find("--eval_ratio"),
              std::string::npos);
  }
  for (double ratio : {0.0, 1.0}) {
    CreateDatasetOptions options;
    options.log_progress = false;
    options.eval_ratio = ratio;
    const DatasetRun run = CreateDatasetFromRecords({MelodicSequence("x.mid")}, options);
    EXPECT_EQ(run.eval.size(), ratio == 1.0 ? 1u : 0u);
    EXPECT_EQ(run.training.size(), ratio == 1.0 ? 0u : 1u);
  }
}

// The binaries: the error names the output and no input was looked at.
TEST(OutputsCheckedFirstTest, BinariesRefuseUnwritableOutputsBeforeReading) {
  SKIP_UNLESS_BUILT("melody_rnn_create_dataset");
  SKIP_UNLESS_BUILT("convert_dir_to_note_sequences");
  const std::string dir = MakeTempDir("outputs_first");
  const std::string input = CorruptInput(dir);
  WriteFileAtomically(dir + "/a_file", "");
  std::string log;
  EXPECT_EQ(ExitCode(RunTool("melody_rnn_create_dataset",
                             {"--config=basic_rnn", "--input=" + input, "--output_dir=" + dir + "/out",
                              "--report=" + dir + "/no/such/dir/report.tsv"},
                             dir, &log)),
            1);
  EXPECT_NE(log.find("report.tsv: cannot open for writing"), std::string::npos) << log;
  EXPECT_EQ(log.find("Partition"), std::string::npos) << log;
  EXPECT_EQ(ExitCode(RunTool("melody_rnn_create_dataset",
                             {"--config=basic_rnn", "--input=" + input, "--eval_ratio=nan",
                              "--output_dir=" + dir + "/out"},
                             dir, &log)),
            1);
  EXPECT_NE(log.find("--eval_ratio must be between 0 and 1"), std::string::npos) << log;

  MakeDirectories(dir + "/midi");
  WriteFileAtomically(dir + "/midi/bad.mid", "not a MIDI file");
  EXPECT_EQ(ExitCode(RunTool("convert_dir_to_note_sequences",
                             {"--input_dir=" + dir + "/midi", "--output_file=" + dir + "/a_file/out.tfrecord"},
                             dir, &log)),
            1);
  EXPECT_NE(log.find("a_file"), std::string::npos) << log;
  EXPECT_EQ(log.find("Converting files in"), std::string::npos) << log;
  EXPECT_EQ(log.find("bad.mid"), std::string::npos) << log;
}

// ---- point 7: smaller ones -----------------------------------------------------------

// A tree deeper than PATH_MAX (made with mkdirat, one level at a time): the directory
// that cannot be opened is reported with the reason, not as "no converter".
TEST(SmallerFaultsTest, DirectoryTooDeepToOpenIsReportedAsSuch) {
  FLAGS_minloglevel = google::GLOG_FATAL;
  const std::string dir = MakeTempDir("too_deep");
  MakeDirectories(dir + "/in");
  const std::string level(200, 'd');
  int fd = ::open((dir + "/in").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  for (int depth = 0; depth < 24; ++depth) {  // 24 * 201 bytes > 4096
    ASSERT_EQ(::mkdirat(fd, level.c_str(), 0755), 0) << depth;
    const int next = ::openat(fd, level.c_str(), O_RDONLY | O_DIRECTORY);
    ::close(fd);
    ASSERT_GE(next, 0) << depth;
    fd = next;
  }
  ::close(fd);
  ConvertDirOptions options;
  options.input_dir = dir + "/in";
  options.output_file = dir + "/out.tfrecord";
  options.recursive = true;
  const ConvertDirResult result = ConvertDirToNoteSequences(options);
  EXPECT_TRUE(result.no_converter.empty()) << result.no_converter.size();
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_NE(result.failures[0].reason.find("too deep to open"), std::string::npos)
      << result.failures[0].reason;
  EXPECT_GT(result.failures[0].path.size(), 4000u);
}

// The report says why an input gave nothing, also when no counter column does.
TEST(SmallerFaultsTest, ReportSaysWhyAnInputGaveNoExample) {
  auto sequence = [](const std::string& name, const std::function<void(magenta::NoteSequence*)>& edit) {
    magenta::NoteSequence ns;
    ParseProtoOrThrow(MelodicSequence(name), &ns, "scale");
    edit(&ns);
    return SerializeDeterministic(ns);
  };
  const std::vector<std::string> inputs = {
      MelodicSequence("melodic.mid"),
      sequence("drums.mid", [](magenta::NoteSequence* ns) {
        for (auto& note : *ns->mutable_notes()) note.set_is_drum(true);
      }),
      sequence("empty.mid", [](magenta::NoteSequence* ns) {
        ns->clear_notes();
        ns->set_total_time(0);
      }),
      sequence("polyphonic.mid", [](magenta::NoteSequence* ns) {
        for (auto& note : *ns->mutable_notes()) note.set_start_time(std::floor(note.start_time()));
      }),
      sequence("high.mid", [](magenta::NoteSequence* ns) { ns->mutable_notes(3)->set_pitch(130); }),
  };
  CreateDatasetOptions options;
  options.log_progress = false;
  options.eval_ratio = 0;
  const std::string report = FormatInputReports(CreateDatasetFromRecords(inputs, options).reports);
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = report.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(report.substr(start, end - start));
  ASSERT_EQ(lines.size(), 6u) << report;
  auto last_column = [](const std::string& line) { return line.substr(line.rfind('\t') + 1); };
  EXPECT_EQ(last_column(lines[0]), "why_no_examples");
  EXPECT_EQ(last_column(lines[1]), "");
  EXPECT_EQ(last_column(lines[2]), "no melody: no non-drum notes");
  EXPECT_EQ(last_column(lines[3]), "the sequence has no length (no notes or total_time 0): no pieces");
  EXPECT_EQ(last_column(lines[4]), "polyphonic tracks: 1");
  EXPECT_EQ(last_column(lines[5]), "pieces with pitches outside 0..127: 1");
}

TEST(SmallerFaultsTest, NamesAreEscapedForLogLines) {
  EXPECT_EQ(QuoteForLog("plain/caf\xc3\xa9.mid"), "'plain/caf\xc3\xa9.mid'");
  EXPECT_EQ(QuoteForLog("a\nb\tc\rd"), "'a\\nb\\tc\\rd'");
  EXPECT_EQ(QuoteForLog("it's\\x"), "'it\\'s\\\\x'");
  EXPECT_EQ(QuoteForLog(std::string("\x01\x7f\xe9", 3)), "'\\x01\\x7f\\xe9'");
  EXPECT_EQ(EscapeForLog("x\ny"), "x\\ny");
}

// A newline in a file name cannot split a log line of either tool, nor a report row.
TEST(SmallerFaultsTest, NewlinesInNamesDoNotSplitLogLinesOrReportRows) {
  SKIP_UNLESS_BUILT("convert_dir_to_note_sequences");
  MELODY_REQUIRE_SHARED("golden/convert_dir/tree/a.mid");
  const std::string dir = MakeTempDir("newline_names");
  MakeDirectories(dir + "/in");
  WriteFileAtomically(dir + "/in/fake\nW1202 00:00:00 forged.mid",
                      ReadFileToString(SharedPath("golden/convert_dir/tree/a.mid")));
  WriteFileAtomically(dir + "/in/notes\n.txt", "not music");
  WriteFileAtomically(dir + "/in/bad\n.mid", "not a MIDI file");
  std::string log;
  ASSERT_EQ(ExitCode(RunTool("convert_dir_to_note_sequences",
                             {"--input_dir=" + dir + "/in", "--output_file=" + dir + "/out.tfrecord"},
                             dir, &log)),
            0) << log;
  EXPECT_NE(log.find("Converted MIDI file '" + dir + "/in/fake\\nW1202 00:00:00 forged.mid'."),
            std::string::npos) << log;
  EXPECT_NE(log.find("'" + dir + "/in/notes\\n.txt'"), std::string::npos) << log;
  EXPECT_NE(log.find("'" + dir + "/in/bad\\n.mid'"), std::string::npos) << log;
  // Every line is a glog line (severity letter, date) or the continuation of none.
  for (size_t start = 0, end; (end = log.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = log.substr(start, end - start);
    EXPECT_TRUE(line.size() > 5 && std::string("IWEF").find(line[0]) != std::string::npos &&
                std::isdigit(static_cast<unsigned char>(line[1])))
        << "line not from the logger: " << line;
  }

  // The dataset tool: a record's filename in an error message and in the report.
  magenta::NoteSequence ns;
  ParseProtoOrThrow(MelodicSequence("evil\nname.mid"), &ns, "scale");
  const std::string evil = SerializeDeterministic(ns);
  ns.mutable_notes(1)->set_end_time(0.1);  // ends before it starts: a pipeline error
  WriteTFRecordFile(dir + "/bad.tfrecord", {SerializeDeterministic(ns)});
  CreateDatasetOptions options;
  options.log_progress = false;
  const std::string what =
      ErrorOf([&] { CreateDataset({dir + "/bad.tfrecord", dir + "/out", ""}, options); });
  EXPECT_NE(what.find("('evil\\nname.mid')"), std::string::npos) << what;
  const std::string report = FormatInputReports(CreateDatasetFromRecords({evil}, options).reports);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 2) << report;
  EXPECT_NE(report.find("\tevil\\nname.mid\t"), std::string::npos) << report;
}

}  // namespace
}  // namespace melody
