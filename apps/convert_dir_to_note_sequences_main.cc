// convert_dir_to_note_sequences: flags -> ConvertDirOptions -> ConvertDirToNoteSequences
// (apps/lib/convert_dir.h). Flags as in the reference (shared/spec/apps.md §7) plus
// --num_threads; unlike the reference, a missing required flag exits with status 1.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <iostream>
#include <string>

#include "apps/lib/convert_dir.h"
#include "core/error.h"

DEFINE_string(input_dir, "", "Directory containing files to convert.");
DEFINE_string(output_file, "", "Path to output TFRecord file. Will be overwritten if it exists.");
DEFINE_bool(recursive, false, "Whether or not to recurse into subdirectories.");
DEFINE_string(log, "INFO",
              "The threshold for what messages will be logged: DEBUG, INFO, WARN, ERROR, "
              "or FATAL (also WARNING, CRITICAL).");
DEFINE_int32(num_threads, 0,
             "Threads that parse MIDI files (0 = all cores). The output does not depend on it.");

namespace {

// Python logging level names (upper case only, as the reference accepts them) -> glog
// severity threshold. glog has no DEBUG level; DEBUG shows everything INFO shows.
bool LogThreshold(const std::string& name, int* severity) {
  if (name == "DEBUG" || name == "INFO") *severity = google::GLOG_INFO;
  else if (name == "WARN" || name == "WARNING") *severity = google::GLOG_WARNING;
  else if (name == "ERROR") *severity = google::GLOG_ERROR;
  else if (name == "FATAL" || name == "CRITICAL") *severity = google::GLOG_FATAL;
  else return false;
  return true;
}

int Fail(const std::string& message) {
  std::cerr << "convert_dir_to_note_sequences: error: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "Converts MIDI files in a directory into one TFRecord of NoteSequence protos.\n"
      "  convert_dir_to_note_sequences --input_dir=DIR --output_file=FILE "
      "[--recursive] [--num_threads=N] [--log=LEVEL]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  int severity = 0;
  if (!LogThreshold(FLAGS_log, &severity))
    return Fail("invalid --log level '" + FLAGS_log +
                "' (expected DEBUG, INFO, WARN, WARNING, ERROR, FATAL or CRITICAL)");
  FLAGS_minloglevel = severity;
  FLAGS_stderrthreshold = severity;
  if (FLAGS_input_dir.empty()) return Fail("--input_dir required");
  if (FLAGS_output_file.empty()) return Fail("--output_file required");
  if (FLAGS_num_threads < 0) return Fail("--num_threads must be >= 0 (0 = all cores)");

  melody::ConvertDirOptions options;
  options.input_dir = FLAGS_input_dir;
  options.output_file = FLAGS_output_file;
  options.recursive = FLAGS_recursive;
  options.num_threads = FLAGS_num_threads;
  try {
    melody::ConvertDirToNoteSequences(options);  // logs its own summary
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return 0;
}
