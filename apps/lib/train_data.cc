#include "apps/lib/train_data.h"

#include <glob.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/file_util.h"
#include "core/philox.h"
#include "core/tfrecord.h"
#include "data/sequence_example_io.h"

namespace melody {

namespace {

// Philox key of the data order, distinct from the dropout streams keyed by the seed itself.
constexpr uint64_t kOrderKeySalt = 0x6f72646572ull;  // "order"

std::string RecordWhere(const TFRecordReader& reader) {
  return reader.path() + ": record " + std::to_string(reader.record_index()) +
         " (byte offset " + std::to_string(reader.record_offset()) + ")";
}

}  // namespace

std::vector<std::string> ExpandSequenceExampleGlob(const std::string& pattern) {
  const std::string expanded = ExpandUser(pattern);
  MELODY_REQUIRE(!expanded.empty()) << "--sequence_example_file required";
  glob_t g{};
  const int rc = glob(expanded.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> files;
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (!IsDirectory(g.gl_pathv[i])) files.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  MELODY_REQUIRE(!files.empty()) << "--sequence_example_file " << pattern
                                 << ": no file matches";
  std::sort(files.begin(), files.end());
  return files;
}

SequenceExampleSet SequenceExampleSet::Load(const std::vector<std::string>& files,
                                            int input_size, int num_classes) {
  SequenceExampleSet set;
  set.input_size_ = input_size;
  std::string record;
  for (const std::string& path : files) {
    TFRecordReader reader(path);
    while (reader.Next(&record)) {
      EncodedMelody m = ParseSequenceExample(record, input_size, RecordWhere(reader));
      if (m.num_steps() == 0) {
        ++set.empty_skipped_;
        continue;
      }
      for (size_t t = 0; t < m.labels.size(); ++t)
        MELODY_REQUIRE(m.labels[t] >= 0 && m.labels[t] < num_classes)
            << RecordWhere(reader) << ": step " << t << " has label " << m.labels[t]
            << ", outside the configuration's " << num_classes << " classes";
      set.total_steps_ += static_cast<int64_t>(m.num_steps());
      set.records_.push_back(std::move(m));
    }
  }
  return set;
}

int64_t SequenceExampleSet::CountRecords(const std::vector<std::string>& files) {
  int64_t n = 0;
  std::string record;
  for (const std::string& path : files) {
    TFRecordReader reader(path);
    while (reader.Next(&record)) ++n;
  }
  return n;
}

EpochOrder::EpochOrder(uint64_t seed, int64_t num_records)
    : seed_(seed ^ kOrderKeySalt), num_records_(num_records) {
  MELODY_REQUIRE(num_records > 0) << "no training records";
}

void EpochOrder::BuildEpoch(int64_t epoch) {
  permutation_.resize(static_cast<size_t>(num_records_));
  for (int64_t i = 0; i < num_records_; ++i) permutation_[i] = i;
  // Fisher-Yates; draw i takes 32 random bits from Philox counter (i, epoch) and maps them
  // onto [0, i] by a multiply-shift (bias < i / 2^32, irrelevant here).
  for (int64_t i = num_records_ - 1; i > 0; --i) {
    Philox4x32 ctr{{static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32),
                    static_cast<uint32_t>(epoch), static_cast<uint32_t>(epoch >> 32)}};
    const uint32_t bits = Philox4x32_10(ctr, static_cast<uint32_t>(seed_),
                                        static_cast<uint32_t>(seed_ >> 32)).v[0];
    const int64_t j = static_cast<int64_t>((static_cast<uint64_t>(bits) * (i + 1)) >> 32);
    std::swap(permutation_[i], permutation_[j]);
  }
  epoch_ = epoch;
}

int64_t EpochOrder::RecordAt(int64_t position) {
  const int64_t epoch = position / num_records_;
  if (epoch != epoch_) BuildEpoch(epoch);
  return permutation_[static_cast<size_t>(position % num_records_)];
}

std::vector<int64_t> TrainingBatchRecords(EpochOrder* order, int64_t step, int batch_size) {
  std::vector<int64_t> records(static_cast<size_t>(batch_size));
  for (int j = 0; j < batch_size; ++j) records[j] = order->RecordAt(step * batch_size + j);
  return records;
}

std::vector<int64_t> EvalBatchRecords(int64_t num_records, int64_t k, int batch_size) {
  std::vector<int64_t> records(static_cast<size_t>(batch_size));
  for (int j = 0; j < batch_size; ++j) records[j] = (k * batch_size + j) % num_records;
  return records;
}

HostBatch MakePaddedBatch(const SequenceExampleSet& set, const std::vector<int64_t>& records) {
  const int64_t B = static_cast<int64_t>(records.size()), I = set.input_size();
  int64_t T = 0;
  for (int64_t r : records) T = std::max<int64_t>(T, set.at(r).num_steps());
  HostBatch batch;
  batch.inputs = Tensor::Zeros({B, T, I}, DType::kFloat32);
  batch.labels = Tensor::Zeros({B, T}, DType::kInt64);
  batch.lengths.resize(static_cast<size_t>(B));
  float* inputs = batch.inputs.data<float>();
  int64_t* labels = batch.labels.data<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const EncodedMelody& m = set.at(records[b]);
    const int64_t len = static_cast<int64_t>(m.num_steps());
    std::copy(m.inputs.begin(), m.inputs.end(), inputs + b * T * I);
    std::copy(m.labels.begin(), m.labels.end(), labels + b * T);
    batch.lengths[b] = static_cast<int32_t>(len);
  }
  return batch;
}

BatchPrefetcher::BatchPrefetcher(std::function<HostBatch(int64_t)> make, int64_t first,
                                 int depth)
    : make_(std::move(make)), next_index_(first), depth_(static_cast<size_t>(std::max(1, depth))) {
  thread_ = std::thread([this] { Run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchPrefetcher::Run() {
  try {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [this] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
      }
      HostBatch batch = make_(next_index_);
      batch.index = next_index_++;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(batch));
      }
      ready_.notify_one();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    ready_.notify_all();
  }
}

HostBatch BatchPrefetcher::Next() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [this] { return !queue_.empty() || error_ != nullptr; });
  blocked_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (queue_.empty()) std::rethrow_exception(error_);
  HostBatch batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  space_.notify_one();
  return batch;
}

}  // namespace melody
