#include "apps/lib/tool_logging.h"

#include <glog/logging.h>

#include <iostream>

#include "core/error.h"

namespace melody {

int LogSeverityFromName(const std::string& level) {
  if (level == "DEBUG" || level == "INFO") return google::GLOG_INFO;
  if (level == "WARN" || level == "WARNING") return google::GLOG_WARNING;
  if (level == "ERROR") return google::GLOG_ERROR;
  if (level == "FATAL" || level == "CRITICAL") return google::GLOG_FATAL;
  MELODY_FAIL() << "invalid --log level '" << level
                << "' (expected DEBUG, INFO, WARN, WARNING, ERROR, FATAL or CRITICAL)";
}

void InitToolLogging(const char* argv0, const std::string& level) {
  const int severity = LogSeverityFromName(level);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = severity;
  FLAGS_stderrthreshold = severity;
  google::InitGoogleLogging(argv0);
}

int ReportToolError(const std::string& tool, const std::string& message) {
  std::cerr << tool << ": error: " << message << "\n";
  return 1;
}

}  // namespace melody
