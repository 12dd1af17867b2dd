// The parts of apps/lib/distributed.h that need no MPI: launch detection, the row split,
// slices of a training batch, the counts reduction, the host gradient reducer and the
// per-rank device.
#include "apps/lib/distributed.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "apps/lib/device_select.h"
#include "core/device.h"
#include "core/error.h"

namespace melody {

bool LaunchedByMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

RowRange RowsOfRank(int batch_size, int rank, int size) {
  MELODY_REQUIRE(size >= 1 && rank >= 0 && rank < size) << "rank " << rank << " of " << size;
  MELODY_REQUIRE(batch_size >= size)
      << "batch_size " << batch_size << " is smaller than the " << size
      << " ranks: every rank needs at least one row of each global batch";
  const int64_t b = batch_size;
  return {b * rank / size, b * (rank + 1) / size};
}

TrainingBatchSlice SliceOfTrainingBatch(const SequenceExampleSet& set, EpochOrder* order,
                                        int64_t step, int batch_size, int rank, int size) {
  const std::vector<int64_t> global = TrainingBatchRecords(order, step, batch_size);
  const RowRange rows = RowsOfRank(batch_size, rank, size);
  TrainingBatchSlice slice;
  slice.records.assign(global.begin() + rows.first, global.begin() + rows.last);
  slice.first_row = static_cast<uint64_t>(rows.first);
  for (int64_t r : global)
    slice.global_length = std::max<int64_t>(slice.global_length, set.at(r).num_steps());
  return slice;
}

CrossEntropyCounts AllReduceCounts(ProcessGroup& group, const CrossEntropyCounts& local) {
  // One reduction of doubles: every count is an integer far below 2^53, so exact.
  const size_t classes = local.label_count.size();
  std::vector<double> v = {static_cast<double>(local.num_positions),
                           local.loss_sum,
                           static_cast<double>(local.num_correct),
                           static_cast<double>(local.num_event),
                           static_cast<double>(local.num_event_correct),
                           static_cast<double>(local.num_no_event),
                           static_cast<double>(local.num_no_event_correct)};
  constexpr size_t kScalars = 7;
  for (int64_t c : local.label_count) v.push_back(static_cast<double>(c));
  for (int64_t c : local.correct_count) v.push_back(static_cast<double>(c));
  MELODY_REQUIRE(local.correct_count.size() == classes)
      << "cross-entropy counts: " << classes << " label counts but "
      << local.correct_count.size() << " correct counts";
  group.AllReduceSum(v.data(), v.size());
  auto count = [&v](size_t i) { return static_cast<int64_t>(v[i]); };
  CrossEntropyCounts g;
  g.num_positions = count(0);
  g.loss_sum = v[1];
  g.num_correct = count(2);
  g.num_event = count(3);
  g.num_event_correct = count(4);
  g.num_no_event = count(5);
  g.num_no_event_correct = count(6);
  for (size_t c = 0; c < classes; ++c) {
    g.label_count.push_back(count(kScalars + c));
    g.correct_count.push_back(count(kScalars + classes + c));
  }
  return g;
}

namespace {

// CPU gradients: packed into one buffer (one collective per step, not one per tensor),
// scaled on the way in.
class HostGradientReducer : public GradientReducer {
 public:
  explicit HostGradientReducer(ProcessGroup& group) : group_(group) {}
  void SumScaled(Context& ctx, float factor, Parameters* grads) override {
    const auto start = std::chrono::steady_clock::now();
    size_t total = 0;
    for (size_t i = 0; i < grads->size(); ++i) total += static_cast<size_t>(grads->at(i).numel());
    buffer_.resize(total);
    size_t at = 0;
    for (size_t i = 0; i < grads->size(); ++i) {
      const Tensor& g = grads->at(i);
      const float* p = g.data<float>();
      for (int64_t k = 0; k < g.numel(); ++k) buffer_[at++] = p[k] * factor;
    }
    group_.AllReduceSum(buffer_.data(), buffer_.size());
    at = 0;
    for (size_t i = 0; i < grads->size(); ++i) {
      Tensor& g = grads->at(i);
      std::copy(buffer_.begin() + at, buffer_.begin() + at + g.numel(), g.data<float>());
      at += static_cast<size_t>(g.numel());
    }
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  ProcessGroup& group_;
  std::vector<float> buffer_;
};

}  // namespace

std::unique_ptr<GradientReducer> MakeNcclGradientReducer(ProcessGroup& group, Context& ctx);

std::unique_ptr<GradientReducer> MakeGradientReducer(ProcessGroup& group, Context& ctx) {
  if (ctx.is_cpu()) return std::make_unique<HostGradientReducer>(group);
  return MakeNcclGradientReducer(group, ctx);
}

std::unique_ptr<Context> CreateRankContext(const std::string& device, int num_threads,
                                           const ProcessGroup& group) {
  const bool want_cuda = device == "cuda" || ((device.empty() || device == "auto") &&
                                              CudaDeviceCount() > 0);
  if (group.size() > 1 && !want_cuda && num_threads == 0) {
    const int cores = ResolveThreadCount(0, kMaxToolThreads);
    num_threads = std::max(1, cores / std::max(1, group.local_size()));
    LOG(INFO) << "--num_threads=0: " << num_threads << " of the " << cores << " cores for each of "
              << group.local_size() << " ranks on this machine";
  }
  if (group.size() == 1 || !want_cuda) return CreateContextForFlag(device, num_threads);
  MELODY_REQUIRE(CudaDeviceCount() > 0) << "--device=cuda: " << CudaUnavailableReason();
  const int gpu = group.local_rank() % CudaDeviceCount();
  LOG(INFO) << "Device: CUDA GPU " << gpu << " (rank " << group.rank() << ", local rank "
            << group.local_rank() << ")";
  return Context::CreateCuda(gpu);
}

}  // namespace melody
