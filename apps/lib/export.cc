#include "apps/lib/export.h"

#include <dirent.h>
#include <glog/logging.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <set>

#include "apps/lib/device_select.h"
#include "apps/lib/tfjs_config.h"
#include "core/error.h"
#include "core/file_util.h"
#include "models/model_checkpoint.h"

namespace melody {

namespace {

void ValidateExportOptions(const ExportOptions& o) {
  const int sources = !o.source.run_dir.empty() + !o.source.checkpoint_file.empty() +
                      !o.source.bundle_file.empty();
  MELODY_REQUIRE(sources == 1)
      << "give exactly one of --run_dir, --checkpoint_file and --bundle_file (got " << sources
      << ")";
  MELODY_REQUIRE(o.format == "tfjs")
      << "--format must be tfjs (a magenta.js MusicRNN checkpoint), got '" << o.format << "'";
  MELODY_REQUIRE(!o.output_dir.empty()) << "--output_dir required";
  ParseTfjsQuantization(o.quantize);
}

// Shards of an earlier export into the same directory that the new manifest does not name
// (a re-export with fewer shards): removed, so the directory holds one checkpoint.
void RemoveStaleShards(const std::string& dir, const std::set<std::string>& keep) {
  static const std::regex kShardName("group[0-9]+-shard[0-9]+of[0-9]+\\.bin");
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (std::regex_match(name, kShardName) && !keep.count(name)) stale.push_back(name);
  }
  closedir(d);
  for (const std::string& name : stale) {
    const std::string path = JoinPath(dir, name);
    if (std::remove(path.c_str()) == 0) LOG(INFO) << "Removed " << path << " (an earlier export's shard)";
  }
}

}  // namespace

ExportReport WriteTfjsExport(const GeneratorModel& model, const std::string& output_dir,
                             TfjsQuantization quantization, int64_t shard_bytes) {
  TensorMap tensors;
  AddParameters(model.params, "", &tensors);  // the model's variables only
  const TfjsWeightsFiles weights = SerializeTfjsWeights(tensors, quantization, shard_bytes);

  ExportReport report;
  report.num_tensors = static_cast<int64_t>(tensors.size());
  report.num_parameters = model.layout.NumParameters();
  report.magenta_js_problems = MagentaJsIncompatibilities(model);

  MakeDirectories(output_dir);
  std::vector<std::unique_ptr<AtomicFileWriter>> writers;
  auto add = [&](const std::string& name, const std::string& bytes) {
    writers.push_back(std::make_unique<AtomicFileWriter>(JoinPath(output_dir, name)));
    writers.back()->Write(bytes);
  };
  for (const auto& [name, bytes] : weights.shards) add(name, bytes);
  add(kTfjsConfigFile, MakeTfjsConfigJson(model));
  add(kTfjsManifestFile, weights.manifest);  // last: it names the shards
  std::vector<AtomicFileWriter*> all;
  for (auto& w : writers) {
    all.push_back(w.get());
    report.files.push_back(w->path());
  }
  CommitTogether(all);
  std::set<std::string> shard_names;
  for (const auto& [name, bytes] : weights.shards) shard_names.insert(name);
  RemoveStaleShards(output_dir, shard_names);
  return report;
}

ExportReport RunExport(const ExportOptions& options) {
  ValidateExportOptions(options);
  const TfjsQuantization quantization = ParseTfjsQuantization(options.quantize);
  std::unique_ptr<Context> ctx = CreateContextForFlag("cpu", 1);
  const GeneratorModel model =
      !options.source.bundle_file.empty()
          ? LoadGeneratorFromBundle(*ctx, ExpandUser(options.source.bundle_file),
                                    options.config.hparams)
          : LoadGeneratorFromCheckpoint(*ctx, options.source, options.config);
  LOG(INFO) << "Exporting " << model.source << " (" << model.selection.Describe() << ", "
            << model.layout.NumParameters() << " parameters) to " << options.output_dir
            << " as a TF.js MusicRNN checkpoint, quantization " << options.quantize;
  ExportReport report =
      WriteTfjsExport(model, ExpandUser(options.output_dir), quantization, options.shard_bytes);
  for (const std::string& problem : report.magenta_js_problems)
    LOG(WARNING) << "magenta.js cannot run this model: " << problem;
  LOG(INFO) << "Wrote " << report.num_tensors << " tensors in " << report.files.size() - 2
            << " shard(s), config.json and weights_manifest.json";
  return report;
}

}  // namespace melody
