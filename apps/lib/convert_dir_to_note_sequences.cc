// convert_dir_to_note_sequences: its flags and main function (flags -> ConvertDirOptions
// -> ConvertDirToNoteSequences, apps/lib/convert_dir.h). Flags as in the reference
// (shared/spec/apps.md §7) plus --num_threads and --max_midi_file_mb; unlike the
// reference, a missing required flag exits with status 1. SIGINT/SIGTERM/SIGHUP remove
// the partly written output.
#include <gflags/gflags.h>

#include <string>

#include "apps/lib/common_flags.h"
#include "apps/lib/convert_dir.h"
#include "apps/lib/tool_mains.h"
#include "core/error.h"
#include "core/temp_files.h"

DEFINE_string(input_dir, "", "Directory containing files to convert.");
DEFINE_string(output_file, "", "Path to output TFRecord file. Will be overwritten if it exists.");
DEFINE_bool(recursive, false, "Whether or not to recurse into subdirectories.");
DEFINE_string(log, "INFO",
              "The threshold for what messages will be logged: DEBUG, INFO, WARN, ERROR, "
              "or FATAL (also WARNING, CRITICAL).");
DEFINE_int32(num_threads, 0,
             "Threads that parse MIDI files (0 = all cores; at most 256). The output does not "
             "depend on it.");
DEFINE_int32(max_midi_file_mb, 64,
             "MIDI files larger than this many MiB (1..4096) are skipped with a warning; it "
             "bounds the memory one file can take (see the README).");

namespace melody {

int ConvertDirToNoteSequencesMain(int argc, char** argv) {
  ToolMain main;
  main.tool = "convert_dir_to_note_sequences";
  main.usage =
      "Converts MIDI files in a directory into one TFRecord of NoteSequence protos.\n"
      "  convert_dir_to_note_sequences --input_dir=DIR --output_file=FILE "
      "[--recursive] [--num_threads=N] [--max_midi_file_mb=64] [--log=LEVEL]";
  // Ctrl-C, kill and a closed terminal remove the partly written output.
  main.setup = [] { InstallTempFileCleanupOnSignals(); };
  main.common_flags = [] {
    CommonFlags common;
    common.log = FLAGS_log;
    common.num_threads = FLAGS_num_threads;
    common.max_threads = kMaxConvertThreads;
    return common;
  };
  main.run = [](ToolRun&) {
    MELODY_REQUIRE(!FLAGS_input_dir.empty()) << "--input_dir required";
    MELODY_REQUIRE(!FLAGS_output_file.empty()) << "--output_file required";
    MELODY_REQUIRE(FLAGS_max_midi_file_mb >= 1 && FLAGS_max_midi_file_mb <= 4096)
        << "--max_midi_file_mb must be between 1 and 4096, got " << FLAGS_max_midi_file_mb;
    ConvertDirOptions options;
    options.input_dir = FLAGS_input_dir;
    options.output_file = FLAGS_output_file;
    options.recursive = FLAGS_recursive;
    options.num_threads = FLAGS_num_threads;
    options.max_file_bytes = static_cast<uint64_t>(FLAGS_max_midi_file_mb) << 20;
    ConvertDirToNoteSequences(options);  // logs its own summary
    return 0;
  };
  return RunToolMain(main, argc, argv);
}

}  // namespace melody
