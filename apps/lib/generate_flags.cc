#include "apps/lib/generate_flags.h"

#include <cmath>
#include <limits>

#include "apps/lib/device_select.h"
#include "apps/lib/generate_primer.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace melody {

void ValidateWeightSource(const GenerateFlags& f) {
  const bool checkpoint = !f.run_dir.empty() || !f.checkpoint_file.empty();
  const bool bundle = !f.bundle_file.empty() && !f.save_generator_bundle;
  const bool tfjs = !f.tfjs_dir.empty();
  MELODY_REQUIRE(!tfjs || !(checkpoint || bundle))
      << "Cannot specify both tfjs_dir and bundle_file, run_dir or checkpoint_file";
  MELODY_REQUIRE(!(checkpoint && bundle))
      << "Cannot specify both bundle_file and run_dir or checkpoint_file";
  MELODY_REQUIRE(checkpoint || bundle || tfjs)
      << "Either checkpoint or bundle must be set (--run_dir, --checkpoint_file or --bundle_file)";
  if (f.save_generator_bundle)
    MELODY_REQUIRE(!f.bundle_file.empty())
        << "--save_generator_bundle needs --bundle_file (the path of the bundle to write)";
}

void ValidateGenerateFlags(const GenerateFlags& f) {
  ValidateWeightSource(f);
  if (f.save_generator_bundle) return;  // nothing is generated
  if (!f.score.empty()) return;         // scoring reads only the model and the file
  MELODY_REQUIRE(!f.output_dir.empty()) << "--output_dir required";
  MELODY_REQUIRE(f.num_outputs >= 1) << "--num_outputs must be >= 1, got " << f.num_outputs;
  MELODY_REQUIRE(f.num_outputs <= std::numeric_limits<int32_t>::max())
      << "--num_outputs is too large: " << f.num_outputs;
  MELODY_REQUIRE(f.num_steps >= 1 && f.num_steps <= 1000000)
      << "--num_steps must be between 1 and 1000000, got " << f.num_steps;
  if (f.qpm)
    MELODY_REQUIRE(std::isfinite(*f.qpm) && *f.qpm >= 0)
        << "--qpm must be a positive number (or 0 for the default 120), got " << *f.qpm;
  MELODY_REQUIRE(std::isfinite(f.temperature) && f.temperature > 0)
      << "--temperature must be > 0, got " << f.temperature
      << " (logits are divided by it; 0 gives NaN probabilities)";
  MELODY_REQUIRE(f.temperature >= 1e-4 && f.temperature <= 1e4)
      << "--temperature must be between 0.0001 and 10000, got " << f.temperature;
  MELODY_REQUIRE(f.beam_size >= 1 && f.beam_size <= 4096)
      << "--beam_size must be between 1 and 4096, got " << f.beam_size;
  MELODY_REQUIRE(f.branch_factor >= 1 && f.branch_factor <= 4096)
      << "--branch_factor must be between 1 and 4096, got " << f.branch_factor;
  MELODY_REQUIRE(f.steps_per_iteration >= 1)
      << "--steps_per_iteration must be >= 1, got " << f.steps_per_iteration;
  MELODY_REQUIRE(f.beam_size * f.branch_factor <= 65536)
      << "--beam_size x --branch_factor must be at most 65536 rows per output, got "
      << f.beam_size * f.branch_factor;
  CheckDeviceFlag(f.device);
  ResolveThreadCount(f.num_threads, kMaxToolThreads);
  if (!f.primer_melody.empty()) ParsePrimerMelodyText(f.primer_melody);
}

}  // namespace melody
