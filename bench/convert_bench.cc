// convert_dir_to_note_sequences over the 1034 Nottingham MIDI files: the whole tool
// (walk, read, parse, serialize, write the TFRecord) with one thread and with all
// threads. Prints a table and writes the numbers as JSON (--out). The reference's figure
// for the same work is "about 4 s" in Python (shared/spec/data-pipeline.md §8).
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "apps/lib/convert_dir.h"
#include "bench/bench_util.h"
#include "core/file_util.h"

DEFINE_string(input_dir, "../shared/data/nottingham",
              "Folder of MIDI files to convert (if missing: $MELODY_SHARED_DIR/data/nottingham, "
              "then shared/ beside the source tree).");
DEFINE_int32(repetitions, 10, "Timed runs per thread count (after one untimed warm-up run).");
DEFINE_int32(threads, 0, "Thread count of the multi-threaded runs (0 = all cores).");
DEFINE_string(out, "bench/results/convert.json", "File receiving the numbers (JSON).");

namespace {

std::string ResolveInputDir() {
  if (melody::IsDirectory(FLAGS_input_dir)) return FLAGS_input_dir;
  const std::string shared = melody::bench::DefaultSharedDir() + "/data/nottingham";
  if (melody::IsDirectory(shared)) return shared;
  return FLAGS_input_dir;  // the tool reports the missing directory
}

struct Row {
  int threads;
  std::vector<double> seconds;
  int64_t files;
  uint64_t input_bytes;
  double peak_rss_mib;
  double best() const { return *std::min_element(seconds.begin(), seconds.end()); }
  double median() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  }
};

Row Measure(const melody::ConvertDirOptions& base, int threads) {
  melody::ConvertDirOptions options = base;
  options.num_threads = threads;
  melody::ConvertDirToNoteSequences(options);  // warm-up: page cache, allocator
  Row row{threads, {}, 0, 0, 0.0};
  for (int r = 0; r < FLAGS_repetitions; ++r) {
    melody::ConvertDirResult result = melody::ConvertDirToNoteSequences(options);
    row.seconds.push_back(result.seconds);
    row.files = result.converted;
    row.input_bytes = result.input_bytes;
  }
  row.peak_rss_mib = melody::bench::PeakRssMiB();
  return row;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("Benchmark of convert_dir_to_note_sequences on the Nottingham set.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_ERROR;  // no per-file lines or LICENSE.md warnings
  google::InitGoogleLogging(argv[0]);
  if (FLAGS_repetitions < 1) {
    std::cerr << "--repetitions must be >= 1\n";
    return 1;
  }

  char scratch[] = "/tmp/convert_bench_XXXXXX";
  if (!mkdtemp(scratch)) {
    std::cerr << "cannot create a scratch directory\n";
    return 1;
  }
  melody::ConvertDirOptions options;
  options.input_dir = ResolveInputDir();
  options.output_file = std::string(scratch) + "/notesequences.tfrecord";

  unsigned cores = std::thread::hardware_concurrency();
  int all = FLAGS_threads > 0 ? FLAGS_threads : static_cast<int>(cores ? cores : 1);
  std::vector<Row> rows;
  try {
    rows.push_back(Measure(options, 1));
    if (all != 1) rows.push_back(Measure(options, all));
  } catch (const std::exception& e) {
    std::cerr << "convert_bench: " << e.what() << "\n";
    return 1;
  }
  std::remove(options.output_file.c_str());
  rmdir(scratch);

  std::printf("convert_dir_to_note_sequences on %s (%lld files, %.2f MB), %d run(s) each\n",
              options.input_dir.c_str(), static_cast<long long>(rows[0].files),
              rows[0].input_bytes / 1e6, FLAGS_repetitions);
  std::printf("CPU: %s, %u hardware threads\n", CpuModel().c_str(), cores);
  std::printf("%8s %10s %10s %10s %10s %14s\n", "threads", "best s", "median s", "files/s",
              "MB/s", "peak RSS MiB");
  for (const Row& r : rows)
    std::printf("%8d %10.4f %10.4f %10.0f %10.2f %14.1f\n", r.threads, r.best(), r.median(),
                r.files / r.best(), r.input_bytes / 1e6 / r.best(), r.peak_rss_mib);
  std::printf("reference (Python, data-pipeline.md §8): about 4 s for the 1034 files\n");

  std::string out_dir = melody::Dirname(FLAGS_out);
  try {
    if (!out_dir.empty()) melody::MakeDirectories(out_dir);
    std::string json = "{\n  \"benchmark\": \"convert_dir_to_note_sequences\",\n";
    json += "  \"input_dir\": \"" + options.input_dir + "\",\n";
    json += "  \"cpu\": \"" + CpuModel() + "\",\n";
    json += "  \"hardware_threads\": " + std::to_string(cores) + ",\n";
    json += "  \"files\": " + std::to_string(rows[0].files) + ",\n";
    json += "  \"input_bytes\": " + std::to_string(rows[0].input_bytes) + ",\n";
    json += "  \"reference_seconds_approx\": 4.0,\n  \"runs\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "    {\"threads\": %d, \"best_seconds\": %.6f, \"median_seconds\": %.6f, "
                    "\"files_per_second\": %.1f, \"mb_per_second\": %.3f, "
                    "\"peak_rss_mib\": %.1f, \"seconds\": [",
                    r.threads, r.best(), r.median(), r.files / r.best(),
                    r.input_bytes / 1e6 / r.best(), r.peak_rss_mib);
      json += buf;
      for (size_t k = 0; k < r.seconds.size(); ++k) {
        std::snprintf(buf, sizeof buf, "%s%.6f", k ? ", " : "", r.seconds[k]);
        json += buf;
      }
      json += i + 1 < rows.size() ? "]},\n" : "]}\n";
    }
    json += "  ]\n}\n";
    melody::WriteFileAtomically(FLAGS_out, json);
  } catch (const std::exception& e) {
    std::cerr << "convert_bench: " << e.what() << "\n";
    return 1;
  }
  std::printf("numbers written to %s\n", FLAGS_out.c_str());
  return 0;
}
