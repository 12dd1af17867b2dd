#include "core/event_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <glog/logging.h>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/little_endian.h"
#include "core/file_util.h"
#include "core/tfrecord.h"

namespace melody {
namespace {

constexpr char kFileVersion[] = "brain.Event:2";
constexpr char kScalarsPlugin[] = "scalars";

std::string Hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf);
  std::replace(host.begin(), host.end(), '/', '_');
  return host;
}

// Creates a new file with O_EXCL under the first free name of the rule in event_file.h.
int CreateUniqueEventFile(const std::string& logdir, int64_t seconds, std::string* path) {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%010lld", static_cast<long long>(seconds));
  const std::string plain = JoinPath(logdir, std::string("events.out.tfevents.") + stamp + "." +
                                                 Hostname());
  const std::string with_pid = plain + "." + std::to_string(::getpid());
  constexpr int kMaxAttempts = 10000;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    *path = attempt == 0 ? plain
                         : attempt == 1 ? with_pid : with_pid + "." + std::to_string(attempt - 1);
    int fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST)
      MELODY_FAIL() << *path << ": cannot create events file: " << std::strerror(errno);
  }
  MELODY_FAIL() << plain << ": cannot create events file: " << kMaxAttempts
                << " names with this time stamp are taken";
}

// write() until everything is written; false (errno set) on failure.
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

tensorflow::Event EventAt(int64_t step, double wall_time) {
  tensorflow::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  return event;
}

}  // namespace

double EventWallTimeNow() {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return static_cast<double>(micros) / 1e6;
}

EventFileWriter::EventFileWriter(const std::string& logdir)
    : EventFileWriter(logdir, EventFileWriterOptions()) {}

EventFileWriter::EventFileWriter(const std::string& logdir, const EventFileWriterOptions& options)
    : options_(options) {
  MakeDirectories(logdir);
  const int64_t seconds = static_cast<int64_t>(std::time(nullptr));
  fd_ = CreateUniqueEventFile(logdir, seconds, &path_);
  last_flush_ = std::chrono::steady_clock::now();
  tensorflow::Event version = EventAt(0, static_cast<double>(seconds));
  version.set_file_version(kFileVersion);
  std::lock_guard<std::mutex> lock(mutex_);
  pending_ = FrameTFRecord(version.SerializeAsString());
  ++records_;
  try {
    WritePendingLocked();
  } catch (...) {
    // No destructor runs for a throwing constructor: leave no descriptor and no empty file.
    ::close(fd_);
    std::remove(path_.c_str());
    throw;
  }
}

EventFileWriter::~EventFileWriter() {
  try {
    Flush(false);
  } catch (const std::exception& e) {
    LOG(ERROR) << "events lost at close: " << e.what();
  }
  if (fd_ >= 0 && ::close(fd_) != 0)
    LOG(ERROR) << path_ << ": error closing events file: " << std::strerror(errno);
}

uint64_t EventFileWriter::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

void EventFileWriter::WriteScalars(int64_t step,
                                   const std::vector<std::pair<std::string, float>>& values) {
  WriteScalars(step, values, EventWallTimeNow());
}

void EventFileWriter::WriteScalars(int64_t step,
                                   const std::vector<std::pair<std::string, float>>& values,
                                   double wall_time) {
  tensorflow::Event event = EventAt(step, wall_time);
  tensorflow::Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : values) {
    tensorflow::Summary::Value* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(value);
  }
  AppendRecord(event);
}

void EventFileWriter::WriteSessionStart(int64_t step) {
  tensorflow::Event event = EventAt(step, EventWallTimeNow());
  event.mutable_session_log()->set_status(tensorflow::SessionLog::START);
  AppendRecord(event);
}

void EventFileWriter::WriteCheckpointSaved(int64_t step, const std::string& checkpoint_path) {
  tensorflow::Event event = EventAt(step, EventWallTimeNow());
  tensorflow::SessionLog* log = event.mutable_session_log();
  log->set_status(tensorflow::SessionLog::CHECKPOINT);
  log->set_checkpoint_path(checkpoint_path);
  AppendRecord(event);
}

void EventFileWriter::WriteEvent(const tensorflow::Event& event) { AppendRecord(event); }

void EventFileWriter::AppendRecord(const tensorflow::Event& event) {
  std::string framed = FrameTFRecord(event.SerializeAsString());
  std::lock_guard<std::mutex> lock(mutex_);
  MELODY_REQUIRE(!broken_) << path_ << ": events file unusable after an earlier write error";
  pending_ += framed;
  ++records_;
  auto since_flush = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                   last_flush_).count();
  if (since_flush >= options_.flush_secs || pending_.size() > options_.max_buffered_bytes)
    WritePendingLocked();
}

void EventFileWriter::Flush(bool durable) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fd_ < 0) return;
  WritePendingLocked();
  if (!durable) return;
  if (::fsync(fd_) != 0)
    MELODY_FAIL() << path_ << ": cannot sync events file: " << std::strerror(errno);
  if (!directory_synced_) {
    std::string dir = Dirname(path_);
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);  // best effort: some file systems refuse to sync a directory
      ::close(dfd);
    }
    directory_synced_ = true;
  }
}

void EventFileWriter::WritePendingLocked() {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) return;
  MELODY_REQUIRE(!broken_) << path_ << ": events file unusable after an earlier write error";
  if (WriteAll(fd_, pending_.data(), pending_.size())) {
    file_size_ += pending_.size();
    pending_.clear();
    return;
  }
  const int write_errno = errno;
  // Undo the partial write so that the file ends with a whole record; the records stay
  // pending for a retry. The descriptor has no O_APPEND, so also move back its offset.
  if (::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0 ||
      ::lseek(fd_, static_cast<off_t>(file_size_), SEEK_SET) < 0) {
    broken_ = true;
    MELODY_FAIL() << path_ << ": cannot write events: " << std::strerror(write_errno)
                  << "; removing the partial record failed too (" << std::strerror(errno)
                  << "), no further events will be written";
  }
  MELODY_FAIL() << path_ << ": cannot write events: " << std::strerror(write_errno) << " ("
                << pending_.size() << " bytes of events kept for a later flush)";
}

std::vector<tensorflow::Event> ReadEventFile(const std::string& path, bool allow_truncated_tail) {
  // The whole file is read at once: it is a snapshot of a file that may still be growing,
  // and the framing is parsed here rather than by TFRecordReader so that a short tail can be
  // told apart from corruption.
  const std::string bytes = ReadFileToString(path);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  std::vector<tensorflow::Event> events;
  uint64_t offset = 0;
  const uint64_t size = bytes.size();
  for (uint64_t index = 0; offset < size; ++index) {
    auto fail = [&](const std::string& what) {
      MELODY_FAIL() << path << ": " << what << " in record " << index << " at byte offset "
                    << offset;
    };
    auto truncated = [&](const std::string& what) {
      if (!allow_truncated_tail) fail("truncated record (" + what + ")");
    };
    const uint64_t left = size - offset;
    if (left < 12) {
      truncated(std::to_string(left) + " of 12 header bytes");
      break;
    }
    if (MaskCrc(Crc32c(data + offset, 8)) != GetFixed32(data + offset + 8))
      fail("corrupted record (length CRC mismatch)");
    const uint64_t length = GetFixed64(data + offset);
    if (left - 12 < length || left - 12 - length < 4) {
      truncated(std::to_string(std::min(left - 12, length)) + " of " + std::to_string(length) +
                " payload bytes and " +
                std::to_string(left - 12 > length ? left - 12 - length : 0) +
                " of 4 CRC bytes");
      break;
    }
    if (length > static_cast<uint64_t>(INT32_MAX)) fail("record larger than 2 GiB");
    const unsigned char* payload = data + offset + 12;
    if (MaskCrc(Crc32c(payload, length)) != GetFixed32(payload + length))
      fail("corrupted record (data CRC mismatch)");
    tensorflow::Event event;
    if (!event.ParseFromArray(payload, static_cast<int>(length)))
      fail("record is not a tensorflow.Event");
    events.push_back(std::move(event));
    offset += 16 + length;
  }
  return events;
}

std::vector<std::string> ListEventFiles(const std::string& logdir) {
  DIR* dir = ::opendir(logdir.c_str());
  if (!dir) MELODY_FAIL() << logdir << ": cannot list events directory: " << std::strerror(errno);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name.find("tfevents") == std::string::npos) continue;
    struct stat st;
    if (::stat(JoinPath(logdir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode))
      names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (auto& name : names) name = JoinPath(logdir, name);
  return names;
}

namespace {

// The number in a float or double tensor of one element; false for anything else. TF writes
// rank 0; TensorBoard's scalars plugin takes any one-element tensor (numpy .item()), so do we.
bool ScalarFromTensor(const tensorflow::TensorProto& tensor, float* value) {
  if (tensor.tensor_shape().unknown_rank()) return false;
  for (const auto& dim : tensor.tensor_shape().dim())
    if (dim.size() != 1) return false;
  const std::string& content = tensor.tensor_content();
  if (tensor.dtype() == tensorflow::DT_FLOAT) {
    if (content.size() == 4) {
      std::memcpy(value, content.data(), 4);  // little-endian, like every host we build for
      return true;
    }
    if (tensor.float_val_size() >= 1) {
      *value = tensor.float_val(0);
      return true;
    }
  } else if (tensor.dtype() == tensorflow::DT_DOUBLE) {
    double d;
    if (content.size() == 8) {
      std::memcpy(&d, content.data(), 8);
    } else if (tensor.double_val_size() >= 1) {
      d = tensor.double_val(0);
    } else {
      return false;
    }
    *value = static_cast<float>(d);
    return true;
  }
  return false;
}

void PurgeFromStep(int64_t step, ScalarSeries* series) {
  for (auto& [tag, points] : *series)
    points.erase(std::remove_if(points.begin(), points.end(),
                                [step](const auto& p) { return p.first >= step; }),
                 points.end());
}

}  // namespace

ScalarSeries ReadScalarSeries(const std::string& logdir, bool purge_on_session_start) {
  ScalarSeries series;
  std::map<std::string, std::string> plugin_of_tag;  // from the first metadata seen
  for (const std::string& path : ListEventFiles(logdir)) {
    for (const tensorflow::Event& event : ReadEventFile(path, /*allow_truncated_tail=*/true)) {
      if (purge_on_session_start && event.has_session_log() &&
          event.session_log().status() == tensorflow::SessionLog::START) {
        PurgeFromStep(event.step(), &series);
        continue;
      }
      if (!event.has_summary()) continue;
      for (const tensorflow::Summary::Value& v : event.summary().value()) {
        if (v.has_metadata() && v.metadata().has_plugin_data())
          plugin_of_tag.emplace(v.tag(), v.metadata().plugin_data().plugin_name());
        float value;
        if (v.value_case() == tensorflow::Summary::Value::kSimpleValue) {
          value = v.simple_value();
        } else if (v.value_case() == tensorflow::Summary::Value::kTensor) {
          auto plugin = plugin_of_tag.find(v.tag());
          if (plugin == plugin_of_tag.end() || plugin->second != kScalarsPlugin) continue;
          if (!ScalarFromTensor(v.tensor(), &value)) continue;
        } else {
          continue;
        }
        series[v.tag()].emplace_back(event.step(), value);
      }
    }
  }
  return series;
}

}  // namespace melody
