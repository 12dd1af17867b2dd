#include "apps/lib/generate_run.h"

#include <glob.h>
#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <dirent.h>
#include <map>
#include <random>

#include "apps/lib/device_select.h"
#include "apps/lib/generate_beam_search.h"
#include "apps/lib/generate_bundle.h"
#include "apps/lib/generate_score.h"
#include "core/error.h"
#include "core/file_util.h"
#include "data/melody_squash.h"
#include "data/midi_writer.h"

namespace melody {

namespace {

bool IsMidiName(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    if (name.size() < e.size()) return false;
    std::string tail = name.substr(name.size() - e.size());
    std::transform(tail.begin(), tail.end(), tail.begin(), ::tolower);
    return tail == e;
  };
  return ends(".mid") || ends(".midi");
}

std::vector<std::string> MidiFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = opendir(dir.c_str());
  MELODY_REQUIRE(d != nullptr) << "--primer_midi " << dir << ": cannot list the directory";
  while (dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    const std::string path = JoinPath(dir, name);
    if (IsMidiName(name) && !IsDirectory(path)) files.push_back(path);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> GlobMidiFiles(const std::string& pattern) {
  glob_t g{};
  const int rc = glob(pattern.c_str(), 0, nullptr, &g);
  std::vector<std::string> files;
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (!IsDirectory(g.gl_pathv[i])) files.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  std::sort(files.begin(), files.end());
  return files;
}

std::string StemOf(const std::string& path) {
  std::string base = Basename(path);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base;
}

// transpose(-amount) into [0, 128) with octave folding (§5, the way back).
void TransposeBack(std::vector<int>* events, int amount) {
  for (int& e : *events) {
    if (e < 0) continue;
    int p = e - amount;
    if (p < 0) p = ((p % 12) + 12) % 12;
    if (p >= 128) p = 128 - 12 + (p - 128) % 12;
    e = p;
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

std::vector<PrimerInput> CollectPrimers(const GenerateFlags& f) {
  const double qpm = f.qpm && *f.qpm != 0 ? *f.qpm : 120.0;
  if (!f.primer_melody.empty())
    return {PrimerFromEvents(ParsePrimerMelodyText(f.primer_melody), qpm)};
  if (f.primer_midi.empty()) {
    LOG(WARNING) << "No priming sequence specified. Defaulting to a single middle C.";
    return {PrimerFromEvents({60}, qpm)};
  }
  const std::string path = ExpandUser(f.primer_midi);
  std::vector<std::string> files;
  bool several = false;
  if (IsDirectory(path)) {
    files = MidiFilesIn(path);
    several = true;
    MELODY_REQUIRE(!files.empty()) << "--primer_midi " << path << ": no .mid or .midi files in the directory";
  } else if (path.find_first_of("*?[") != std::string::npos && !PathExists(path)) {
    files = GlobMidiFiles(path);
    several = true;
    MELODY_REQUIRE(!files.empty()) << "--primer_midi " << path << ": the pattern matches no MIDI file";
  } else {
    MELODY_REQUIRE(PathExists(path)) << "--primer_midi " << path << ": no such file";
    files = {path};
  }
  std::vector<PrimerInput> primers;
  std::map<std::string, int> stem_count;
  for (const std::string& file : files) ++stem_count[StemOf(file)];
  for (size_t i = 0; i < files.size(); ++i) {
    PrimerInput p = PrimerFromMidiFile(files[i], qpm);
    p.name = "";
    if (several) {
      p.name = StemOf(files[i]);
      if (stem_count[p.name] > 1) p.name = std::to_string(i + 1) + "_" + p.name;
    }
    primers.push_back(std::move(p));
  }
  return primers;
}

std::string OutputFileName(const std::string& stamp, const std::string& primer_stem,
                           int64_t index, int64_t num_outputs) {
  const size_t digits = std::to_string(num_outputs).size();
  std::string number = std::to_string(index);
  number.insert(0, digits - std::min(digits, number.size()), '0');
  return stamp + "_" + (primer_stem.empty() ? "" : primer_stem + "_") + number + ".mid";
}

std::string LocalTimeStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d_%H%M%S", &local);
  return buffer;
}

GenerateReport GenerateMidiFiles(Context& ctx, const GeneratorModel& model,
                                 const std::vector<PrimerInput>& primers,
                                 const GenerateFlags& flags, const std::string& stamp) {
  const MelodyConfig& melody_config = model.config.melody;
  std::unique_ptr<MelodyEncoder> encoder = melody_config.MakeEncoder();
  // Plans and squash amounts first: every primer is checked before any generation.
  std::vector<GenerationPlan> plans;
  std::vector<int> amounts;
  std::vector<GenerationJob> jobs;
  for (size_t p = 0; p < primers.size(); ++p) {
    const std::string what = primers[p].name.empty() ? "primer" : "primer " + primers[p].name;
    plans.push_back(PlanGeneration(primers[p], flags.num_steps, what));
    std::vector<int> events = plans.back().primer.events;
    amounts.push_back(SquashMelody(&events, melody_config.min_note, melody_config.max_note,
                                   melody_config.transpose_to_key));
    for (int64_t i = 0; i < flags.num_outputs; ++i)
      jobs.push_back({events, plans.back().new_events(),
                      static_cast<uint64_t>(p * flags.num_outputs + i)});
  }
  MakeDirectories(ExpandUser(flags.output_dir));

  BeamSearchOptions options;
  options.temperature = static_cast<float>(flags.temperature);
  options.beam_size = static_cast<int>(flags.beam_size);
  options.branch_factor = static_cast<int>(flags.branch_factor);
  options.steps_per_iteration = static_cast<int>(flags.steps_per_iteration);
  options.seed = flags.seed;
  if (!model.graph_has_temperature && flags.temperature != 1.0)
    LOG(WARNING) << "The bundle's graph has no temperature input, so Magenta would ignore "
                 << "--temperature for it; it is applied here";
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  int64_t max_steps = 0;
  for (const auto& job : jobs) max_steps = std::max(max_steps, job.new_events);
  const GenerationProgress progress = [&](int64_t step, int64_t rows) {
    if (Seconds(last_report) < 5.0) return;
    last_report = std::chrono::steady_clock::now();
    const double elapsed = Seconds(start);
    const double estimate = static_cast<double>(jobs.size()) * step / max_steps / elapsed;
    LOG(INFO) << "step " << step << "/" << max_steps << " (" << rows << " rows in the batch), "
              << "about " << static_cast<int64_t>(estimate) << " melodies/s";
  };
  const std::vector<GeneratedEvents> generated =
      GenerateWithBeamSearch(ctx, model.layout, model.params, *encoder, jobs, options, progress);
  GenerateReport report;
  report.generation_seconds = Seconds(start);
  report.melodies = static_cast<int64_t>(jobs.size());

  for (size_t j = 0; j < jobs.size(); ++j) {
    const size_t p = j / flags.num_outputs;
    const int64_t index = static_cast<int64_t>(j % flags.num_outputs) + 1;
    LOG(INFO) << "Beam search yields sequence with log-likelihood: "
              << std::to_string(generated[j].log_likelihood) << " ";
    Melody out = plans[p].primer;
    out.events = generated[j].events;
    TransposeBack(&out.events, amounts[p]);
    out.end_step = out.start_step + static_cast<int64_t>(out.events.size());
    const std::string path = JoinPath(ExpandUser(flags.output_dir),
                                      OutputFileName(stamp, primers[p].name, index, flags.num_outputs));
    WriteFileAtomically(path, NoteSequenceToMidi(MelodyToNoteSequence(out, plans[p].qpm)));
    report.files.push_back(path);
    report.log_likelihoods.push_back(generated[j].log_likelihood);
  }
  LOG(INFO) << "Wrote " << report.files.size() << " MIDI files to " << ExpandUser(flags.output_dir);
  if (report.generation_seconds > 0)
    LOG(INFO) << "Generated " << report.melodies << " melodies in " << report.generation_seconds
              << " s (" << static_cast<int64_t>(report.melodies / report.generation_seconds)
              << " melodies/s)";
  return report;
}

void RunGenerateTool(const GenerateFlags& input_flags) {
  GenerateFlags flags = input_flags;
  ValidateGenerateFlags(flags);
  if (!flags.seed_given) {
    flags.seed = std::random_device{}() ^ static_cast<uint64_t>(std::time(nullptr)) << 20;
    LOG(INFO) << "No --seed given; using --seed=" << flags.seed;
  }
  // Primers are read and checked before the model is loaded (so a bad primer costs nothing).
  std::vector<PrimerInput> primers;
  if (!flags.save_generator_bundle && flags.score.empty()) primers = CollectPrimers(flags);

  std::unique_ptr<Context> ctx = CreateContextForFlag(flags.device, flags.num_threads);
  const bool from_bundle = !flags.bundle_file.empty() && !flags.save_generator_bundle;
  ModelSource source{flags.run_dir, flags.checkpoint_file, flags.bundle_file, flags.tfjs_dir};
  GeneratorModel model = from_bundle
                             ? LoadGeneratorFromBundle(*ctx, ExpandUser(flags.bundle_file),
                                                       flags.config.hparams)
                             : LoadGeneratorFromCheckpoint(*ctx, source, flags.config);
  if (from_bundle && !flags.config.config.empty() && flags.config.config != model.config.melody.id)
    LOG(WARNING) << "--config=" << flags.config.config << " is ignored: the bundle is a '"
                 << model.config.melody.id << "' generator and its config is used";
  if (!from_bundle) {
    LOG(INFO) << HParamsLogLine(model.config.hparams);
    LOG(INFO) << "Checkpoint used: " << model.source.substr(std::string("checkpoint ").size());
  }
  if (flags.save_generator_bundle) {
    SaveBundleOptions options;
    options.bundle_file = flags.bundle_file;
    options.bundle_description = flags.bundle_description;
    options.has_generator_details = model.config.has_details;
    SaveGeneratorBundle(model, options);
    return;
  }
  if (!flags.score.empty()) {
    PrintLogLikelihoods(*ctx, model, ExpandUser(flags.score));
    return;
  }
  const GenerateReport report = GenerateMidiFiles(*ctx, model, primers, flags, LocalTimeStamp());
  for (const std::string& file : report.files) std::printf("%s\n", file.c_str());
}

}  // namespace melody
