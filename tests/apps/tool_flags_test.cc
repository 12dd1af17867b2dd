// The flags layer of the binaries (apps/lib/common_flags.h): the common checks called
// directly, and for every binary, bad flag values exit 1 with a message naming the flag
// before any work (no output written, no run directory made).
#include "apps/lib/common_flags.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/file_util.h"
#include "tests/test_util.h"

namespace melody {
namespace {

using testing::MakeTempDir;

// ---- the common checks -----------------------------------------------------------------

std::string ErrorOf(const CommonFlags& flags) {
  try {
    ValidateCommonFlags(flags);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CommonFlagsTest, DefaultsPass) {
  CommonFlags flags;
  EXPECT_EQ(ErrorOf(flags), "");
  flags.num_threads = 0;
  flags.max_threads = 256;
  flags.device = "auto";
  EXPECT_EQ(ErrorOf(flags), "");
  EXPECT_FALSE(ValidateCommonFlags(flags).has_value());
}

TEST(CommonFlagsTest, LogLevelNames) {
  for (const char* level : {"DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"}) {
    CommonFlags flags;
    flags.log = level;
    EXPECT_EQ(ErrorOf(flags), "") << level;
  }
  CommonFlags flags;
  flags.log = "info";  // the reference accepts upper case only
  EXPECT_EQ(ErrorOf(flags),
            "invalid --log level 'info' (expected DEBUG, INFO, WARN, WARNING, ERROR, FATAL or "
            "CRITICAL)");
}

TEST(CommonFlagsTest, NumThreadsBoundIsTheTools) {
  CommonFlags flags;
  flags.max_threads = 256;
  flags.num_threads = 256;
  EXPECT_EQ(ErrorOf(flags), "");
  flags.num_threads = 257;
  EXPECT_EQ(ErrorOf(flags), "--num_threads must be between 0 (all cores) and 256, got 257");
  flags.num_threads = -1;
  EXPECT_EQ(ErrorOf(flags), "--num_threads must be between 0 (all cores) and 256, got -1");
  flags.max_threads = 1024;
  flags.num_threads = 1024;
  EXPECT_EQ(ErrorOf(flags), "");
}

TEST(CommonFlagsTest, DeviceNames) {
  for (const char* device : {"cpu", "cuda", "auto", ""}) {
    CommonFlags flags;
    flags.device = device;
    EXPECT_EQ(ErrorOf(flags), "") << device;
  }
  CommonFlags flags;
  flags.device = "gpu";
  EXPECT_EQ(ErrorOf(flags), "--device must be cpu, cuda or auto, got 'gpu'");
}

TEST(CommonFlagsTest, ConfigFlagsResolveWhenTheToolNeedsThem) {
  CommonFlags flags;
  flags.config = ConfigFlags();
  EXPECT_EQ(ErrorOf(flags),
            "Exactly one of `--config` or `--melody_encoder_decoder` must be supplied.");
  flags.config->config = "attention_rnn";
  flags.config->hparams = "batch_size=32";
  const std::optional<MelodyRnnConfig> config = ValidateCommonFlags(flags);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->melody.id, "attention_rnn");
  EXPECT_EQ(config->hparams.GetInt("batch_size"), 32);
  flags.config->hparams = "batch_size=lots";
  EXPECT_NE(ErrorOf(flags).find("Could not parse hparam 'batch_size'"), std::string::npos)
      << ErrorOf(flags);
  flags.config->hparams = "";
  flags.config->config = "jazz_rnn";
  EXPECT_NE(ErrorOf(flags).find("`--config` must be one of"), std::string::npos) << ErrorOf(flags);
}

// ---- every binary ------------------------------------------------------------------------

std::string ToolPath(const std::string& tool) {
  return std::string(MELODY_BINARY_DIR) + "/apps/" + tool;
}

struct ToolOutcome {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string output;
};

// Runs `tool` with `args` in `dir`, stdout and stderr together.
ToolOutcome RunTool(const std::string& tool, const std::vector<std::string>& args,
                    const std::string& dir) {
  const std::string binary = ToolPath(tool);
  const std::string log = dir + "/tool.log";
  std::vector<std::string> strings = {binary};
  strings.insert(strings.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ToolOutcome out;
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.output = ReadFileToString(log);
  return out;
}

struct FlagCase {
  std::vector<std::string> args;
  std::string expected;  // part of the error line
};

// Each case exits 1 with "<tool>: error: ...<expected>...", and `untouched` (an output the
// tool would write) does not exist afterwards.
void ExpectFlagErrors(const std::string& tool, const std::vector<FlagCase>& cases,
                      const std::string& dir, const std::string& untouched) {
  if (::access(ToolPath(tool).c_str(), X_OK) != 0)
    GTEST_SKIP() << "binary not built: " << ToolPath(tool);
  for (const FlagCase& c : cases) {
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    SCOPED_TRACE(tool + " " + joined);
    const ToolOutcome out = RunTool(tool, c.args, dir);
    EXPECT_EQ(out.status, 1) << out.output;
    EXPECT_NE(out.output.find(tool + ": error: "), std::string::npos) << out.output;
    EXPECT_NE(out.output.find(c.expected), std::string::npos) << out.output;
    EXPECT_FALSE(PathExists(untouched)) << untouched << " was made: " << out.output;
  }
}

TEST(ToolFlagsTest, ConvertDirToNoteSequences) {
  const std::string dir = MakeTempDir("flags_convert");
  MakeDirectories(dir + "/midi");
  const std::string out = dir + "/out.tfrecord";
  const std::vector<std::string> ok = {"--input_dir=" + dir + "/midi", "--output_file=" + out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = ok;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectFlagErrors("convert_dir_to_note_sequences",
                   {{with({"--log=LOUD"}), "invalid --log level 'LOUD'"},
                    {with({"--num_threads=-1"}),
                     "--num_threads must be between 0 (all cores) and 256, got -1"},
                    {with({"--num_threads=257"}),
                     "--num_threads must be between 0 (all cores) and 256, got 257"},
                    {with({"--max_midi_file_mb=0"}),
                     "--max_midi_file_mb must be between 1 and 4096, got 0"},
                    {{"--output_file=" + out}, "--input_dir required"},
                    {{"--input_dir=" + dir + "/midi"}, "--output_file required"}},
                   dir, out);
}

TEST(ToolFlagsTest, MelodyRnnCreateDataset) {
  const std::string dir = MakeTempDir("flags_dataset");
  const std::string out = dir + "/out";
  WriteFileAtomically(dir + "/empty.tfrecord", "");  // exists: the checks after it run
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--input=" + dir + "/empty.tfrecord",
                                     "--output_dir=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectFlagErrors(
      "melody_rnn_create_dataset",
      {{with({"--config=basic_rnn", "--log=verbose"}), "invalid --log level 'verbose'"},
       {with({"--config=basic_rnn", "--num_threads=300"}),
        "--num_threads must be between 0 (all cores) and 256, got 300"},
       {with({}), "Exactly one of `--config` or `--melody_encoder_decoder` must be supplied."},
       {with({"--config=jazz_rnn"}), "`--config` must be one of"},
       {with({"--melody_encoder_decoder=piano"}), "`--melody_encoder_decoder` must be one of"},
       {with({"--config=basic_rnn", "--hparams=batch_size=many"}),
        "Could not parse hparam 'batch_size'"},
       {with({"--config=basic_rnn", "--eval_ratio=1.5"}), "--eval_ratio must be between 0 and 1"}},
      dir, out);
}

// melody_rnn_train and melody_rnn_eval share their flags and their checks.
void ExpectTrainEvalFlagErrors(const std::string& tool) {
  const std::string dir = MakeTempDir("flags_" + tool);
  const std::string run_dir = dir + "/run";
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--config=basic_rnn", "--run_dir=" + run_dir,
                                     "--sequence_example_file=" + dir + "/missing.tfrecord"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectFlagErrors(tool,
                   {{with({"--log=quiet"}), "invalid --log level 'quiet'"},
                    {with({"--num_threads=1025"}),
                     "--num_threads must be between 0 (all cores) and 1024, got 1025"},
                    {with({"--num_threads=-2"}),
                     "--num_threads must be between 0 (all cores) and 1024, got -2"},
                    {with({"--device=tpu"}), "--device must be cpu, cuda or auto, got 'tpu'"}},
                   dir, run_dir);
}

TEST(ToolFlagsTest, MelodyRnnTrain) { ExpectTrainEvalFlagErrors("melody_rnn_train"); }

TEST(ToolFlagsTest, MelodyRnnEval) { ExpectTrainEvalFlagErrors("melody_rnn_eval"); }

TEST(ToolFlagsTest, MelodyRnnGenerate) {
  const std::string dir = MakeTempDir("flags_generate");
  const std::string out = dir + "/generated";
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--bundle_file=" + dir + "/missing.mag",
                                     "--output_dir=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectFlagErrors("melody_rnn_generate",
                   {{with({"--log=LOUD"}), "invalid --log level 'LOUD'"},
                    {with({"--num_threads=-3"}),
                     "--num_threads must be between 0 (all cores) and 1024, got -3"},
                    {with({"--device=gpu"}), "--device must be cpu, cuda or auto, got 'gpu'"},
                    {with({"--temperature=0"}), "--temperature must be > 0"},
                    {with({"--num_outputs=0"}), "--num_outputs must be >= 1, got 0"}},
                   dir, out);
}

TEST(ToolFlagsTest, MelodyRnnExport) {
  const std::string dir = MakeTempDir("flags_export");
  const std::string out = dir + "/tfjs";
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--bundle_file=" + dir + "/missing.mag",
                                     "--output_dir=" + out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ExpectFlagErrors("melody_rnn_export",
                   {{with({"--log=LOUD"}), "invalid --log level 'LOUD'"},
                    {with({"--format=onnx"}), "--format must be tfjs"},
                    {with({"--run_dir=" + dir}), "give exactly one of --run_dir"}},
                   dir, out);
}

}  // namespace
}  // namespace melody
