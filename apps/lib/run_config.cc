#include "apps/lib/run_config.h"

#include <nlohmann/json.hpp>

#include "apps/lib/hparams_json.h"
#include "core/error.h"
#include "core/file_util.h"

namespace melody {

namespace {

constexpr const char* kFormatName = "melody_rnn run config";
constexpr int kFormatVersion = 1;

// The config a selection names, before any --hparams (the types of its hparams are the
// schema of the stored values).
MelodyRnnConfig SelectedConfig(const RunConfig& run) {
  ConfigFlags flags;
  flags.config = run.config;
  flags.melody_encoder_decoder = run.melody_encoder_decoder;
  flags.generator_id = run.generator_id;
  flags.generator_description = run.generator_description;
  return MelodyRnnConfigFromFlags(flags);
}

std::string GetString(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].get<std::string>();
}

}  // namespace

std::string RunConfigPath(const std::string& train_dir) {
  return JoinPath(train_dir, "run_config.json");
}

bool IsShapeAffectingHParam(const std::string& name) {
  return name == "rnn_layer_sizes" || name == "attn_length" || name == "residual_connections";
}

RunConfig RunConfigOf(const ConfigFlags& flags, const MelodyRnnConfig& config) {
  RunConfig run;
  run.config = flags.config;
  run.melody_encoder_decoder = flags.melody_encoder_decoder;
  run.generator_id = flags.generator_id;
  run.generator_description = flags.generator_description;
  run.hparams = config.hparams;
  return run;
}

RunConfig UpdatedRunConfig(const std::optional<RunConfig>& stored, const ConfigFlags& flags,
                           const MelodyRnnConfig& resolved) {
  RunConfig run = RunConfigOf(flags, resolved);
  if (stored && flags.config.empty() && flags.melody_encoder_decoder.empty()) {
    run.config = stored->config;
    run.melody_encoder_decoder = stored->melody_encoder_decoder;
  }
  if (stored && run.generator_id.empty()) run.generator_id = stored->generator_id;
  if (stored && !run.generator_description)
    run.generator_description = stored->generator_description;
  return run;
}

void WriteRunConfig(const std::string& train_dir, const RunConfig& run) {
  nlohmann::ordered_json j;
  j["format"] = kFormatName;
  j["version"] = kFormatVersion;
  j["config"] = run.config;
  j["melody_encoder_decoder"] = run.melody_encoder_decoder;
  j["generator_id"] = run.generator_id;
  if (run.generator_description) j["generator_description"] = *run.generator_description;
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  for (const auto& [name, value] : run.hparams.entries()) h[name] = HParamToJson(value);
  j["hparams"] = h;
  WriteFileAtomically(RunConfigPath(train_dir), j.dump(2) + "\n");
}

std::optional<RunConfig> ReadRunConfig(const std::string& train_dir) {
  const std::string path = RunConfigPath(train_dir);
  if (!PathExists(path)) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ReadFileToString(path));
  } catch (const nlohmann::json::exception& e) {
    MELODY_FAIL() << path << ": not a valid run config (" << e.what() << ")";
  }
  try {
    MELODY_REQUIRE(j.is_object() && j.value("format", "") == kFormatName)
        << path << ": not a melody_rnn run config (no \"format\": \"" << kFormatName << "\")";
    MELODY_REQUIRE(j.value("version", 0) == kFormatVersion)
        << path << ": run config version " << j.value("version", 0)
        << " is not supported (this build reads version " << kFormatVersion << ")";
    RunConfig run;
    run.config = GetString(j, "config");
    run.melody_encoder_decoder = GetString(j, "melody_encoder_decoder");
    run.generator_id = GetString(j, "generator_id");
    if (j.contains("generator_description"))
      run.generator_description = GetString(j, "generator_description");
    MelodyRnnConfig selected;
    try {
      selected = SelectedConfig(run);
    } catch (const Error& e) {
      MELODY_FAIL() << path << ": " << e.what();
    }
    MELODY_REQUIRE(j.contains("hparams") && j["hparams"].is_object())
        << path << ": no \"hparams\" object";
    run.hparams = selected.hparams;
    for (const auto& [name, value] : j["hparams"].items()) {
      MELODY_REQUIRE(selected.hparams.Has(name))
          << path << ": unknown hyperparameter " << name << " for this config";
      run.hparams.Set(name, HParamFromJson(value, &selected.hparams.Get(name), path + ": hparam " + name));
    }
    return run;
  } catch (const nlohmann::json::exception& e) {
    MELODY_FAIL() << path << ": malformed run config (" << e.what() << ")";
  }
}

MelodyRnnConfig ResolveRunConfig(const std::optional<RunConfig>& stored,
                                 const ConfigFlags& flags, const std::string& what) {
  if (!stored) return MelodyRnnConfigFromFlags(flags);
  const bool selects = !flags.config.empty() || !flags.melody_encoder_decoder.empty();
  if (selects && (flags.config != stored->config ||
                  flags.melody_encoder_decoder != stored->melody_encoder_decoder)) {
    auto describe = [](const std::string& config, const std::string& encoder) {
      return config.empty() ? "--melody_encoder_decoder=" + encoder : "--config=" + config;
    };
    MELODY_FAIL() << describe(flags.config, flags.melody_encoder_decoder)
                  << " contradicts the run directory's "
                  << describe(stored->config, stored->melody_encoder_decoder) << " (" << what
                  << ")";
  }
  ConfigFlags effective = flags;
  effective.config = stored->config;
  effective.melody_encoder_decoder = stored->melody_encoder_decoder;
  if (effective.generator_id.empty()) effective.generator_id = stored->generator_id;
  if (!effective.generator_description)
    effective.generator_description = stored->generator_description;
  // Validates flags.hparams with the reference's rules and messages for this selection.
  MelodyRnnConfig config = MelodyRnnConfigFromFlags(effective);
  // Stored values first, then the user's assignments on top.
  for (const auto& [name, value] : stored->hparams.entries()) config.hparams.Set(name, value);
  if (!flags.hparams.empty() && effective.melody_encoder_decoder.empty())
    config.hparams.Parse(flags.hparams);
  for (const auto& [name, value] : stored->hparams.entries()) {
    if (!IsShapeAffectingHParam(name)) continue;
    const HParamValue& now = config.hparams.Get(name);
    if (!(now == value))
      MELODY_FAIL() << "--hparams sets " << name << "=" << now.PythonRepr()
                    << " but the run directory was trained with " << name << "="
                    << value.PythonRepr() << " (" << what
                    << "); use a new --run_dir for a different model shape";
  }
  return config;
}

}  // namespace melody
