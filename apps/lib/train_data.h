// The training job's input pipeline (shared/spec/training.md §2): SequenceExample records
// from a file or glob, held in memory; a deterministic endless order of them; padded
// batches; a background thread that prepares the next batches while the step computes.
//
// Order (where we differ from the reference on purpose): the reference pushes records
// through a 500-slot random shuffle queue fed by reader threads, so its order depends on
// thread timing and is not reproducible. Here the endless stream is a sequence of epochs,
// each a uniform random permutation of all records drawn from Philox keyed by (seed,
// epoch), and training batch s takes stream positions [s·B, (s+1)·B). The batch of a step
// is therefore a function of (seed, global step, batch size) only: a run killed and resumed
// from a checkpoint sees exactly the batches an uninterrupted run would. Eval batches take
// the records in file order from the start (training.md §7.4).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/melody_encoder.h"

namespace melody {

// Files matching a glob pattern (after `~` expansion), sorted; a plain path that exists is
// returned as is. Throws melody::Error naming the pattern when nothing matches.
std::vector<std::string> ExpandSequenceExampleGlob(const std::string& pattern);

// Every record of the matched files, parsed and checked against the config's input width.
class SequenceExampleSet {
 public:
  // Throws melody::Error naming the file, record index and byte offset for a corrupt
  // record, a record that does not parse, one whose input width is not input_size, or a
  // label outside [0, num_classes). Records of zero steps (which no batch can learn from)
  // are skipped and counted.
  static SequenceExampleSet Load(const std::vector<std::string>& files, int input_size,
                                 int num_classes);
  // Only the number of records (for the eval job's count; cheap: no parsing).
  static int64_t CountRecords(const std::vector<std::string>& files);

  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  const EncodedMelody& at(int64_t i) const { return records_.at(static_cast<size_t>(i)); }
  int input_size() const { return input_size_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t empty_records_skipped() const { return empty_skipped_; }

 private:
  int input_size_ = 0;
  int64_t total_steps_ = 0;
  int64_t empty_skipped_ = 0;
  std::vector<EncodedMelody> records_;
};

// The endless shuffled order described above. Not thread-safe (one per consumer).
class EpochOrder {
 public:
  EpochOrder(uint64_t seed, int64_t num_records);
  // Record index at stream position `position` (>= 0).
  int64_t RecordAt(int64_t position);

 private:
  void BuildEpoch(int64_t epoch);
  uint64_t seed_;
  int64_t num_records_;
  int64_t epoch_ = -1;
  std::vector<int64_t> permutation_;
};

// One padded batch on the host (model.md §4): inputs [B, T, I] float32 zero-padded, labels
// [B, T] int64 padded with 0, T = the longest record in the batch.
struct HostBatch {
  Tensor inputs;
  Tensor labels;
  std::vector<int32_t> lengths;
  int64_t index = 0;  // the step (train) or batch number (eval) it was made for
};
HostBatch MakePaddedBatch(const SequenceExampleSet& set, const std::vector<int64_t>& records);

// Records of training batch `step` (positions [step·B, (step+1)·B) of the epoch order).
std::vector<int64_t> TrainingBatchRecords(EpochOrder* order, int64_t step, int batch_size);
// Records of eval batch k: positions [k·B, (k+1)·B) in file order (wrapping around).
std::vector<int64_t> EvalBatchRecords(int64_t num_records, int64_t k, int batch_size);

// Runs make(index) for index = first, first+1, ... on a background thread, keeping up to
// `depth` batches ready. Next() returns them in order; the time it spends waiting is
// accumulated (blocked_seconds) so the log and the benchmark can show whether the step
// ever waits on input. An exception thrown by make() is rethrown by Next().
class BatchPrefetcher {
 public:
  BatchPrefetcher(std::function<HostBatch(int64_t)> make, int64_t first, int depth = 3);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  HostBatch Next();
  double blocked_seconds() const { return blocked_seconds_; }

 private:
  void Run();
  std::function<HostBatch(int64_t)> make_;
  int64_t next_index_;
  size_t depth_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<HostBatch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  double blocked_seconds_ = 0;
  std::thread thread_;
};

}  // namespace melody
