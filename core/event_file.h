// TensorBoard event files (shared/spec/formats.md §9; training.md §4.2, §7.4, §8): writing
// the scalar summaries and session events of the train and eval jobs, and reading any events
// file back (ours or the reference's), with TFRecord framing (formats.md §3).
//
// Writer decisions (the spec leaves them to us):
// * File name: events.out.tfevents.<%010d unix seconds>.<hostname>. The file is created with
//   O_EXCL; when that name exists already (a restarted job, a second eval job in the same
//   second), ".<pid>" is appended, and then ".<pid>.<n>" (n = 1, 2, ...) until a new name is
//   free, so two writers never share a file and name order stays creation order within one
//   second. '/' in the hostname becomes '_'; an unknown hostname is "localhost".
// * Buffering: whole framed records are kept in memory and reach the file only as whole
//   records, in one write() loop per flush. A flush happens when a write finds that
//   `flush_secs` (120 s, like TF) have passed since the previous flush, when more than
//   `max_buffered_bytes` are pending, on Flush(), and on destruction. The file_version
//   record is written at once, so a new file is valid (and visible to TensorBoard) from the
//   start.
// * Write errors (disk full, file size limit, I/O error) throw melody::Error naming the file.
//   The file is first truncated back to its last whole record and the unwritten records stay
//   buffered, so a later Flush() can retry and a reader never sees a torn record except,
//   while a write is in progress or after a crash, the last one. If even the truncation
//   fails, the writer refuses every later write (a torn record would otherwise end up in
//   the middle of the file).
// * Thread safety: all methods may be called from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "event.pb.h"

namespace melody {

struct EventFileWriterOptions {
  // Pending records are written out by the first write after this many seconds since the
  // previous flush (TF's flush_secs). 0 writes every record at once.
  double flush_secs = 120.0;
  // Pending records are written out when they exceed this many bytes.
  size_t max_buffered_bytes = 1 << 20;
};

// One TensorBoard events file in `logdir` (created if missing). The first record is
// file_version "brain.Event:2" at the whole-second wall time that is also in the file name.
class EventFileWriter {
 public:
  explicit EventFileWriter(const std::string& logdir);
  EventFileWriter(const std::string& logdir, const EventFileWriterOptions& options);
  ~EventFileWriter();  // flushes; never throws (a failure is logged)
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // One Event with one Summary holding the values in the given order (simple_value form),
  // at the current wall time or at `wall_time` (seconds since the epoch).
  void WriteScalars(int64_t step, const std::vector<std::pair<std::string, float>>& values);
  void WriteScalars(int64_t step, const std::vector<std::pair<std::string, float>>& values,
                    double wall_time);
  // SessionLog START (at a (re)start; TensorBoard then drops older points with step >= `step`)
  // and CHECKPOINT (with the checkpoint path, e.g. "<train_dir>/model.ckpt") events.
  void WriteSessionStart(int64_t step);
  void WriteCheckpointSaved(int64_t step, const std::string& checkpoint_path);
  // Any other Event, serialized as given.
  void WriteEvent(const tensorflow::Event& event);

  // Writes the buffered records to the file; with `durable`, also fsyncs the file (and, the
  // first time, its directory, so that the new file's name survives a crash).
  void Flush(bool durable = false);

  const std::string& path() const { return path_; }
  // Records written to the file or pending, including the file_version record.
  uint64_t records() const;

 private:
  void AppendRecord(const tensorflow::Event& event);
  void WritePendingLocked();

  std::string path_;
  EventFileWriterOptions options_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::string pending_;           // whole framed records not yet in the file
  uint64_t file_size_ = 0;        // bytes of whole records in the file
  uint64_t records_ = 0;
  bool broken_ = false;           // a failed write could not be undone
  bool directory_synced_ = false;
  std::chrono::steady_clock::time_point last_flush_;
};

// Wall time now, seconds since the epoch with microsecond resolution (what TF writes).
double EventWallTimeNow();

// Every Event of one events file. Bad framing (CRC mismatch) or a record that is not an
// Event throws melody::Error naming the file, the record index and its byte offset. A
// truncated LAST record (writer killed mid-write, or still writing) is dropped when
// allow_truncated_tail, otherwise it is an error as well.
std::vector<tensorflow::Event> ReadEventFile(const std::string& path,
                                             bool allow_truncated_tail = true);

// The events files of `logdir`: regular files whose name contains "tfevents" (TensorBoard's
// rule), full paths in byte-wise name order.
std::vector<std::string> ListEventFiles(const std::string& logdir);

// One scalar point.
using ScalarSeries = std::map<std::string, std::vector<std::pair<int64_t, float>>>;

// Scalars of every events file in `logdir` (name order; truncated tails tolerated), in both
// forms of formats.md §9: simple_value, and one-element (rank 0 as TF writes, or all
// dimensions 1 as TensorBoard also accepts) float/double tensors of tags whose metadata (on
// that value or an earlier one of the same tag) names the "scalars" plugin.
// Result: tag -> [(step, value)] in file order. With `purge_on_session_start`, a SessionLog
// START at step s drops the points read so far with step >= s, as TensorBoard does
// (purge_orphaned_data), so the series is what TensorBoard plots.
ScalarSeries ReadScalarSeries(const std::string& logdir, bool purge_on_session_start = false);

}  // namespace melody
