// Data-parallel training across processes (issue 9): `mpirun -np N melody_rnn_train ...`
// with the same flags trains one model with N ranks.
//
// Semantics (the update equals the single-process one for the same global batch):
//   - batch_size stays the global batch B. Every rank walks the same seeded EpochOrder
//     (apps/lib/train_data.h); rank r takes rows [⌊rB/N⌋, ⌊(r+1)B/N⌋) of each global batch.
//   - Dropout masks are keyed by the global row and the global batch's padded length
//     (kernels/dropout.h row_offset, time_stride), so a slice draws the masks one process
//     would draw for those rows.
//   - Each rank's gradient is of its local mean loss; it is scaled by p_local / P_global
//     (valid positions) and summed over ranks; the loss and metrics are those of the summed
//     CrossEntropyCounts. Clipping and Adam then run identically on every rank.
//   - Only rank 0 writes (checkpoints, state file, events, run config, console lines);
//     rank 0 picks the checkpoint to resume and every rank reads that one.
// Without mpirun nothing here is used: the tools behave exactly as a build without MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/lib/train_data.h"
#include "core/context.h"
#include "kernels/softmax_cross_entropy.h"
#include "models/parameters.h"

namespace melody {

// The processes of one job. Every collective must be called by every rank in the same
// order; results are identical on every rank.
class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the processes on this machine (picks the GPU), and how many there are.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  virtual void AllReduceSum(float* data, size_t n) = 0;
  virtual void AllReduceSum(double* data, size_t n) = 0;
  virtual void AllReduceMax(int64_t* data, size_t n) = 0;
  // Rank 0's bytes to every rank.
  virtual void Broadcast(std::string* bytes) = 0;
  virtual void Barrier() = 0;
  // Ends the whole job now (every rank), with `code` as its exit status.
  [[noreturn]] virtual void Abort(int code) = 0;
};

// True when this process was started by an MPI launcher (mpirun / mpiexec / srun with
// PMI): OpenMPI's OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK, or PMI's PMI_SIZE is set.
bool LaunchedByMpi();

// Owns MPI for the life of a tool's main(): initialises it when LaunchedByMpi() (and this
// build has MPI), finalises it on destruction. group() is null when not launched by MPI,
// so the tool runs exactly as without MPI. Launched by MPI in a build without it: throws
// melody::Error saying so (N copies of one job would overwrite each other's files).
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ProcessGroup* group() { return group_.get(); }

 private:
  std::unique_ptr<ProcessGroup> group_;
};

// Rows [first, last) of a global batch of `batch_size` that rank `rank` of `size` takes.
struct RowRange {
  int64_t first = 0, last = 0;
};
RowRange RowsOfRank(int batch_size, int rank, int size);

// One rank's share of training batch `step` (global rows [first_row, first_row + n) of the
// records TrainingBatchRecords gives) and the global batch's padded length.
struct TrainingBatchSlice {
  std::vector<int64_t> records;
  uint64_t first_row = 0;
  int64_t global_length = 0;
};
TrainingBatchSlice SliceOfTrainingBatch(const SequenceExampleSet& set, EpochOrder* order,
                                        int64_t step, int batch_size, int rank, int size);

// CrossEntropyCounts summed over ranks (all fields, label histograms included).
CrossEntropyCounts AllReduceCounts(ProcessGroup& group, const CrossEntropyCounts& local);

// Sums gradients over ranks after scaling this rank's by `factor`, in place, on ctx's
// device: host MPI for the CPU, NCCL for CUDA (apps/lib/distributed_nccl.h).
class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  virtual void SumScaled(Context& ctx, float factor, Parameters* grads) = 0;
  // Seconds spent in SumScaled so far (bench/: the all-reduce share of a step).
  double seconds() const { return seconds_; }

 protected:
  double seconds_ = 0;
};
// The reducer for ctx's device. Throws melody::Error for CUDA in a build without NCCL.
std::unique_ptr<GradientReducer> MakeGradientReducer(ProcessGroup& group, Context& ctx);

// The context of this rank for --device: a GPU per local rank (local_rank modulo the
// GPUs present) when the device is CUDA; otherwise CreateContextForFlag's, where
// --num_threads=0 (all cores) means this rank's share of the cores (cores / local ranks,
// at least 1), so `mpirun -np N` with the flags of a single run does not oversubscribe.
std::unique_ptr<Context> CreateRankContext(const std::string& device, int num_threads,
                                           const ProcessGroup& group);

}  // namespace melody
