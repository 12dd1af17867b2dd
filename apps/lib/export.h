// melody_rnn_export: a trained model (a run directory's latest checkpoint, a checkpoint
// prefix or a .mag bundle, loaded exactly as melody_rnn_generate loads it) written in
// another framework's format. --format=tfjs writes a magenta.js MusicRNN checkpoint
// directory (apps/lib/tfjs_weights.h, apps/lib/tfjs_config.h; shared/spec/formats.md §11):
// weights_manifest.json, group1-shard<i>of<n>.bin (at most 4 MiB each) and config.json,
// holding the model's variables only (no Adam slots, global_step or beta powers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/lib/generate_model.h"
#include "apps/lib/tfjs_weights.h"
#include "models/melody_rnn_config.h"

namespace melody {

struct ExportOptions {
  ModelSource source;  // exactly one of run_dir, checkpoint_file, bundle_file
  ConfigFlags config;  // --config / --hparams, as for melody_rnn_generate
  std::string format = "tfjs";
  std::string output_dir;
  std::string quantize = "none";  // none | float16 | uint8
  int64_t shard_bytes = kTfjsDefaultShardBytes;
};

struct ExportReport {
  std::vector<std::string> files;  // paths written, manifest last
  int64_t num_tensors = 0;
  int64_t num_parameters = 0;
  std::vector<std::string> magenta_js_problems;  // why magenta.js cannot run it (logged)
};

// Throws melody::Error naming the flag for bad options, and the file for bad input; the
// output files are replaced together (CommitTogether), the manifest last.
ExportReport RunExport(const ExportOptions& options);

// Writes `model` as a TF.js MusicRNN checkpoint into `output_dir` (created).
ExportReport WriteTfjsExport(const GeneratorModel& model, const std::string& output_dir,
                             TfjsQuantization quantization,
                             int64_t shard_bytes = kTfjsDefaultShardBytes);

}  // namespace melody
