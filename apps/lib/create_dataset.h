// melody_rnn_create_dataset: a TFRecord of NoteSequences -> training_melodies.tfrecord and
// eval_melodies.tfrecord of SequenceExamples for one melody config
// (shared/spec/data-pipeline.md §7, apps.md §4).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/melody_config.h"
#include "data/melody_pipeline.h"
#include "data/statistics.h"

namespace melody {

// The most worker threads a run may ask for (more is refused); 0 means all cores, at
// most this many.
constexpr int kMaxDatasetThreads = 256;

struct CreateDatasetOptions {
  MelodyConfig config = MelodyConfigById("basic_rnn");
  double eval_ratio = 0.1;  // r < eval_ratio -> eval, one draw per input; in [0, 1]
  uint64_t seed = 0;        // seeds the partition draws (the reference does not seed)
  int num_threads = 0;      // 0..kMaxDatasetThreads, 0 = all cores; the output does not
                            // depend on it
  bool log_progress = true; // the reference's log lines every 500 inputs and at the end
};

// What happened to one input NoteSequence (the --report rows).
struct InputReport {
  int64_t record_index = 0;
  std::string id;
  std::string filename;
  bool eval = false;
  int64_t pieces = 0;    // time-change pieces (0: the sequence has no length)
  int64_t examples = 0;  // SequenceExamples written
  int64_t steps = 0;
  StageStatistics stage_stats;
};

struct DatasetRun {
  std::vector<std::string> training;  // serialized SequenceExamples, in output order
  std::vector<std::string> eval;
  int64_t inputs_processed = 0;
  int64_t training_steps = 0;
  int64_t eval_steps = 0;
  Statistics stats;  // full reference names (DAGPipeline_...)
  std::vector<InputReport> reports;
  int num_threads = 0;
};

// Receives every serialized SequenceExample in output order (eval = which set); it may
// take the string over.
using ExampleSink = std::function<void(bool eval, std::string&& example)>;

// The graph over a stream of serialized NoteSequences. `next_record(&bytes, &what)` yields
// the next record and a description for error messages ("<file>: record 3 (byte offset
// 1234)"), false at the end. Inputs are processed in parallel and written in input order.
// Throws melody::Error for an unparsable record or a pipeline error, naming the input.
DatasetRun RunCreateDataset(const std::function<bool(std::string*, std::string*)>& next_record,
                            const CreateDatasetOptions& options, const ExampleSink& sink);

// In memory (tests, benchmarks): the examples are kept in the returned DatasetRun.
DatasetRun CreateDatasetFromRecords(const std::vector<std::string>& serialized_sequences,
                                    const CreateDatasetOptions& options);

struct CreateDatasetFiles {
  std::string input;        // TFRecord of NoteSequences (`~` expanded)
  std::string output_dir;   // created if missing (`~` expanded)
  std::string report_path;  // optional per-input TSV report ("" = none)
};

// The tool: writes <output_dir>/training_melodies.tfrecord and eval_melodies.tfrecord
// (both always, to temporary names, then renamed as a pair: CommitTogether in
// core/file_util.h; a failed run leaves the previous pair as it was). The outputs and the
// report are opened before the first input is read, so an unwritable destination fails
// at once. Throws melody::Error when eval_ratio is outside [0, 1] (or NaN), an output
// cannot be created, the input is missing, unreadable, holds no records or a corrupt
// one, or when no melody at all was extracted (the report is still written; the
// previous pair is kept). The returned run has its example lists empty (they went to
// the files).
DatasetRun CreateDataset(const CreateDatasetFiles& files, const CreateDatasetOptions& options);

// The --report text: a header line and one tab-separated line per input; the last
// column, why_no_examples, says in words why an input gave no example (empty otherwise).
std::string FormatInputReports(const std::vector<InputReport>& reports);

}  // namespace melody
