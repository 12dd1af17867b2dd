#include "apps/lib/create_dataset.h"

#include <glog/logging.h>
#include <google/protobuf/arena.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>

#include "apps/lib/convert_dir.h"  // EscapeForLog, QuoteForLog
#include "core/error.h"
#include "core/file_util.h"
#include "core/parallel_for.h"
#include "core/temp_files.h"
#include "core/tfrecord.h"
#include "data/melody_pipeline.h"
#include "music.pb.h"

namespace melody {
namespace {

constexpr int64_t kLogEveryInputs = 500;

// The partition draw: one uniform double in [0, 1) per input, from a seeded 64-bit
// Mersenne Twister (53 high bits, so the value does not depend on the standard library).
class PartitionDraws {
 public:
  explicit PartitionDraws(uint64_t seed) : engine_(seed) {}
  double Next() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

// Starts the worker threads (the calling thread is worker 1) before any input is read, so
// a thread that cannot start is an error however few the inputs. They stay in the pool for
// the whole run, so per-thread buffers (and malloc arenas) are made once, not per batch.
void StartWorkerThreads(int num_threads) {
  try {
    EnsurePoolThreads(num_threads - 1);
  } catch (const ThreadStartError& e) {
    MELODY_FAIL() << "cannot start worker thread " << e.thread() + 1 << " of " << num_threads
                  << ": " << e.reason()
                  << " (the limit on processes/threads, ulimit -u, may be too low; "
                     "try a smaller --num_threads)";
  }
}

// One input in flight.
struct Slot {
  std::string record;             // the serialized NoteSequence, unless `source` is set
  const std::string* source = nullptr;  // the caller's bytes, used in place of `record`
  std::string what;  // "<file>: record i (byte offset n)"
  bool eval = false;
  MelodyPipelineResult result;
  std::string id, filename;
  std::exception_ptr error;
};

void ProcessSlot(const MelodyPipeline& pipeline, Slot* slot) {
  try {
    // The parsed input lives in an arena whose first block is a per-thread buffer: no
    // allocation per note, and usually none at all.
    thread_local std::vector<char> first_block(1 << 20);
    google::protobuf::ArenaOptions arena_options;
    arena_options.initial_block = first_block.data();
    arena_options.initial_block_size = first_block.size();
    google::protobuf::Arena arena(arena_options);
    auto* sequence = google::protobuf::Arena::CreateMessage<magenta::NoteSequence>(&arena);
    const std::string& bytes = slot->source ? *slot->source : slot->record;
    // (The error is prefixed with slot->what when it is reported.)
    MELODY_REQUIRE(sequence->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        << "not a valid serialized magenta.NoteSequence (" << bytes.size() << " bytes)";
    slot->id = sequence->id();
    slot->filename = sequence->filename();
    slot->result = pipeline.Run(*sequence);
  } catch (...) {
    slot->error = std::current_exception();
  }
  std::string().swap(slot->record);
}

// Statistics of one output set, summed over its inputs with the stages' own names.
class SetStatistics {
 public:
  explicit SetStatistics(std::string set_name) : set_name_(std::move(set_name)) {}
  void Add(const MelodyPipelineResult& r) {
    ++inputs_;
    sum_.num_pieces += r.num_pieces;
    sum_.stage_stats.quantizer.Merge(r.stage_stats.quantizer);
    sum_.stage_stats.transposition.Merge(r.stage_stats.transposition);
    sum_.stage_stats.extractor.Merge(r.stage_stats.extractor);
  }
  // Full reference names; the partition counter only for a set that received inputs.
  Statistics Named() const {
    if (inputs_ == 0) return Statistics();
    Statistics named = sum_.NamedStatistics(set_name_);
    named.SetCounter("DAGPipeline_RandomPartition_" + set_name_ + "_melodies_count", inputs_);
    return named;
  }

 private:
  std::string set_name_;
  int64_t inputs_ = 0;
  MelodyPipelineResult sum_;
};

Statistics NamedStatistics(const SetStatistics& training, const SetStatistics& eval) {
  Statistics all = training.Named();
  all.Merge(eval.Named());
  return all;
}

void LogStatistics(const Statistics& stats) {
  for (const std::string& line : FormatStatistics(stats)) LOG(INFO) << line;
}

std::string ErrorText(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

void CheckEvalRatio(double eval_ratio) {
  // Written so that NaN fails too.
  MELODY_REQUIRE(eval_ratio >= 0.0 && eval_ratio <= 1.0)
      << "--eval_ratio must be between 0 and 1 (the fraction of inputs for the eval set), got "
      << eval_ratio;
}

// One output TFRecord, written to its temporary name; CommitTogether puts the pair in
// place (TFRecordWriter commits each file alone).
class RecordFile {
 public:
  explicit RecordFile(const std::string& path) : file_(path) {}
  void Write(std::string_view payload) {
    file_.Write(FrameTFRecord(payload));
    ++records_;
  }
  AtomicFileWriter* file() { return &file_; }
  uint64_t records_written() const { return records_; }

 private:
  AtomicFileWriter file_;
  uint64_t records_ = 0;
};

// RunCreateDataset with inputs given as slots: `next_input` fills the record (or its
// source), what, and returns false at the end.
DatasetRun RunGraph(const std::function<bool(Slot*)>& next_input,
                    const CreateDatasetOptions& options, const ExampleSink& sink) {
  CheckEvalRatio(options.eval_ratio);
  const MelodyPipeline pipeline(options.config);
  DatasetRun run;
  run.num_threads = ResolveThreadCount(options.num_threads, kMaxDatasetThreads);
  PartitionDraws draws(options.seed);
  if (options.log_progress)
    LOG(INFO) << "Partition: eval_ratio " << options.eval_ratio << ", seed " << options.seed;

  // Inputs are read and partitioned in order, processed a batch at a time by all
  // threads, then written in order: memory stays bounded and the output does not depend
  // on the thread count.
  const size_t batch_size = static_cast<size_t>(std::max(64, 16 * run.num_threads));
  std::vector<Slot> batch;
  StartWorkerThreads(run.num_threads);
  SetStatistics training_stats("training"), eval_stats("eval");
  int64_t produced = 0;
  bool more = true;
  while (more) {
    batch.clear();
    while (batch.size() < batch_size) {
      Slot slot;
      if (!next_input(&slot)) {
        more = false;
        break;
      }
      slot.eval = draws.Next() < options.eval_ratio;
      batch.push_back(std::move(slot));
    }
    if (batch.empty()) break;

    ParallelForEach(run.num_threads, static_cast<int64_t>(batch.size()),
                    [&](int64_t i) { ProcessSlot(pipeline, &batch[i]); });

    for (Slot& slot : batch) {
      if (slot.error) {
        std::string who = slot.filename.empty() ? slot.id : slot.filename;
        MELODY_FAIL() << slot.what << (who.empty() ? "" : " (" + QuoteForLog(who) + ")") << ": "
                      << ErrorText(slot.error);
      }
      const MelodyPipelineResult& r = slot.result;
      // Summed per set with the stages' own names; the full names are made once.
      (slot.eval ? eval_stats : training_stats).Add(r);
      for (std::string& example : slot.result.examples) sink(slot.eval, std::move(example));
      (slot.eval ? run.eval_steps : run.training_steps) += r.num_steps;
      produced += static_cast<int64_t>(r.examples.size());

      InputReport report;
      report.record_index = run.inputs_processed;
      report.id = slot.id;
      report.filename = slot.filename;
      report.eval = slot.eval;
      report.pieces = r.num_pieces;
      report.examples = static_cast<int64_t>(r.examples.size());
      report.steps = r.num_steps;
      report.stage_stats = r.stage_stats;
      run.reports.push_back(std::move(report));

      ++run.inputs_processed;
      if (options.log_progress && run.inputs_processed % kLogEveryInputs == 0) {
        LOG(INFO) << "Processed " << run.inputs_processed << " inputs so far. Produced "
                  << produced << " outputs.";
        LogStatistics(NamedStatistics(training_stats, eval_stats));
      }
    }
  }
  run.stats = NamedStatistics(training_stats, eval_stats);
  if (options.log_progress) {
    LOG(INFO) << "\n\nCompleted.\n";
    LOG(INFO) << "Processed " << run.inputs_processed << " inputs total. Produced " << produced
              << " outputs.";
    LogStatistics(run.stats);
  }
  return run;
}

}  // namespace

DatasetRun RunCreateDataset(const std::function<bool(std::string*, std::string*)>& next_record,
                            const CreateDatasetOptions& options, const ExampleSink& sink) {
  return RunGraph([&](Slot* slot) { return next_record(&slot->record, &slot->what); }, options,
                  sink);
}

DatasetRun CreateDatasetFromRecords(const std::vector<std::string>& serialized_sequences,
                                    const CreateDatasetOptions& options) {
  size_t index = 0;
  // The records are read where they are (they outlive the run), not copied.
  auto next_input = [&](Slot* slot) {
    if (index >= serialized_sequences.size()) return false;
    slot->what = "NoteSequence " + std::to_string(index);
    slot->source = &serialized_sequences[index++];
    return true;
  };
  std::vector<std::string> training, eval;
  DatasetRun run = RunGraph(next_input, options, [&](bool is_eval, std::string&& e) {
    (is_eval ? eval : training).push_back(std::move(e));
  });
  run.training = std::move(training);
  run.eval = std::move(eval);
  return run;
}

DatasetRun CreateDataset(const CreateDatasetFiles& files, const CreateDatasetOptions& options) {
  MELODY_REQUIRE(!files.input.empty()) << "--input is required (a TFRecord of NoteSequences)";
  MELODY_REQUIRE(!files.output_dir.empty()) << "--output_dir is required";
  const std::string input = ExpandUser(files.input);
  const std::string output_dir = ExpandUser(files.output_dir);
  MELODY_REQUIRE(PathExists(input)) << input << ": input file does not exist";
  MELODY_REQUIRE(!IsDirectory(input)) << input << ": input is a directory, not a TFRecord file";
  CheckEvalRatio(options.eval_ratio);
  // Refuses a bad count before any file is made.
  ResolveThreadCount(options.num_threads, kMaxDatasetThreads);

  // Every output is opened (its temporary file created) before the first input is read,
  // so a destination that cannot be written fails now, not after the whole dataset.
  MakeDirectories(output_dir);
  const std::string training_path = JoinPath(output_dir, "training_melodies.tfrecord");
  const std::string eval_path = JoinPath(output_dir, "eval_melodies.tfrecord");
  for (const std::string& path : {training_path, eval_path})
    MELODY_REQUIRE(!IsDirectory(path)) << path << ": output file is a directory";
  const std::string report_path = files.report_path.empty() ? "" : ExpandUser(files.report_path);
  if (!report_path.empty()) {
    MELODY_REQUIRE(!IsDirectory(report_path)) << report_path << ": --report is a directory";
  }
  std::optional<AtomicFileWriter> report;
  if (!report_path.empty()) report.emplace(report_path);
  RecordFile training(training_path);
  RecordFile eval(eval_path);

  TFRecordReader reader(input);
  auto next_record = [&](std::string* record, std::string* what) {
    if (!reader.Next(record)) return false;
    *what = input + ": record " + std::to_string(reader.record_index()) + " (byte offset " +
            std::to_string(reader.record_offset()) + ")";
    return true;
  };
  DatasetRun run = RunCreateDataset(next_record, options, [&](bool is_eval, std::string&& e) {
    (is_eval ? eval : training).Write(e);
  });
  MELODY_REQUIRE(run.inputs_processed > 0)
      << input << ": no NoteSequence records in the input file (nothing written)";
  // The report says why every input was dropped, so it is written even when nothing
  // else is.
  if (report) {
    report->Write(FormatInputReports(run.reports));
    report->Commit();
  }
  // Zero melodies is an error, and the outputs are not replaced: a dataset already in
  // output_dir survives a bad run (the writers drop their temporary files).
  MELODY_REQUIRE(training.records_written() + eval.records_written() > 0)
      << input << ": no melodies were extracted from its " << run.inputs_processed
      << " NoteSequences; nothing was written to " << output_dir
      << (files.report_path.empty() ? " (--report=FILE says why each input was dropped)"
                                    : " (see the report " + files.report_path + ")");
  // Otherwise both files are written, also an empty one (the reference does the same),
  // and replaced as a pair: a failure leaves the previous pair as it was.
  CommitTogether({training.file(), eval.file()});
  // A run killed with SIGKILL could not remove its temporary files; this one can.
  for (const std::string& output : {training_path, eval_path, report_path})
    if (!output.empty())
      for (const std::string& stale : RemoveStaleTempFiles(output))
        LOG(INFO) << "Removed the temporary file of an earlier, killed run: " << QuoteForLog(stale);
  return run;
}

namespace {

// The report's last column: for an input that gave no example, why, in words (the
// counter columns cannot say it when no stage counted anything, e.g. drums only).
std::string WhyNoExamples(const InputReport& r) {
  if (r.examples > 0) return "";
  if (r.pieces == 0) return "the sequence has no length (no notes or total_time 0): no pieces";
  const StageStatistics& st = r.stage_stats;
  const struct {
    const Statistics& stats;
    const char* counter;
    const char* words;
  } kReasons[] = {
      {st.quantizer, "sequences_discarded_because_multiple_time_signatures",
       "pieces with several time signatures"},
      {st.quantizer, "sequences_discarded_because_multiple_tempos", "pieces with several tempos"},
      {st.quantizer, "sequences_discarded_because_bad_time_signature",
       "pieces with a bad time signature"},
      {st.transposition, "skipped_due_to_range_exceeded", "pieces with pitches outside 0..127"},
      {st.extractor, "non_integer_steps_per_bar", "pieces with a non-integer steps per bar"},
      {st.extractor, "polyphonic_tracks_discarded", "polyphonic tracks"},
      {st.extractor, "melodies_discarded_too_short", "melodies too short"},
      {st.extractor, "melodies_discarded_too_few_pitches", "melodies with too few pitches"},
      {st.extractor, "melodies_discarded_too_long", "melodies too long"},
  };
  std::string why;
  for (const auto& reason : kReasons) {
    const int64_t n = reason.stats.counter(reason.counter);
    if (n > 0) why += (why.empty() ? "" : "; ") + std::string(reason.words) + ": " + std::to_string(n);
  }
  if (!why.empty()) return why;
  // The extractor ran and found nothing to count: no note it could use.
  if (st.extractor.HasCounter("polyphonic_tracks_discarded")) return "no melody: no non-drum notes";
  return "no piece reached melody extraction";
}

}  // namespace

std::string FormatInputReports(const std::vector<InputReport>& reports) {
  // Fixed columns: the stage counters that say why pieces or melodies were dropped.
  struct Column {
    const char* title;
    const Statistics StageStatistics::*stage;
    const char* counter;
  };
  static const Column kColumns[] = {
      {"Quantizer_sequences_discarded_because_multiple_time_signatures",
       &StageStatistics::quantizer, "sequences_discarded_because_multiple_time_signatures"},
      {"Quantizer_sequences_discarded_because_multiple_tempos", &StageStatistics::quantizer,
       "sequences_discarded_because_multiple_tempos"},
      {"Quantizer_sequences_discarded_because_bad_time_signature", &StageStatistics::quantizer,
       "sequences_discarded_because_bad_time_signature"},
      {"MelodyExtractor_non_integer_steps_per_bar", &StageStatistics::extractor,
       "non_integer_steps_per_bar"},
      {"MelodyExtractor_polyphonic_tracks_discarded", &StageStatistics::extractor,
       "polyphonic_tracks_discarded"},
      {"MelodyExtractor_melodies_discarded_too_short", &StageStatistics::extractor,
       "melodies_discarded_too_short"},
      {"MelodyExtractor_melodies_discarded_too_few_pitches", &StageStatistics::extractor,
       "melodies_discarded_too_few_pitches"},
      {"MelodyExtractor_melodies_discarded_too_long", &StageStatistics::extractor,
       "melodies_discarded_too_long"},
      {"MelodyExtractor_melodies_truncated", &StageStatistics::extractor, "melodies_truncated"},
  };
  std::ostringstream out;
  out << "record\tfilename\tid\tset\tpieces\texamples\tsteps";
  for (const Column& c : kColumns) out << '\t' << c.title;
  out << "\twhy_no_examples\n";
  for (const InputReport& r : reports) {
    // Names come from the data: escaped, so a tab or newline in one cannot split the row.
    out << r.record_index << '\t' << EscapeForLog(r.filename) << '\t' << EscapeForLog(r.id) << '\t'
        << (r.eval ? "eval" : "training") << '\t' << r.pieces << '\t' << r.examples << '\t'
        << r.steps;
    for (const Column& c : kColumns) out << '\t' << (r.stage_stats.*c.stage).counter(c.counter);
    out << '\t' << WhyNoExamples(r) << '\n';
  }
  return out.str();
}

}  // namespace melody
