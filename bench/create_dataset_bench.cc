// Wall time of melody_rnn_create_dataset's graph over the 1034 Nottingham NoteSequences,
// per config, with one thread and with all threads, next to the reference's time
// (shared/golden/create_dataset/<config>_summary.json "reference_seconds": Python, one
// core). The MIDI files are converted to NoteSequences before any timing. Timed: serialized
// NoteSequences in -> serialized SequenceExamples out (in memory), the same span the
// reference figure covers; a second figure adds writing the two TFRecord files.
#include <gflags/gflags.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <nlohmann/json.hpp>
#include <openssl/sha.h>

#include "apps/lib/create_dataset.h"
#include "bench/bench_util.h"
#include "core/file_util.h"
#include "core/proto_util.h"
#include "core/tfrecord.h"
#include "data/midi_reader.h"

DEFINE_string(shared_dir, "", "shared/ directory (default: $MELODY_SHARED_DIR or ../shared "
                              "beside the source tree)");
DEFINE_int32(repeats, 5, "Timed runs per configuration and thread count (the minimum is kept).");
DEFINE_int32(threads, 0, "Thread count of the multi-threaded runs (0 = all cores).");
DEFINE_string(out, "bench/results/create_dataset.json",
              "File receiving the numbers (JSON); its directory is created.");
DEFINE_string(configs, "basic_rnn,mono_rnn,lookback_rnn,attention_rnn",
              "Comma-separated configs to time.");
DEFINE_bool(files, true, "Also time the runs that write the two TFRecord files.");
DEFINE_string(scratch_dir, "/tmp/create_dataset_bench", "Where the file-writing runs write.");

namespace {

using Clock = std::chrono::steady_clock;

std::string Sha1Hex(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

// What convert_dir_to_note_sequences writes for each file of the directory, sorted.
std::vector<std::string> ConvertNottingham(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) throw melody::Error(dir + ": cannot open directory");
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".mid") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<std::string> out;
  for (const std::string& name : names) {
    magenta::NoteSequence ns =
        melody::MidiToNoteSequence(melody::ReadFileToString(melody::JoinPath(dir, name)));
    ns.set_filename(name);
    ns.set_collection_name("nottingham");
    ns.set_id("/id/midi/nottingham/" + Sha1Hex(name));
    out.push_back(melody::SerializeDeterministic(ns));
  }
  return out;
}

double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall = 1e30;    // minimum over the repeats
  double cpu = 1e30;     // process CPU time (all threads) of the run with the minimum
  double median = 0.0;   // median wall time over the repeats
};

// On a shared machine the wall time of a single-threaded run also counts time the
// process waited for a core; its CPU time does not, so both are reported.
template <typename Fn>
Timing MinTime(int repeats, Fn fn) {
  Timing best;
  std::vector<double> walls;
  for (int r = 0; r < repeats; ++r) {
    const double cpu_start = ProcessCpuSeconds();
    const auto start = Clock::now();
    fn();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    walls.push_back(wall);
    if (wall < best.wall) best = {wall, ProcessCpuSeconds() - cpu_start, 0.0};
  }
  std::sort(walls.begin(), walls.end());
  best.median = walls[walls.size() / 2];
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::string shared = FLAGS_shared_dir.empty() ? melody::bench::DefaultSharedDir() : FLAGS_shared_dir;
  if (FLAGS_repeats < 1) FLAGS_repeats = 1;
  const int all_threads = FLAGS_threads > 0 ? FLAGS_threads
                                            : std::max(1u, std::thread::hardware_concurrency());
  try {
    const auto convert_start = Clock::now();
    const std::vector<std::string> sequences = ConvertNottingham(shared + "/data/nottingham");
    const double convert_seconds =
        std::chrono::duration<double>(Clock::now() - convert_start).count();
    const std::string input = FLAGS_scratch_dir + "/nottingham.tfrecord";
    melody::MakeDirectories(FLAGS_scratch_dir);
    melody::WriteTFRecordFile(input, sequences);
    std::printf("Converted %zu Nottingham MIDI files in %.3f s (not timed below).\n",
                sequences.size(), convert_seconds);
    const std::string nt = std::to_string(all_threads) + "T";
    std::printf("%-14s %8s %7s %8s %8s %7s %9s %8s %7s %9s\n", "config", "examples", "ref s",
                "1T s", "1T cpu", "1T x", "1T+files", (nt + " s").c_str(), (nt + " x").c_str(),
                (nt + "+files").c_str());

    nlohmann::json results = nlohmann::json::array();
    for (const std::string& config_id : melody::MelodyConfigIds()) {
      if (("," + FLAGS_configs + ",").find("," + config_id + ",") == std::string::npos) continue;
      const auto summary = nlohmann::json::parse(melody::ReadFileToString(
          shared + "/golden/create_dataset/" + config_id + "_summary.json"));
      const double reference = summary["reference_seconds"].get<double>();
      melody::CreateDatasetOptions options;
      options.config = melody::MelodyConfigById(config_id);
      options.eval_ratio = 0.0;
      options.log_progress = false;

      size_t examples = 0;
      auto in_memory = [&](int threads) {
        options.num_threads = threads;
        return MinTime(FLAGS_repeats, [&] {
          examples = melody::CreateDatasetFromRecords(sequences, options).training.size();
        });
      };
      auto to_files = [&](int threads) {
        options.num_threads = threads;
        if (!FLAGS_files) return Timing{0.0, 0.0, 0.0};
        return MinTime(FLAGS_repeats, [&] {
          melody::CreateDataset({input, FLAGS_scratch_dir + "/out", ""}, options);
        });
      };
      const Timing one = in_memory(1);
      const Timing one_files = to_files(1);
      const Timing many = in_memory(all_threads);
      const Timing many_files = to_files(all_threads);
      std::printf("%-14s %8zu %7.1f %8.3f %8.3f %6.0fx %9.3f %8.3f %6.0fx %9.3f\n",
                  config_id.c_str(), examples, reference, one.wall, one.cpu,
                  reference / one.wall, one_files.wall, many.wall, reference / many.wall,
                  many_files.wall);
      results.push_back({{"config", config_id},
                         {"examples", examples},
                         {"reference_seconds", reference},
                         {"seconds_1_thread", one.wall},
                         {"median_seconds_1_thread", one.median},
                         {"cpu_seconds_1_thread", one.cpu},
                         {"seconds_1_thread_with_files", one_files.wall},
                         {"threads", all_threads},
                         {"seconds_all_threads", many.wall},
                         {"median_seconds_all_threads", many.median},
                         {"seconds_all_threads_with_files", many_files.wall},
                         {"speedup_1_thread", reference / one.wall},
                         {"speedup_1_thread_cpu", reference / one.cpu},
                         {"speedup_all_threads", reference / many.wall}});
    }
    if (!melody::Dirname(FLAGS_out).empty()) melody::MakeDirectories(melody::Dirname(FLAGS_out));
    std::ofstream(FLAGS_out) << nlohmann::json{{"benchmark", "create_dataset"},
                                               {"inputs", sequences.size()},
                                               {"repeats", FLAGS_repeats},
                                               {"results", results}}
                                    .dump(2)
                             << "\n";
    std::printf("Numbers written to %s\n", FLAGS_out.c_str());
  } catch (const std::exception& e) {
    std::cerr << "create_dataset_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
