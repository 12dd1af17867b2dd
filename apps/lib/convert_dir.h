// convert_dir_to_note_sequences: a directory of MIDI files -> one TFRecord of serialized
// NoteSequences (shared/spec/data-pipeline.md §6, apps.md §7).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace melody {

// The most parsing threads a run may ask for (more is refused: reading files does not
// scale that far, and each thread holds a file's NoteSequence). 0 means all cores, at
// most this many.
constexpr int kMaxConvertThreads = 256;

constexpr uint64_t kDefaultMaxMidiFileBytes = uint64_t{64} << 20;  // 64 MiB

struct ConvertDirOptions {
  std::string input_dir;    // `~` is expanded; its base name (as given) is the collection
  std::string output_file;  // `~` is expanded; parent created; replaced atomically
  bool recursive = false;   // descend into sub-directories (after the parent's files)
  // MIDI files larger than this are skipped unread (with a warning). Real MIDI files are
  // rarely more than a few MB; the limit bounds the memory one file can cost (README,
  // "Data tools": up to about 40 bytes per byte of a file of dense notes).
  uint64_t max_file_bytes = kDefaultMaxMidiFileBytes;
  int num_threads = 0;      // parsing threads, 0..kMaxConvertThreads; 0 = all cores.
                            // Output does not depend on it.
};

// A file that was handed to the MIDI converter and skipped.
struct ConvertDirFailure {
  std::string path;    // input_dir joined with the relative file name
  std::string reason;  // why it was skipped
  bool unparsable;     // true: the MIDI converter rejected the bytes; false: other error
};

// A MIDI-named entry that was not read: a device, FIFO or socket (only regular files
// are read, through links too), or a file over ConvertDirOptions::max_file_bytes.
struct ConvertDirSkipped {
  std::string path;
  std::string reason;
};

struct ConvertDirResult {
  int64_t converted = 0;                    // records written
  int64_t escaped_names = 0;                // of those, stored under an escaped name
  int64_t failed = 0;                       // == failures.size()
  std::vector<ConvertDirFailure> failures;  // in walk order
  std::vector<std::string> no_converter;    // entries with no converter, in walk order
  std::vector<ConvertDirSkipped> skipped;   // MIDI-named entries not read, in walk order
  uint64_t input_bytes = 0;                 // bytes of the converted MIDI files
  uint64_t output_bytes = 0;                // size of the TFRecord file
  int num_threads = 0;                      // parsing threads used
  double seconds = 0.0;                     // wall time
};

// Walks input_dir in byte-wise sorted order and writes one record per MIDI file
// (.mid/.midi in any case) that converts; files that do not are logged and skipped.
// Throws melody::Error when input_dir is not a directory, the output cannot be written,
// num_threads is out of range or a thread cannot be started (nothing is left at
// output_file then).
ConvertDirResult ConvertDirToNoteSequences(const ConvertDirOptions& options);

// Names that are not UTF-8 (e.g. Latin-1 "caf\xe9.mid" from an old archive) cannot go
// into a NoteSequence as they are: proto3 strings must be valid UTF-8, and no parser
// accepts a record holding other bytes. Such a file is still converted (no tune is
// lost); its `filename` is the name with each byte that is not part of a valid UTF-8
// sequence written as \xHH (lower-case hex, Python's "backslashreplace"), its `id`
// hashes that stored form, and a warning names it. The collection name (the input
// directory's base name) is escaped the same way. Valid UTF-8 passes unchanged.
std::string EscapeInvalidUtf8(const std::string& bytes);

// A name for a log line or a report cell: bytes that are not UTF-8 as \xHH (as above),
// and backslash, quote, tab, CR, LF and other control bytes escaped (\\, \', \t, \r, \n,
// \xHH), so that whatever a file is called it cannot split or fake a line. QuoteForLog
// adds '...' around it.
std::string EscapeForLog(const std::string& text);
std::string QuoteForLog(const std::string& text);

// "/id/midi/<collection_name>/<lower-case hex SHA-1 of filename>".
std::string MidiNoteSequenceId(const std::string& collection_name, const std::string& filename);

}  // namespace melody
