#include "apps/lib/common_flags.h"

#include <gflags/gflags.h>

#include <exception>

#include "apps/lib/device_select.h"
#include "apps/lib/tool_logging.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace melody {

std::optional<MelodyRnnConfig> ValidateCommonFlags(const CommonFlags& flags) {
  LogSeverityFromName(flags.log);
  if (flags.num_threads) ResolveThreadCount(*flags.num_threads, flags.max_threads);
  if (flags.device) CheckDeviceFlag(*flags.device);
  if (flags.config) return MelodyRnnConfigFromFlags(*flags.config);
  return std::nullopt;
}

int RunToolMain(const ToolMain& main, int argc, char** argv) {
  gflags::SetUsageMessage(main.usage);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (main.setup) main.setup();
  try {
    ToolRun run;
    run.argc = argc;
    run.argv = argv;
    run.flags = main.common_flags();
    run.config = ValidateCommonFlags(run.flags);
    InitToolLogging(argv[0], run.flags.log);
    return main.run(run);
  } catch (const std::exception& e) {
    return ReportToolError(main.tool, DescribeError(e));
  }
}

bool FlagGiven(const char* name) {
  return !gflags::GetCommandLineFlagInfoOrDie(name).is_default;
}

std::optional<std::string> GivenStringFlag(const char* name, const std::string& value) {
  if (!FlagGiven(name)) return std::nullopt;
  return value;
}

}  // namespace melody
