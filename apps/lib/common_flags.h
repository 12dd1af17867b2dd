// The flags the tools share, checked in one place: --log, --num_threads, --device, --seed
// and the config group (--config, --melody_encoder_decoder, --generator_id,
// --generator_description, --hparams); and RunToolMain, the body of every tool's main:
// parse argv, check the common flags, set up logging, run the tool, turn an error into
// "<tool>: error: <message>" and exit status 1.
//
// The gflags definitions live beside each tool's main function (apps/lib/<tool>.cc), one
// file per binary, so that a binary links only its own flags and --helpshort lists them:
// their defaults and help texts differ between tools (--device is "auto" for training and
// "cpu" for generation; --seed seeds different things), and so cannot be one definition.
// What a value may be is decided here.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "models/melody_rnn_config.h"

namespace melody {

// The common flags one tool takes, as plain values (a tool without a flag leaves it
// unset).
struct CommonFlags {
  std::string log = "INFO";
  std::optional<int> num_threads;  // checked against max_threads: 0 (all cores) ..
  int max_threads = 0;             //   max_threads
  std::optional<std::string> device;
  // Set for a tool whose config comes from these flags alone (the dataset tool): they
  // must name one config and the hparams must parse against it. Tools that may take the
  // config from a run directory or a bundle resolve these flags against it later.
  std::optional<ConfigFlags> config;
};

// Every check of the common flags, without side effects; throws melody::Error naming the
// flag: --log (LogSeverityFromName, apps/lib/tool_logging.h), --num_threads
// (ResolveThreadCount, core/parallel_for.h), --device (CheckDeviceFlag,
// apps/lib/device_select.h), the config flags (MelodyRnnConfigFromFlags). Returns the
// config the config flags resolve to when `flags.config` is set.
std::optional<MelodyRnnConfig> ValidateCommonFlags(const CommonFlags& flags);

// What the tool's work gets from RunToolMain.
struct ToolRun {
  int argc = 0;
  char** argv = nullptr;  // what gflags left: argv[0] and any positional arguments
  CommonFlags flags;
  std::optional<MelodyRnnConfig> config;  // resolved when flags.config was set
};

// What a tool's main function hands to RunToolMain.
struct ToolMain {
  const char* tool = "";   // the binary's name, for error lines
  const char* usage = "";  // gflags usage message (--help)
  // Called once flags are parsed, before anything else (e.g. signal handlers); optional.
  std::function<void()> setup;
  // The tool's common flags, read from its parsed gflags.
  std::function<CommonFlags()> common_flags;
  // The work: returns the exit status; throws melody::Error (or any std::exception) on
  // failure. Runs after the common flags were checked and logging was set up.
  std::function<int(ToolRun&)> run;
};

// Parses argv (gflags removes the flags it knows), checks the common flags, sets up
// logging (once per process), then runs the tool. Any exception becomes
// "<tool>: error: <message>" on stderr and exit status 1.
int RunToolMain(const ToolMain& main, int argc, char** argv);

// The value of string flag `name` of the calling binary, or nullopt when it was not given
// on the command line (an empty value given on purpose is kept).
std::optional<std::string> GivenStringFlag(const char* name, const std::string& value);
// Whether flag `name` was given on the command line.
bool FlagGiven(const char* name);

}  // namespace melody
