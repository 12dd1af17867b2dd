#include "apps/lib/tool_logging.h"

#include <glog/logging.h>

#include <iostream>

#include "core/error.h"

namespace melody {

void InitToolLogging(const char* argv0, const std::string& level) {
  int severity;
  if (level == "DEBUG" || level == "INFO") {
    severity = google::GLOG_INFO;
  } else if (level == "WARN" || level == "WARNING") {
    severity = google::GLOG_WARNING;
  } else if (level == "ERROR") {
    severity = google::GLOG_ERROR;
  } else if (level == "FATAL" || level == "CRITICAL") {
    severity = google::GLOG_FATAL;
  } else {
    MELODY_FAIL() << "invalid --log level '" << level
                  << "' (expected DEBUG, INFO, WARN, WARNING, ERROR, FATAL or CRITICAL)";
  }
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
