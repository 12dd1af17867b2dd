// What every command-line tool does around its library call: logging set up from the
// reference's --log flag, and one way to report a failure and exit non-zero.
#pragma once

#include <string>

namespace melody {

// glog's severity for a --log level name: a Python logging level name, upper case only as
// the reference accepts them (DEBUG, INFO, WARN, WARNING, ERROR, FATAL, CRITICAL). Throws
// melody::Error naming --log for any other name.
int LogSeverityFromName(const std::string& level);

// Logs to stderr with the threshold named by `level`: a Python logging level name, upper
// case only as the reference accepts them (DEBUG, INFO, WARN, WARNING, ERROR, FATAL,
// CRITICAL). glog has no DEBUG level, so DEBUG shows what INFO shows. Throws melody::Error
// for any other name.
void InitToolLogging(const char* argv0, const std::string& level);

// Prints "<tool>: error: <message>" to stderr and returns the exit status (1).
int ReportToolError(const std::string& tool, const std::string& message);

}  // namespace melody
