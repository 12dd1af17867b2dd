// melody_rnn_train / melody_rnn_eval as processes: flag errors, SIGKILL at random points
// then a restart with the same flags (the result equals an uninterrupted run bit for bit),
// SIGTERM (final checkpoint, exit 143), a full disk (clear error, previous checkpoint
// intact), and the eval binary beside a finished run.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "core/event_file.h"
#include "core/file_util.h"
#include "core/tf_checkpoint.h"
#include "tests/test_util.h"
#include "tests/apps/train_test_util.h"

extern char** environ;

namespace melody {
namespace {

using Clock = std::chrono::steady_clock;

class TrainToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    train_ = std::string(MELODY_BINARY_DIR) + "/apps/melody_rnn_train";
    eval_ = std::string(MELODY_BINARY_DIR) + "/apps/melody_rnn_eval";
    if (!PathExists(train_)) GTEST_SKIP() << "binary not built: " << train_;
    dir_ = testing::MakeTempDir("train_tool");
    data_ = JoinPath(dir_, "train.tfrecord");
    testing::WriteTinyTrainingSet(data_, "basic_rnn", 24, 20, 3);
  }
  std::vector<std::string> Flags(const std::string& run, int64_t steps) const {
    return {"--config=basic_rnn",
            "--hparams=batch_size=4,rnn_layer_sizes=[8],dropout_keep_prob=0.5",
            "--run_dir=" + JoinPath(dir_, run),
            "--sequence_example_file=" + data_,
            "--num_training_steps=" + std::to_string(steps),
            "--summary_frequency=1",
            "--save_checkpoint_secs=0",
            "--num_checkpoints=0",
            "--device=cpu",
            "--num_threads=1",
            "--seed=4"};
  }
  pid_t Spawn(const std::string& binary, const std::vector<std::string>& args,
              const std::string& log) const {
    std::vector<std::string> argv_s = {binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }
  // Runs to completion; returns the exit status (or 128 + signal).
  int Run(const std::string& binary, const std::vector<std::string>& args,
          std::string* err = nullptr) const {
    const std::string log = JoinPath(dir_, "log.txt");
    WriteFileAtomically(log, "");
    const pid_t pid = Spawn(binary, args, log);
    int status = 0;
    waitpid(pid, &status, 0);
    if (err) *err = ReadFileToString(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string TrainDir(const std::string& run) const { return JoinPath(JoinPath(dir_, run), "train"); }
  std::string train_, eval_, dir_, data_;
};

TEST_F(TrainToolTest, FlagErrorsExitNonZeroWithTheMessage) {
  std::string err;
  EXPECT_EQ(Run(train_, {"--config=basic_rnn", "--run_dir=" + dir_ + "/x"}, &err), 1);
  EXPECT_NE(err.find("--sequence_example_file required"), std::string::npos) << err;
  EXPECT_EQ(Run(train_, {"--config=basic_rnn", "--run_dir=", "--sequence_example_file=" + data_}, &err), 1);
  EXPECT_NE(err.find("--run_dir required"), std::string::npos) << err;
  auto flags = Flags("x", 1);
  flags.push_back("--summary_frequency=0");
  EXPECT_EQ(Run(train_, flags, &err), 1);
  EXPECT_NE(err.find("invalid every_n_iter=0."), std::string::npos) << err;
  flags = Flags("x", 1);
  flags.push_back("--num_checkpoints=-2");
  EXPECT_EQ(Run(train_, flags, &err), 1);
  EXPECT_NE(err.find("--num_checkpoints must be >= 0"), std::string::npos) << err;
  flags = Flags("x", 1);
  flags.push_back("--device=tpu");
  EXPECT_EQ(Run(train_, flags, &err), 1);
  EXPECT_NE(err.find("--device must be cpu, cuda or auto"), std::string::npos) << err;
}

TEST_F(TrainToolTest, KilledRunsResumeToTheUninterruptedResult) {
  constexpr int64_t kSteps = 30;
  const auto t0 = Clock::now();
  std::string err;
  ASSERT_EQ(Run(train_, Flags("straight", kSteps), &err), 0) << err;
  const double straight_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const auto straight_losses = ReadScalarSeries(TrainDir("straight")).at("loss");
  std::map<int64_t, float> loss_at;
  for (const auto& [step, loss] : straight_losses) loss_at[step] = loss;
  const TensorMap expected = ReadCheckpointV2(JoinPath(TrainDir("straight"), "model.ckpt-30"));

  // Three kills at pseudo-random points of a run, each followed by a restart with the
  // same flags; the run ends at kSteps + the step it resumed from.
  std::mt19937 rng(20261202);
  std::uniform_real_distribution<double> when(0.1, 0.9);
  const std::string log = JoinPath(dir_, "killed.txt");
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t pid = Spawn(train_, Flags("killed", kSteps), log);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(when(rng) * straight_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  ASSERT_EQ(Run(train_, Flags("killed", kSteps), &err), 0) << err;
  const std::string at30 = JoinPath(TrainDir("killed"), "model.ckpt-30");
  ASSERT_TRUE(CheckpointV2Exists(at30)) << ReadFileToString(log) << err;
  std::string why;
  EXPECT_TRUE(testing::SameTensors(expected, ReadCheckpointV2(at30), &why)) << why;
  // The last session resumed from a checkpoint a killed one wrote ("Ran N steps (a -> b)").
  const size_t ran = err.find("steps (");
  ASSERT_NE(ran, std::string::npos) << err;
  const int64_t resumed_from = std::stoll(err.substr(ran + 7));
  EXPECT_GT(resumed_from, 0) << "no kill landed after the first checkpoint";
  // Every loss any session logged equals the uninterrupted run's at that step (killed
  // sessions may lose their unflushed events; the last session's are all there).
  int compared = 0;
  std::string seen;
  const auto killed_series = ReadScalarSeries(TrainDir("killed"));  // outlives the loop
  for (const auto& [step, loss] : killed_series.at("loss")) {
    seen += " " + std::to_string(step);
    if (!loss_at.count(step)) continue;
    EXPECT_EQ(loss, loss_at[step]) << "step " << step;
    ++compared;
  }
  EXPECT_GE(compared, kSteps - resumed_from) << "steps logged:" << seen << "\n" << err;
  // Whatever a kill left half-written was removed by the next session.
  for (const std::string& name : testing::FilesIn(TrainDir("killed")))
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST_F(TrainToolTest, SigtermWritesAFinalCheckpointAndExits143) {
  auto flags = Flags("term", 0);  // until stopped
  flags.push_back("--save_checkpoint_secs=3600");
  const std::string log = JoinPath(dir_, "term.txt");
  const pid_t pid = Spawn(train_, flags, log);
  // Wait for the session-start checkpoint, then let it train a little.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (LatestCheckpoint(TrainDir("term")).empty() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << ReadFileToString(log);
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << ReadFileToString(log);
  const TensorMap last = ReadCheckpointV2(LatestCheckpoint(TrainDir("term")));
  EXPECT_GT(last.at("global_step").data<int64_t>()[0], 0) << ReadFileToString(log);
  EXPECT_NE(ReadFileToString(log).find("writing a final checkpoint"), std::string::npos);
}

TEST_F(TrainToolTest, FullDiskIsAClearErrorAndKeepsThePreviousCheckpoint) {
  std::string err;
  ASSERT_EQ(Run(train_, Flags("disk", 2), &err), 0) << err;
  const std::string state_before = ReadFileToString(JoinPath(TrainDir("disk"), "checkpoint"));
  // A 4 KiB file size limit (SIGXFSZ ignored so writes fail with EFBIG, as on a full disk).
  std::string command = "ulimit -f 4; trap '' XFSZ; exec " + train_;
  for (const auto& f : Flags("disk", 2)) command += " '" + f + "'";
  command += " 2>" + dir_ + "/disk_err.txt";
  const int status = std::system(("bash -c \"" + command + "\"").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string disk_err = ReadFileToString(dir_ + "/disk_err.txt");
  EXPECT_NE(disk_err.find(TrainDir("disk")), std::string::npos) << disk_err;
  EXPECT_EQ(ReadFileToString(JoinPath(TrainDir("disk"), "checkpoint")), state_before);
  const TensorMap t = ReadCheckpointV2(LatestCheckpoint(TrainDir("disk")));
  EXPECT_EQ(t.at("global_step").data<int64_t>()[0], 2);
}

TEST_F(TrainToolTest, EvalBinaryEvaluatesAFinishedRun) {
  std::string err;
  ASSERT_EQ(Run(train_, Flags("ev", 3), &err), 0) << err;
  ASSERT_TRUE(PathExists(eval_));
  EXPECT_EQ(Run(eval_, {"--run_dir=" + JoinPath(dir_, "ev"), "--sequence_example_file=" + data_,
                        "--num_evaluations=1", "--device=cpu", "--eval_timeout_secs=10"},
                &err),
            0)
      << err;
  EXPECT_NE(err.find("Found new checkpoint at"), std::string::npos) << err;
  EXPECT_NE(err.find("Global Step = 3"), std::string::npos) << err;
  EXPECT_EQ(ReadScalarSeries(JoinPath(JoinPath(dir_, "ev"), "eval")).at("loss").size(), 1u);
}

// The workstation pattern: one trainer and two eval jobs on the same run directory at the
// same time. Retention keeps 2 checkpoints, so the evals race with deletions. Everyone
// exits 0, each eval job writes its own events file, every evaluated step is a real
// checkpoint step, and the trainer's result equals a run with nobody beside it.
TEST_F(TrainToolTest, TwoEvalJobsBesideATrainer) {
  auto flags = Flags("busy", 40);
  flags.push_back("--num_checkpoints=2");
  std::string err;
  auto alone = Flags("alone", 40);
  alone.push_back("--num_checkpoints=2");
  ASSERT_EQ(Run(train_, alone, &err), 0) << err;
  const pid_t trainer = Spawn(train_, flags, JoinPath(dir_, "busy_train.txt"));
  std::vector<pid_t> evals;
  for (int i = 0; i < 2; ++i)
    evals.push_back(Spawn(eval_,
                          {"--run_dir=" + JoinPath(dir_, "busy"), "--sequence_example_file=" + data_,
                           "--config=basic_rnn", "--hparams=batch_size=4,rnn_layer_sizes=[8],dropout_keep_prob=0.5",
                           "--eval_interval_secs=0", "--eval_timeout_secs=3", "--device=cpu",
                           "--num_threads=1"},
                          JoinPath(dir_, "busy_eval" + std::to_string(i) + ".txt")));
  int status = 0;
  waitpid(trainer, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ReadFileToString(JoinPath(dir_, "busy_train.txt"));
  for (size_t i = 0; i < evals.size(); ++i) {
    waitpid(evals[i], &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << ReadFileToString(JoinPath(dir_, "busy_eval" + std::to_string(i) + ".txt"));
  }
  const std::string eval_dir = JoinPath(JoinPath(dir_, "busy"), "eval");
  EXPECT_EQ(ListEventFiles(eval_dir).size(), 2u);
  const auto losses = ReadScalarSeries(eval_dir).at("loss");
  EXPECT_GE(losses.size(), 2u);
  for (const auto& [step, loss] : losses) {
    EXPECT_GE(step, 0);
    EXPECT_LE(step, 40);
    EXPECT_TRUE(std::isfinite(loss));
  }
  std::string why;
  EXPECT_TRUE(testing::SameTensors(ReadCheckpointV2(LatestCheckpoint(TrainDir("alone"))),
                                   ReadCheckpointV2(LatestCheckpoint(TrainDir("busy"))), &why))
      << why;
}

}  // namespace
}  // namespace melody
