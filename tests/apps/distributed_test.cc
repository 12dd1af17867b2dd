// Data-parallel training (apps/lib/distributed.h, issue 9): the row split, dropout masks of
// a slice equal to the whole batch's rows, and melody_rnn_train under mpirun: 2 ranks give
// the losses and weights of 1 process (basic_rnn and attention_rnn, dropout on), 1 rank
// under mpirun equals no mpirun bit for bit, an error on the ranks ends the job naming the
// rank, and killing a rank stops the job with a message naming it, leaves the newest
// checkpoint readable, and a restart resumes.
// The mpirun tests skip, saying why, in a build without MPI.
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/lib/distributed.h"
#include "core/context.h"
#include "core/event_file.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "kernels/dropout.h"
#include "tests/apps/train_test_util.h"
#include "tests/test_util.h"

extern char** environ;

namespace melody {
namespace {

using Clock = std::chrono::steady_clock;

TEST(DistributedRowsTest, SplitsTheGlobalBatchIntoContiguousDisjointRanges) {
  // Hand-computed: B = 5 over 2 ranks -> [0, 2), [2, 5); B = 8 over 3 -> [0,2) [2,5) [5,8).
  EXPECT_EQ(RowsOfRank(5, 0, 2).first, 0);
  EXPECT_EQ(RowsOfRank(5, 0, 2).last, 2);
  EXPECT_EQ(RowsOfRank(5, 1, 2).first, 2);
  EXPECT_EQ(RowsOfRank(5, 1, 2).last, 5);
  EXPECT_EQ(RowsOfRank(8, 1, 3).first, 2);
  EXPECT_EQ(RowsOfRank(8, 1, 3).last, 5);
  EXPECT_EQ(RowsOfRank(8, 2, 3).last, 8);
  EXPECT_EQ(RowsOfRank(7, 0, 1).last, 7);
  EXPECT_THROW(RowsOfRank(1, 0, 2), Error);  // a rank would get no row
  EXPECT_THROW(RowsOfRank(4, 2, 2), Error);
}

TEST(DistributedRowsTest, SlicesTakeTheGlobalBatchRecordsAndItsPaddedLength) {
  const std::string dir = testing::MakeTempDir("distributed_slice");
  const std::string data = JoinPath(dir, "train.tfrecord");
  testing::WriteTinyTrainingSet(data, "basic_rnn", 11, 20, 5);
  const SequenceExampleSet set = SequenceExampleSet::Load({data}, 38, 38);
  for (int64_t step : {0, 1, 2, 7}) {
    EpochOrder whole(9, set.size()), a(9, set.size()), b(9, set.size());
    const std::vector<int64_t> global = TrainingBatchRecords(&whole, step, 5);
    const TrainingBatchSlice s0 = SliceOfTrainingBatch(set, &a, step, 5, 0, 2);
    const TrainingBatchSlice s1 = SliceOfTrainingBatch(set, &b, step, 5, 1, 2);
    std::vector<int64_t> joined = s0.records;
    joined.insert(joined.end(), s1.records.begin(), s1.records.end());
    EXPECT_EQ(joined, global) << "step " << step;
    EXPECT_EQ(s0.first_row, 0u);
    EXPECT_EQ(s1.first_row, 2u);
    int64_t longest = 0;
    for (int64_t r : global) longest = std::max<int64_t>(longest, set.at(r).num_steps());
    EXPECT_EQ(s0.global_length, longest);
    EXPECT_EQ(s1.global_length, longest);
  }
}

// The masks of rows [r0, r1) drawn for a slice padded to its own shorter T, keyed by
// (row_offset = r0, time_stride = global T), equal those rows of the whole batch's mask.
TEST(DistributedDropoutTest, SliceMasksEqualTheWholeBatchRows) {
  auto ctx = Context::CreateCpu(1);
  const int64_t batch = 5, time = 9, units = 12, r0 = 2, local_time = 6;
  DropoutConfig whole_config;
  whole_config.keep_prob = 0.5;
  whole_config.seed = 77;
  whole_config.step = 3;
  whole_config.layer = 1;
  Tensor whole({batch, time, units}, DType::kFloat32);
  DropoutKeepMask(*ctx, whole_config, &whole);
  DropoutConfig slice_config = whole_config;
  slice_config.row_offset = r0;
  slice_config.time_stride = time;
  Tensor slice({batch - r0, local_time, units}, DType::kFloat32);
  DropoutKeepMask(*ctx, slice_config, &slice);
  // The same through the forward (fast path) and the reference loop.
  Tensor ones({batch - r0, local_time, units}, DType::kFloat32);
  std::fill(ones.data<float>(), ones.data<float>() + ones.numel(), 1.0f);
  Tensor fast({batch - r0, local_time, units}, DType::kFloat32);
  Tensor ref({batch - r0, local_time, units}, DType::kFloat32);
  DropoutForward(*ctx, ones, slice_config, &fast);
  reference::DropoutForward<float>(ones, slice_config, &ref);
  int64_t kept = 0;
  for (int64_t b = 0; b < batch - r0; ++b)
    for (int64_t t = 0; t < local_time; ++t)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t i = (b * local_time + t) * units + u;
        const float expect = whole.data<float>()[((r0 + b) * time + t) * units + u];
        ASSERT_EQ(slice.data<float>()[i], expect) << b << "," << t << "," << u;
        ASSERT_EQ(fast.data<float>()[i], expect * 2.0f);
        ASSERT_EQ(ref.data<float>()[i], expect * 2.0f);
        kept += expect != 0;
      }
  // Not a degenerate mask (keep 0.5 of 216 elements).
  EXPECT_GT(kept, 60);
  EXPECT_LT(kept, 156);
  // A stride shorter than the tensor's steps would overlap rows: refused.
  slice_config.time_stride = local_time - 1;
  EXPECT_THROW(DropoutKeepMask(*ctx, slice_config, &slice), Error);
}

// ---- melody_rnn_train under mpirun -------------------------------------------------------

class MpiTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mpirun_ = MELODY_MPIEXEC;
    if (mpirun_.empty()) GTEST_SKIP() << "this build has no MPI (configure found none)";
    train_ = std::string(MELODY_BINARY_DIR) + "/apps/melody_rnn_train";
    if (!PathExists(train_)) GTEST_SKIP() << "binary not built: " << train_;
    dir_ = testing::MakeTempDir("distributed_train");
    // Containers often forbid the cross-process memory copy OpenMPI's shared-memory
    // transport tries first; plain copies work everywhere (unless the caller chose).
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
  }
  std::vector<std::string> Flags(const std::string& config, const std::string& hparams,
                                 const std::string& data, const std::string& run,
                                 int64_t steps) const {
    return {"--config=" + config,
            "--hparams=" + hparams,
            "--run_dir=" + JoinPath(dir_, run),
            "--sequence_example_file=" + data,
            "--num_training_steps=" + std::to_string(steps),
            "--summary_frequency=1",
            "--save_checkpoint_secs=1000",
            "--device=cpu",
            "--num_threads=1",
            "--seed=11"};
  }
  // mpirun -np N (as root where needed; more ranks than cores allowed), then the tool.
  std::vector<std::string> Mpi(int ranks, std::vector<std::string> args) const {
    std::vector<std::string> argv = {mpirun_, "--oversubscribe", "-np", std::to_string(ranks)};
    if (geteuid() == 0) argv.push_back("--allow-run-as-root");
    argv.push_back(train_);
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::vector<std::string> Plain(std::vector<std::string> args) const {
    args.insert(args.begin(), train_);
    return args;
  }
  pid_t Spawn(const std::vector<std::string>& args, const std::string& log) const {
    std::vector<std::string> argv_s = args;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }
  static int Wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int Run(const std::vector<std::string>& args, std::string* log_text = nullptr) {
    const std::string log = JoinPath(dir_, "log" + std::to_string(runs_++) + ".txt");
    const int rc = Wait(Spawn(args, log));
    if (log_text) *log_text = ReadFileToString(log);
    return rc;
  }
  std::string TrainDir(const std::string& run) const {
    return JoinPath(JoinPath(dir_, run), "train");
  }

  std::string mpirun_, train_, dir_;
  int runs_ = 0;
};

// Largest |a - b| / max(|b|, floor) over a series of values (floor keeps values at 0 from
// dividing by nothing; it is 1e-3 of the largest |b|).
double MaxRelativeDifference(const std::vector<double>& a, const std::vector<double>& b) {
  double largest = 0;
  for (double v : b) largest = std::max(largest, std::fabs(v));
  const double floor = std::max(1e-30, 1e-3 * largest);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(std::fabs(b[i]), floor));
  return worst;
}

// ||a - b|| / ||b|| (Euclidean), 0 when both are 0.
double RelativeNormDifference(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// loss: the largest per-step relative difference; all_weights: ||Δ|| / ||w|| over every
// weight together; weights: the largest per tensor; weights_elementwise: the largest per
// element. The two split sums (GEMMs over 2 + 3 rows, then one addition) round differently
// from one sum over 5 rows; Adam divides by sqrt(v), so a gradient element that is mostly
// cancellation (attention/bias) keeps its last-bit relative differences at full size in its
// update: the per-tensor and per-element figures are therefore held to looser bounds.
struct Comparison {
  double loss = 0, all_weights = 0, weights = 0, weights_elementwise = 0;
};

Comparison CompareRuns(const std::string& one_dir, const std::string& two_dir) {
  Comparison c;
  const auto one_loss = ReadScalarSeries(one_dir).at("loss");
  const auto two_loss = ReadScalarSeries(two_dir).at("loss");
  EXPECT_EQ(one_loss.size(), two_loss.size());
  std::vector<double> a, b;
  for (size_t i = 0; i < std::min(one_loss.size(), two_loss.size()); ++i) {
    EXPECT_EQ(one_loss[i].first, two_loss[i].first);
    a.push_back(two_loss[i].second);
    b.push_back(one_loss[i].second);
  }
  c.loss = MaxRelativeDifference(a, b);
  const TensorMap one = ReadCheckpointV2(LatestCheckpoint(one_dir));
  const TensorMap two = ReadCheckpointV2(LatestCheckpoint(two_dir));
  EXPECT_EQ(one.size(), two.size());
  std::vector<double> all_one, all_two;
  for (const auto& [name, t] : one) {
    if (t.dtype() != DType::kFloat32) continue;
    const Tensor& u = two.at(name);
    std::vector<double> x(u.data<float>(), u.data<float>() + u.numel());
    std::vector<double> y(t.data<float>(), t.data<float>() + t.numel());
    // Weights only (Adam slots follow them); a per-tensor comparison.
    if (name.find("Adam") != std::string::npos) continue;
    c.weights = std::max(c.weights, RelativeNormDifference(x, y));
    all_two.insert(all_two.end(), x.begin(), x.end());
    all_one.insert(all_one.end(), y.begin(), y.end());
    c.weights_elementwise = std::max(c.weights_elementwise, MaxRelativeDifference(x, y));
  }
  c.all_weights = RelativeNormDifference(all_two, all_one);
  return c;
}

TEST_F(MpiTrainTest, TwoRanksGiveTheSingleProcessLossesAndWeights) {
  struct Case {
    std::string config, hparams;
  };
  // Uneven split (5 rows: 2 + 3), records of 8..28 steps (slices padded shorter than the
  // global batch), dropout on, clipping on.
  const std::vector<Case> cases = {
      {"basic_rnn", "batch_size=5,rnn_layer_sizes=[16],dropout_keep_prob=0.5,clip_norm=1"},
      {"attention_rnn",
       "batch_size=5,rnn_layer_sizes=[12,12],attn_length=4,dropout_keep_prob=0.5,clip_norm=1"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    const std::string data = JoinPath(dir_, c.config + ".tfrecord");
    testing::WriteTinyTrainingSet(data, c.config, 23, 20, 7);
    const auto start = Clock::now();
    std::string log;
    ASSERT_EQ(Run(Plain(Flags(c.config, c.hparams, data, c.config + "_one", 20)), &log), 0) << log;
    ASSERT_EQ(Run(Mpi(2, Flags(c.config, c.hparams, data, c.config + "_two", 20)), &log), 0) << log;
    const Comparison diff = CompareRuns(TrainDir(c.config + "_one"), TrainDir(c.config + "_two"));
    std::cout << "[ figures  ] " << c.config << ": 2 ranks vs 1 process after 20 steps: "
              << "max relative difference of losses " << diff.loss << "; weights "
              << diff.all_weights << " all together (||dw||/||w||), " << diff.weights
              << " worst tensor, " << diff.weights_elementwise << " worst element ("
              << std::chrono::duration<double>(Clock::now() - start).count() << " s)\n";
    EXPECT_LE(diff.loss, 1e-6);
    EXPECT_LE(diff.all_weights, 1e-6);
    EXPECT_LE(diff.weights, 1e-5);
    EXPECT_LE(diff.weights_elementwise, 1e-3);
    // Only rank 0 wrote: one events file; and it logged the run as 2 ranks.
    EXPECT_EQ(ListEventFiles(TrainDir(c.config + "_two")).size(), 1u);
    EXPECT_NE(log.find("2 ranks; summing gradients"), std::string::npos) << log;
  }
}

TEST_F(MpiTrainTest, OneRankUnderMpirunEqualsNoMpirunBitForBit) {
  const std::string data = JoinPath(dir_, "basic.tfrecord");
  testing::WriteTinyTrainingSet(data, "basic_rnn", 12, 12, 3);
  const std::string hp = "batch_size=4,rnn_layer_sizes=[8],dropout_keep_prob=0.5";
  std::string log;
  ASSERT_EQ(Run(Plain(Flags("basic_rnn", hp, data, "plain", 6)), &log), 0) << log;
  ASSERT_EQ(Run(Mpi(1, Flags("basic_rnn", hp, data, "mpi1", 6)), &log), 0) << log;
  std::string why;
  EXPECT_TRUE(testing::SameTensors(ReadCheckpointV2(LatestCheckpoint(TrainDir("plain"))),
                                   ReadCheckpointV2(LatestCheckpoint(TrainDir("mpi1"))), &why))
      << why;
}

TEST_F(MpiTrainTest, ErrorsOnEveryRankEndTheJobNamingTheRank) {
  const std::string data = JoinPath(dir_, "basic.tfrecord");
  testing::WriteTinyTrainingSet(data, "basic_rnn", 6, 4, 3);
  // A global batch smaller than the ranks: every rank refuses before any work.
  std::string log;
  EXPECT_NE(Run(Mpi(2, Flags("basic_rnn", "batch_size=1,rnn_layer_sizes=[8]", data, "small", 2)),
                &log), 0);
  EXPECT_NE(log.find("batch_size 1 is smaller than the 2 ranks"), std::string::npos) << log;
  EXPECT_NE(log.find("rank 1 of 2"), std::string::npos) << log;
  // The eval job is a one-process job.
  std::vector<std::string> eval = Flags("basic_rnn", "rnn_layer_sizes=[8]", data, "small", 2);
  eval.push_back("--eval");
  EXPECT_NE(Run(Mpi(2, eval), &log), 0);
  EXPECT_NE(log.find("the eval job runs in one process"), std::string::npos) << log;
}

pid_t ParentOf(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  char state;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

bool DescendsFrom(pid_t pid, pid_t ancestor) {
  for (int depth = 0; pid > 1 && depth < 16; ++depth) {
    pid = ParentOf(pid);
    if (pid == ancestor) return true;
  }
  return false;
}

// The process of rank `rank` under a running mpirun: a descendant of it (a child with
// OpenMPI 4, a grandchild through a daemon with later versions) whose environment has
// OMPI_COMM_WORLD_RANK=rank.
pid_t FindRank(pid_t mpirun, int rank) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0 || !DescendsFrom(pid, mpirun)) continue;
    std::ifstream env("/proc/" + std::string(e->d_name) + "/environ");
    std::string var;
    while (std::getline(env, var, '\0'))
      if (var == "OMPI_COMM_WORLD_RANK=" + std::to_string(rank)) found = pid;
  }
  closedir(proc);
  return found;
}

TEST_F(MpiTrainTest, KillingARankStopsTheJobNamingItAndARestartResumes) {
  const std::string data = JoinPath(dir_, "basic.tfrecord");
  testing::WriteTinyTrainingSet(data, "basic_rnn", 12, 12, 3);
  const std::string hp = "batch_size=4,rnn_layer_sizes=[8],dropout_keep_prob=0.5";
  for (int victim : {1, 0}) {
    SCOPED_TRACE("killed rank " + std::to_string(victim));
    const std::string run = "killed" + std::to_string(victim);
    std::vector<std::string> flags = Flags("basic_rnn", hp, data, run, 1000000);
    flags.push_back("--save_checkpoint_secs=0");  // a checkpoint after every step
    flags.push_back("--num_checkpoints=3");
    const std::string log = JoinPath(dir_, run + ".log");
    const pid_t mpirun = Spawn(Mpi(2, flags), log);
    // Wait until training is under way (a few checkpoints written).
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline &&
           (LatestCheckpoint(TrainDir(run)).empty() ||
            ReadFileToString(log).find("Saving checkpoints for 5 ") == std::string::npos))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const pid_t rank = FindRank(mpirun, victim);
    ASSERT_GT(rank, 0) << "rank " << victim << " of mpirun " << mpirun << " not found";
    ASSERT_EQ(kill(rank, SIGKILL), 0);
    const auto killed_at = Clock::now();
    const int rc = Wait(mpirun);
    const double stop_seconds = std::chrono::duration<double>(Clock::now() - killed_at).count();
    const std::string text = ReadFileToString(log);
    std::cout << "[ figures  ] rank " << victim << " killed: mpirun exited " << rc << " after "
              << stop_seconds << " s\n";
    EXPECT_NE(rc, 0);
    EXPECT_LT(stop_seconds, 15.0);
    // mpirun's errmgr: "mpirun noticed that process rank N with PID ... exited on signal 9".
    EXPECT_NE(text.find("process rank " + std::to_string(victim)), std::string::npos) << text;
    // The newest checkpoint reads whole.
    const std::string newest = LatestCheckpoint(TrainDir(run));
    ASSERT_FALSE(newest.empty());
    EXPECT_NO_THROW(ReadCheckpointV2(newest)) << newest;
    // A restart with the same flags (fewer steps) resumes from it.
    flags[4] = "--num_training_steps=3";
    std::string restart_log;
    ASSERT_EQ(Run(Mpi(2, flags), &restart_log), 0) << restart_log;
    EXPECT_NE(restart_log.find("Restoring parameters from"), std::string::npos) << restart_log;
  }
}

}  // namespace
}  // namespace melody
