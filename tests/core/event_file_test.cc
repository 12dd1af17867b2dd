// TensorBoard event files (formats.md §9): the exact first record, scalar and session events
// round-tripping through the reader, the file-name collision rule, buffering and flushing,
// truncated tails and corruption, write errors, and the reference's own files in
// shared/data/compat/events/. Set MELODY_KEEP_EVENTS_DIR=<new dir> to keep the logdirs of
// ReadScalarSeriesAcceptsBothScalarFormsInNameOrder (scalar_forms/) and
// TrainAndEvalRunsLikeMagenta (run_dir/{train,eval}) for
// tests/reference/read_events_with_tensorboard.py.
#include "core/event_file.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/file_util.h"
#include "core/tfrecord.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using Scalars = std::vector<std::pair<std::string, float>>;

// The tags of one training summary, in the order of training.md §4.2.
const std::vector<std::string> kTrainTags = {
    "loss", "metrics/perplexity", "metrics/accuracy", "metrics/event_accuracy",
    "metrics/no_event_accuracy", "metrics/loss_per_step", "metrics/perplexity_per_step"};

std::string LittleEndianDouble(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return out;
}

std::string LittleEndianFloat(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return out;
}

// The number of the file name's time stamp (events.out.tfevents.<T>.<host>...).
int64_t NameTimeStamp(const std::string& path) {
  std::smatch m;
  std::string base = Basename(path);
  EXPECT_TRUE(std::regex_search(base, m, std::regex("^events\\.out\\.tfevents\\.(\\d{10,})\\.")))
      << base;
  return m.empty() ? -1 : std::stoll(m[1]);
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no melody::Error thrown";
  return "";
}

TEST(EventFile, NameAndFirstRecordBytesAreTheSpecsExactForm) {
  std::string logdir = JoinPath(testing::MakeTempDir("events_first"), "run/train");
  int64_t before = static_cast<int64_t>(std::time(nullptr));
  EventFileWriter writer(logdir);  // logdir is created, parents included
  int64_t after = static_cast<int64_t>(std::time(nullptr));

  char host[256] = {0};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  std::string base = Basename(writer.path());
  EXPECT_EQ(Dirname(writer.path()), logdir);
  EXPECT_TRUE(std::regex_match(base, std::regex("events\\.out\\.tfevents\\.\\d{10}\\.(.*)")))
      << base;
  EXPECT_EQ(base.substr(base.size() - std::strlen(host)), host) << base;
  int64_t stamp = NameTimeStamp(writer.path());
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, after);

  // The file_version record is on disk before any Flush (formats.md §9 "First record").
  std::string bytes = ReadFileToString(writer.path());
  std::string payload = std::string("\x09", 1) + LittleEndianDouble(static_cast<double>(stamp)) +
                        std::string("\x1a\x0d", 2) + "brain.Event:2";
  ASSERT_EQ(payload.size(), 24u);
  ASSERT_EQ(bytes.size(), 40u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x18\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(bytes.substr(12, 24), payload);
  EXPECT_EQ(bytes, FrameTFRecord(payload));  // both CRCs
}

TEST(EventFile, ScalarEventRoundTripsWithTagOrderStepAndWallTime) {
  std::string logdir = testing::MakeTempDir("events_scalars");
  std::string path;
  {
    EventFileWriter writer(logdir);
    path = writer.path();
    // Deliberately not alphabetical, and with a 0 (a oneof member is written even when 0).
    writer.WriteScalars(11, {{"loss", 3.77f}, {"metrics/perplexity", 43.38f}, {"global", 0.0f}},
                        1486776379.25);
    writer.WriteScalars(21, {{"loss", -1.5e-7f}});
    EXPECT_EQ(writer.records(), 3u);
  }  // the destructor flushes
  std::vector<tensorflow::Event> events = ReadEventFile(path, /*allow_truncated_tail=*/false);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[0].wall_time(), static_cast<double>(NameTimeStamp(path)));

  const tensorflow::Event& e = events[1];
  EXPECT_EQ(e.step(), 11);
  EXPECT_EQ(e.wall_time(), 1486776379.25);
  ASSERT_TRUE(e.has_summary());
  ASSERT_EQ(e.summary().value_size(), 3);
  const char* tags[] = {"loss", "metrics/perplexity", "global"};
  const float values[] = {3.77f, 43.38f, 0.0f};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(e.summary().value(i).tag(), tags[i]);
    EXPECT_EQ(e.summary().value(i).value_case(), tensorflow::Summary::Value::kSimpleValue);
    EXPECT_EQ(e.summary().value(i).simple_value(), values[i]);
  }
  // Without an explicit wall time the writer uses the clock.
  EXPECT_EQ(events[2].step(), 21);
  EXPECT_NEAR(events[2].wall_time(), EventWallTimeNow(), 60.0);
  EXPECT_EQ(events[2].summary().value(0).simple_value(), -1.5e-7f);

  // The payload has the byte layout observed in Magenta's files (formats.md §9 "Scalars"):
  // 09 <double> 10 <step> 2a <len> 0a <len> 0a 04 "loss" 15 <float LE> ...
  std::vector<std::string> records = ReadTFRecordFile(path);
  std::string expected_start = std::string("\x09", 1) + LittleEndianDouble(1486776379.25) +
                               std::string("\x10\x0b\x2a", 3);
  EXPECT_EQ(records[1].substr(0, 12), expected_start);
  std::string first_value = std::string("\x0a\x0b\x0a\x04", 4) + "loss" + "\x15" +
                            LittleEndianFloat(3.77f);
  EXPECT_EQ(records[1].substr(12, 1), "\x37");  // the Summary's length: three values
  EXPECT_EQ(records[1].substr(13, first_value.size()), first_value);
}

TEST(EventFile, SessionStartAndCheckpointEvents) {
  std::string logdir = testing::MakeTempDir("events_session");
  std::string path;
  {
    EventFileWriter writer(logdir);
    path = writer.path();
    writer.WriteSessionStart(1230);
    writer.WriteCheckpointSaved(1240, "/runs/a/train/model.ckpt");
  }
  auto events = ReadEventFile(path);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].step(), 1230);
  ASSERT_TRUE(events[1].has_session_log());
  EXPECT_EQ(events[1].session_log().status(), tensorflow::SessionLog::START);
  EXPECT_EQ(events[2].step(), 1240);
  EXPECT_EQ(events[2].session_log().status(), tensorflow::SessionLog::CHECKPOINT);
  EXPECT_EQ(events[2].session_log().checkpoint_path(), "/runs/a/train/model.ckpt");
  EXPECT_NEAR(events[2].wall_time(), EventWallTimeNow(), 60.0);
}

TEST(EventFile, TwoWritersInOneDirectoryInTheSameSecondGetDifferentFiles) {
  std::string logdir = testing::MakeTempDir("events_names");
  // Creating three writers takes far less than a second, but a second boundary can fall in
  // between; try again (in a fresh directory) until all three share a time stamp.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string dir = JoinPath(logdir, std::to_string(attempt));
    EventFileWriter a(dir), b(dir), c(dir);
    EXPECT_NE(a.path(), b.path());
    EXPECT_NE(b.path(), c.path());
    EXPECT_NE(a.path(), c.path());
    a.WriteScalars(1, {{"x", 1.0f}});
    b.WriteScalars(1, {{"x", 2.0f}});
    a.Flush();
    b.Flush();
    EXPECT_EQ(ReadEventFile(a.path()).size(), 2u);
    EXPECT_EQ(ReadEventFile(b.path()).size(), 2u);
    EXPECT_EQ(ReadEventFile(c.path()).size(), 1u);
    if (NameTimeStamp(a.path()) != NameTimeStamp(c.path())) continue;
    // Same second: the rule of event_file.h, and name order = creation order.
    std::string pid = std::to_string(::getpid());
    EXPECT_EQ(b.path(), a.path() + "." + pid);
    EXPECT_EQ(c.path(), a.path() + "." + pid + ".1");
    EXPECT_EQ(ListEventFiles(dir), (std::vector<std::string>{a.path(), b.path(), c.path()}));
    return;
  }
  FAIL() << "never created three writers within one second";
}

TEST(EventFile, RecordsStayBufferedUntilFlushOrTheFlushInterval) {
  std::string logdir = testing::MakeTempDir("events_buffer");
  {
    EventFileWriter writer(logdir);  // 120 s interval
    writer.WriteScalars(1, {{"loss", 1.0f}});
    EXPECT_EQ(ReadEventFile(writer.path()).size(), 1u);  // only file_version
    writer.Flush();
    EXPECT_EQ(ReadEventFile(writer.path()).size(), 2u);
    writer.WriteScalars(2, {{"loss", 2.0f}});
    writer.Flush(/*durable=*/true);
    EXPECT_EQ(ReadEventFile(writer.path()).size(), 3u);
  }
  EventFileWriterOptions options;
  options.flush_secs = 0.05;
  EventFileWriter writer(JoinPath(logdir, "short"), options);
  writer.WriteScalars(1, {{"loss", 1.0f}});
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  writer.WriteScalars(2, {{"loss", 2.0f}});  // the interval has passed: both are written
  EXPECT_EQ(ReadEventFile(writer.path()).size(), 3u);

  options.flush_secs = 1e9;
  options.max_buffered_bytes = 100;  // two scalar records exceed it
  EventFileWriter small(JoinPath(logdir, "small"), options);
  small.WriteScalars(1, {{"loss", 1.0f}});
  EXPECT_EQ(ReadEventFile(small.path()).size(), 1u);
  small.WriteScalars(2, {{"metrics/perplexity", 2.0f}});
  small.WriteScalars(3, {{"metrics/perplexity", 3.0f}});
  EXPECT_EQ(ReadEventFile(small.path()).size(), 4u);
}

// A file with four records, the byte offsets of its records.
std::string WriteFourRecords(const std::string& logdir, std::vector<size_t>* offsets) {
  std::string path;
  {
    EventFileWriter writer(logdir);
    path = writer.path();
    for (int step = 1; step <= 3; ++step)
      writer.WriteScalars(step, {{"loss", static_cast<float>(step)}}, 100.0 + step);
  }
  offsets->clear();
  size_t offset = 0;
  for (const std::string& record : ReadTFRecordFile(path)) {
    offsets->push_back(offset);
    offset += record.size() + 16;
  }
  EXPECT_EQ(offsets->size(), 4u);
  return path;
}

TEST(EventFile, TruncatedLastRecordIsToleratedOnlyWhenAllowed) {
  std::vector<size_t> offsets;
  std::string path = WriteFourRecords(testing::MakeTempDir("events_truncated"), &offsets);
  const std::string whole = ReadFileToString(path);
  // Cut inside the last record's header, payload and data CRC.
  for (size_t keep : {offsets[3] + 5, offsets[3] + 20, whole.size() - 1}) {
    SCOPED_TRACE(keep);
    WriteFileAtomically(path, whole.substr(0, keep));
    auto events = ReadEventFile(path, /*allow_truncated_tail=*/true);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2].step(), 2);
    std::string msg = ErrorOf([&] { ReadEventFile(path, /*allow_truncated_tail=*/false); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_NE(msg.find("record 3 at byte offset " + std::to_string(offsets[3])),
              std::string::npos)
        << msg;
  }
  WriteFileAtomically(path, whole.substr(0, offsets[3]));  // a record boundary: no error
  EXPECT_EQ(ReadEventFile(path, false).size(), 3u);
}

TEST(EventFile, CorruptionIsAnErrorNamingFileRecordAndOffset) {
  std::vector<size_t> offsets;
  std::string path = WriteFourRecords(testing::MakeTempDir("events_corrupt"), &offsets);
  const std::string whole = ReadFileToString(path);
  std::string bad = whole;
  bad[offsets[2] + 14] ^= 0x10;  // a payload byte of record 2
  WriteFileAtomically(path, bad);
  std::string msg = ErrorOf([&] { ReadEventFile(path, true); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("data CRC mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("record 2 at byte offset " + std::to_string(offsets[2])), std::string::npos)
      << msg;

  bad = whole;
  bad[offsets[1] + 2] ^= 0x01;  // the length of record 1: never trusted before its CRC
  WriteFileAtomically(path, bad);
  msg = ErrorOf([&] { ReadEventFile(path, true); });
  EXPECT_NE(msg.find("length CRC mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset " + std::to_string(offsets[1])), std::string::npos) << msg;

  // Valid framing around a payload that is not an Event.
  WriteFileAtomically(path, whole.substr(0, offsets[1]) + FrameTFRecord("\xff\xff\xff"));
  msg = ErrorOf([&] { ReadEventFile(path, true); });
  EXPECT_NE(msg.find("not a tensorflow.Event"), std::string::npos) << msg;

  msg = ErrorOf([&] { ReadEventFile(path + ".missing"); });
  EXPECT_NE(msg.find(path + ".missing"), std::string::npos) << msg;
}

// Readers of a file that is still being written (TensorBoard tails training runs) see whole
// records and at most a torn last one; writes from several threads never interleave inside a
// record.
TEST(EventFile, ConcurrentReaderSeesOnlyWholeRecordsWhileThreadsWrite) {
  std::string logdir = testing::MakeTempDir("events_concurrent");
  EventFileWriterOptions options;
  options.flush_secs = 0;
  EventFileWriter writer(logdir, options);
  constexpr int kThreads = 3, kEventsPerThread = 400;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&writer, t] {
      for (int i = 0; i < kEventsPerThread; ++i)
        writer.WriteScalars(i, {{"thread" + std::to_string(t), static_cast<float>(i)},
                                {"padding", 0.5f}});
    });
  size_t last = 0;
  int reads = 0;
  for (bool done = false; !done; ++reads) {
    done = writer.records() == 1 + kThreads * kEventsPerThread;
    std::vector<tensorflow::Event> events = ReadEventFile(writer.path(), true);  // never throws
    ASSERT_GE(events.size(), last);
    last = events.size();
  }
  for (auto& thread : threads) thread.join();
  writer.Flush();
  ScalarSeries series = ReadScalarSeries(logdir);
  for (int t = 0; t < kThreads; ++t) {
    const auto& points = series["thread" + std::to_string(t)];
    ASSERT_EQ(points.size(), static_cast<size_t>(kEventsPerThread));
    for (int i = 0; i < kEventsPerThread; ++i)
      EXPECT_EQ(points[i], (std::pair<int64_t, float>{i, static_cast<float>(i)}));
  }
  EXPECT_GT(reads, 0);
}

// Limits this process's file size (RLIMIT_FSIZE) for one scope; writes past it fail with
// EFBIG, the same path as a full disk.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    struct rlimit limit = old_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  struct rlimit old_;
  sighandler_t old_handler_;
  bool ok_ = false;
};

TEST(EventFile, WriteErrorThrowsNamingTheFileAndLeavesOnlyWholeRecords) {
  std::string logdir = testing::MakeTempDir("events_write_error");
  EventFileWriterOptions options;
  options.flush_secs = 0;  // every record goes to the file at once
  EventFileWriter writer(logdir, options);
  const Scalars values = {{"loss", 1.0f}, {"metrics/perplexity", 2.0f}};
  writer.WriteScalars(1, values, 1.0);
  const uint64_t good_size = ReadFileToString(writer.path()).size();
  {
    FileSizeLimit limit(good_size + 30);  // room for part of the next record only
    ASSERT_TRUE(limit.ok());
    std::string msg = ErrorOf([&] { writer.WriteScalars(2, values, 2.0); });
    EXPECT_NE(msg.find(writer.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find("cannot write events"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::strerror(EFBIG)), std::string::npos) << msg;
  }
  // The partial record was removed: the file holds whole records only.
  EXPECT_EQ(ReadFileToString(writer.path()).size(), good_size);
  EXPECT_EQ(ReadEventFile(writer.path(), /*allow_truncated_tail=*/false).size(), 2u);
  // With room again, the kept record and new ones are written.
  writer.WriteScalars(3, values, 3.0);
  auto events = ReadEventFile(writer.path(), false);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].step(), 2);
  EXPECT_EQ(events[3].step(), 3);
}

// $MELODY_KEEP_EVENTS_DIR/<name> (which must not exist yet) when that variable is set, so that
// tests/reference/read_events_with_tensorboard.py can read what a test wrote; else a temporary
// directory.
std::string KeptOrTemporaryDir(const std::string& name) {
  const char* keep = std::getenv("MELODY_KEEP_EVENTS_DIR");
  if (!keep || !*keep) return JoinPath(testing::MakeTempDir("events_" + name), name);
  std::string dir = JoinPath(keep, name);
  if (PathExists(dir))
    ADD_FAILURE() << dir << " exists already; give MELODY_KEEP_EVENTS_DIR a new directory";
  return dir;
}

TEST(EventFile, ReadScalarSeriesAcceptsBothScalarFormsInNameOrder) {
  std::string logdir = KeptOrTemporaryDir("scalar_forms");
  auto tensor_value = [](tensorflow::Summary* summary, const std::string& tag, float value,
                         const char* plugin) {
    tensorflow::Summary::Value* v = summary->add_value();
    v->set_tag(tag);
    if (plugin) {
      v->mutable_metadata()->mutable_plugin_data()->set_plugin_name(plugin);
      v->mutable_metadata()->set_data_class(tensorflow::SummaryMetadata::DATA_CLASS_SCALAR);
    }
    tensorflow::TensorProto* t = v->mutable_tensor();
    t->set_dtype(tensorflow::DT_FLOAT);
    t->mutable_tensor_shape();
    t->set_tensor_content(LittleEndianFloat(value));
    return t;
  };
  {
    EventFileWriter writer(logdir);
    writer.WriteScalars(1, {{"loss", 4.0f}, {"metrics/accuracy", 0.25f}}, 10.0);
    tensorflow::Event e;
    e.set_step(2);
    e.set_wall_time(11.0);
    tensor_value(e.mutable_summary(), "tf2/loss", 3.5f, "scalars");  // TF's C++ writer form
    tensor_value(e.mutable_summary(), "text", 1.0f, "text");          // not a scalar plugin
    writer.WriteEvent(e);
    e.mutable_summary()->Clear();
    e.set_step(3);
    // Metadata only on the first value of a tag; float_val and double_val forms.
    tensor_value(e.mutable_summary(), "tf2/loss", 0.0f, nullptr)->set_tensor_content("");
    e.mutable_summary()->mutable_value(0)->mutable_tensor()->add_float_val(3.25f);
    tensorflow::TensorProto* d = tensor_value(e.mutable_summary(), "tf2/rate", 0.0f, "scalars");
    d->set_dtype(tensorflow::DT_DOUBLE);
    d->set_tensor_content("");
    d->add_double_val(0.125);
    // One element of rank 1: a scalar to TensorBoard's plugin; two elements: not a scalar.
    tensorflow::TensorProto* one = tensor_value(e.mutable_summary(), "tf2/one", 1.5f, "scalars");
    one->mutable_tensor_shape()->add_dim()->set_size(1);
    tensorflow::TensorProto* pair = tensor_value(e.mutable_summary(), "tf2/pair", 1.0f, "scalars");
    pair->mutable_tensor_shape()->add_dim()->set_size(2);
    pair->set_tensor_content(LittleEndianFloat(1.0f) + LittleEndianFloat(2.0f));
    tensor_value(e.mutable_summary(), "untagged_plugin", 1.0f, nullptr);
    writer.WriteEvent(e);
  }
  {
    // A second file; its name sorts after the first one (same second: ".<pid>" suffix; later
    // second: a larger time stamp), so its points come after.
    EventFileWriter writer(logdir);
    writer.WriteScalars(4, {{"loss", 2.0f}}, 12.0);
  }
  ScalarSeries series = ReadScalarSeries(logdir);
  using Points = std::vector<std::pair<int64_t, float>>;
  EXPECT_EQ(series["loss"], (Points{{1, 4.0f}, {4, 2.0f}}));
  EXPECT_EQ(series["metrics/accuracy"], (Points{{1, 0.25f}}));
  EXPECT_EQ(series["tf2/loss"], (Points{{2, 3.5f}, {3, 3.25f}}));
  EXPECT_EQ(series["tf2/rate"], (Points{{3, 0.125f}}));
  EXPECT_EQ(series.count("text"), 0u);
  EXPECT_EQ(series["tf2/one"], (Points{{3, 1.5f}}));
  EXPECT_EQ(series.count("tf2/pair"), 0u);
  EXPECT_EQ(series.count("untagged_plugin"), 0u);
  EXPECT_EQ(series.size(), 5u);
}

// A logdir shaped like Magenta's run_dir (training.md §4.2, §7.4, §8): train/ with a restart,
// eval/ with one summary per evaluated checkpoint.
TEST(EventFile, TrainAndEvalRunsLikeMagenta) {
  std::string run_dir = KeptOrTemporaryDir("run_dir");
  std::string train_dir = JoinPath(run_dir, "train");
  std::string eval_dir = JoinPath(run_dir, "eval");
  auto train_values = [](int64_t step) {
    Scalars values;
    for (size_t i = 0; i < kTrainTags.size(); ++i)
      values.emplace_back(kTrainTags[i], 1.0f / static_cast<float>(step) + 0.5f * i);
    return values;
  };
  {
    EventFileWriter train(train_dir);
    train.WriteSessionStart(0);
    train.WriteCheckpointSaved(0, train_dir + "/model.ckpt");
    for (int64_t step : {1, 11, 21, 31}) train.WriteScalars(step, train_values(step));
    train.WriteCheckpointSaved(31, train_dir + "/model.ckpt");
  }
  {
    // Resumed from model.ckpt-21 (the newer points were lost with the crashed job).
    EventFileWriter train(train_dir);
    train.WriteSessionStart(21);
    for (int64_t step : {22, 32}) train.WriteScalars(step, train_values(step));
  }
  {
    EventFileWriter eval(eval_dir);
    const std::vector<std::string> eval_tags = {
        "loss", "metrics/accuracy", "metrics/per_class_accuracy", "metrics/event_accuracy",
        "metrics/no_event_accuracy", "metrics/loss_per_step", "metrics/perplexity",
        "metrics/perplexity_per_step"};
    for (int64_t step : {0, 31}) {
      Scalars values;
      for (const auto& tag : eval_tags) values.emplace_back(tag, 0.75f + step);
      eval.WriteScalars(step, values);
    }
  }
  using Points = std::vector<std::pair<int64_t, float>>;
  ScalarSeries raw = ReadScalarSeries(train_dir);
  ASSERT_EQ(raw.size(), kTrainTags.size());
  EXPECT_EQ(raw["loss"].size(), 6u);
  ScalarSeries shown = ReadScalarSeries(train_dir, /*purge_on_session_start=*/true);
  EXPECT_EQ(shown["loss"], (Points{{1, 1.0f}, {11, 1.0f / 11}, {22, 1.0f / 22}, {32, 1.0f / 32}}));
  EXPECT_EQ(shown["metrics/perplexity_per_step"].back(), (std::pair<int64_t, float>{32, 1.0f / 32 + 3.0f}));
  ScalarSeries eval = ReadScalarSeries(eval_dir);
  ASSERT_EQ(eval.size(), 8u);
  EXPECT_EQ(eval["metrics/per_class_accuracy"], (Points{{0, 0.75f}, {31, 31.75f}}));
}

// --- The reference's files (shared/data/compat/events, compat README §4) ---

std::string CompatEvents(const std::string& relative) {
  return testing::SharedPath("data/compat/events/" + relative);
}

std::map<std::string, float> ValuesOf(const tensorflow::Event& event) {
  std::map<std::string, float> out;
  for (const auto& v : event.summary().value()) out[v.tag()] = v.simple_value();
  return out;
}

void ExpectFirstRecordIsFileVersion(const std::string& path,
                                    const std::vector<tensorflow::Event>& events) {
  ASSERT_FALSE(events.empty()) << path;
  EXPECT_EQ(events[0].file_version(), "brain.Event:2") << path;
  EXPECT_EQ(events[0].step(), 0) << path;
  EXPECT_EQ(events[0].wall_time(), static_cast<double>(NameTimeStamp(path))) << path;
}

// Our writer's serialization of every summary event reproduces the reference's bytes.
void ExpectSummariesReserializeByteForByte(const std::string& path) {
  std::vector<std::string> records = ReadTFRecordFile(path);
  std::vector<tensorflow::Event> events = ReadEventFile(path, false);
  ASSERT_EQ(records.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    if (!events[i].has_summary() && !events[i].has_session_log() &&
        events[i].file_version().empty())
      continue;  // graph_def / meta_graph_def: we never write them
    EXPECT_EQ(events[i].SerializeAsString(), records[i]) << path << " record " << i;
  }
}

TEST(EventFileCompat, BasicRnn2017Train) {
  MELODY_REQUIRE_SHARED("data/compat/events/basic_rnn_2017/train");
  std::string path = CompatEvents("basic_rnn_2017/train/events.out.tfevents.1486776152.Ankurs-Air");
  auto events = ReadEventFile(path, /*allow_truncated_tail=*/false);
  ASSERT_EQ(events.size(), 11u);
  ExpectFirstRecordIsFileVersion(path, events);
  EXPECT_EQ(events[0].wall_time(), 1486776152.0);
  // The compat README gives these records' sizes (the whole serialized Event).
  EXPECT_EQ(events[1].ByteSizeLong(), 214071u);
  EXPECT_EQ(events[2].ByteSizeLong(), 223305u);
  EXPECT_FALSE(events[1].graph_def().empty());
  EXPECT_FALSE(events[2].meta_graph_def().empty());
  std::vector<int64_t> checkpoint_steps;
  int starts = 0, stops = 0, summaries = 0;
  for (const auto& e : events) {
    if (e.has_summary()) {
      ++summaries;
      EXPECT_EQ(e.step(), 0);
    }
    if (!e.has_session_log()) continue;
    switch (e.session_log().status()) {
      case tensorflow::SessionLog::START: ++starts; break;
      case tensorflow::SessionLog::STOP: ++stops; break;
      case tensorflow::SessionLog::CHECKPOINT:
        checkpoint_steps.push_back(e.step());
        EXPECT_EQ(e.session_log().checkpoint_path(), "./PiedPiper/logdir/run1/train/model.ckpt");
        break;
      default: ADD_FAILURE() << "unexpected session_log status";
    }
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(summaries, 2);
  EXPECT_EQ(checkpoint_steps, (std::vector<int64_t>{0, 16, 31, 47}));

  ScalarSeries series = ReadScalarSeries(Dirname(path));
  for (const char* tag : {"global_step/sec", "input_producer/queue/input_producer/fraction_of_32_full",
                          "loss", "perplexity", "accuracy", "event_accuracy", "no_event_accuracy",
                          "learning_rate_1"})
    EXPECT_EQ(series.count(tag), 1u) << tag;
  ASSERT_EQ(series["loss"].size(), 1u);
  EXPECT_EQ(series["loss"][0].first, 0);
  EXPECT_NEAR(series["loss"][0].second, 3.60898, 5e-6);
  EXPECT_NEAR(series["perplexity"][0].second, 37.19261, 5e-5);
  EXPECT_NEAR(series["accuracy"][0].second, 3.15577, 5e-6);  // percent in 2017
  EXPECT_FLOAT_EQ(series["learning_rate_1"][0].second, 0.01f);
  ExpectSummariesReserializeByteForByte(path);
}

TEST(EventFileCompat, BasicRnn2017Eval) {
  MELODY_REQUIRE_SHARED("data/compat/events/basic_rnn_2017/eval");
  std::string path = CompatEvents("basic_rnn_2017/eval/events.out.tfevents.1486776379.Ankurs-Air");
  auto events = ReadEventFile(path, false);
  ASSERT_EQ(events.size(), 4u);
  ExpectFirstRecordIsFileVersion(path, events);
  EXPECT_FALSE(events[1].graph_def().empty());
  EXPECT_FALSE(events[2].meta_graph_def().empty());
  EXPECT_EQ(events[3].step(), 50);
  auto values = ValuesOf(events[3]);
  EXPECT_NEAR(values["loss"], 1.79964, 5e-6);
  EXPECT_NEAR(values["perplexity"], 22.83040, 5e-5);
  EXPECT_NEAR(values["accuracy"], 51.59247, 5e-5);
  EXPECT_NEAR(values["event_accuracy"], 11.42698, 5e-5);
  EXPECT_NEAR(values["no_event_accuracy"], 97.99098, 5e-5);
  ScalarSeries series = ReadScalarSeries(Dirname(path));
  EXPECT_EQ(series.size(), values.size());
  EXPECT_EQ(series["accuracy"], (std::vector<std::pair<int64_t, float>>{{50, values["accuracy"]}}));
  ExpectSummariesReserializeByteForByte(path);
}

TEST(EventFileCompat, Polyphony2022Eval) {
  MELODY_REQUIRE_SHARED("data/compat/events/polyphony_2022/eval");
  std::string path =
      CompatEvents("polyphony_2022/eval/events.out.tfevents.1664354174.Joels-Workstation");
  auto events = ReadEventFile(path, false);
  ASSERT_EQ(events.size(), 4u);
  ExpectFirstRecordIsFileVersion(path, events);
  EXPECT_EQ(events[0].wall_time(), 1664354174.0);
  const tensorflow::Event& summary = events[3];
  EXPECT_EQ(summary.step(), 10000);
  const std::vector<std::string> tags = {
      "input_producer/fraction_of_32_full", "batch/fraction_of_500_full", "loss",
      "metrics/accuracy", "metrics/per_class_accuracy", "metrics/event_accuracy",
      "metrics/no_event_accuracy", "metrics/loss_per_step", "metrics/perplexity",
      "metrics/perplexity_per_step"};
  ASSERT_EQ(summary.summary().value_size(), static_cast<int>(tags.size()));
  for (size_t i = 0; i < tags.size(); ++i) {
    EXPECT_EQ(summary.summary().value(i).tag(), tags[i]);
    EXPECT_EQ(summary.summary().value(i).value_case(), tensorflow::Summary::Value::kSimpleValue);
  }
  EXPECT_NEAR(ValuesOf(summary)["loss"], 0.19786, 5e-6);
  ScalarSeries series = ReadScalarSeries(Dirname(path));
  EXPECT_EQ(series.size(), tags.size());
  for (const auto& tag : tags) EXPECT_EQ(series[tag].size(), 1u) << tag;
  ExpectSummariesReserializeByteForByte(path);
}

TEST(EventFileCompat, EveryCompatEventsFileReads) {
  MELODY_REQUIRE_SHARED("data/compat/events");
  size_t files = 0;
  for (const char* run : {"basic_rnn_2017/train", "basic_rnn_2017/eval", "polyphony_2022/eval"}) {
    std::string dir = CompatEvents(run);
    for (const std::string& path : ListEventFiles(dir)) {
      ++files;
      auto events = ReadEventFile(path, false);
      ExpectFirstRecordIsFileVersion(path, events);
      EXPECT_FALSE(ReadScalarSeries(dir).empty()) << dir;
    }
  }
  EXPECT_EQ(files, 3u);
}

}  // namespace
}  // namespace melody
