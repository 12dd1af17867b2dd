#include "apps/lib/generate_score.h"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <limits>

#include "core/error.h"
#include "core/file_util.h"
#include "data/melody_extractor.h"
#include "data/melody_squash.h"
#include "data/midi_reader.h"
#include "data/quantize.h"
#include "data/sequence_example_io.h"
#include "models/melody_log_likelihood.h"

namespace melody {

namespace {

constexpr size_t kScoreBatch = 256;  // melodies per network call

std::vector<std::vector<int>> MelodiesOfMidi(const std::string& path, const std::string& bytes) {
  magenta::NoteSequence quantized;
  try {
    quantized = QuantizeNoteSequence(MidiToNoteSequence(bytes), 4);
  } catch (const std::exception& e) {
    MELODY_FAIL() << path << ": " << e.what();
  }
  MelodyExtractorOptions options;
  options.min_bars = 0;
  options.max_steps_truncate = std::nullopt;
  options.min_unique_pitches = 1;
  options.gap_bars = std::numeric_limits<double>::infinity();
  options.ignore_polyphonic_notes = true;
  Statistics stats;
  std::vector<std::vector<int>> out;
  for (const Melody& m : ExtractMelodies(quantized, options, &stats)) out.push_back(m.events);
  return out;
}

template <typename Item, typename Fn>
void InBatches(const std::vector<Item>& items, Fn score) {
  for (size_t begin = 0; begin < items.size(); begin += kScoreBatch) {
    const size_t end = std::min(items.size(), begin + kScoreBatch);
    score(std::vector<Item>(items.begin() + begin, items.begin() + end), begin);
  }
}

}  // namespace

std::vector<ScoredMelody> ScoreMelodies(Context& ctx, const GeneratorModel& model,
                                        const std::string& path) {
  std::vector<std::string> files;
  if (IsDirectory(path)) {
    DIR* d = opendir(path.c_str());
    MELODY_REQUIRE(d != nullptr) << "--score " << path << ": cannot list the directory";
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && (name.substr(name.size() - 4) == ".mid" ||
                              (name.size() > 5 && name.substr(name.size() - 5) == ".midi")))
        files.push_back(JoinPath(path, name));
    }
    closedir(d);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  std::vector<ScoredMelody> out;
  const MelodyConfig& mc = model.config.melody;
  std::unique_ptr<MelodyEncoder> encoder = mc.MakeEncoder();
  for (const std::string& file : files) {
    const std::string bytes = ReadFileToString(file);
    if (bytes.compare(0, 4, "MThd") == 0) {
      std::vector<std::vector<int>> melodies = MelodiesOfMidi(file, bytes);
      for (auto& m : melodies) SquashMelody(&m, mc.min_note, mc.max_note, mc.transpose_to_key);
      InBatches(melodies, [&](const std::vector<std::vector<int>>& batch, size_t first) {
        const std::vector<double> ll =
            MelodyLogLikelihoods(ctx, model.layout, model.params, *encoder, batch);
        for (size_t i = 0; i < batch.size(); ++i)
          out.push_back({file, static_cast<int>(first + i), static_cast<int64_t>(batch[i].size()), ll[i]});
      });
    } else {
      const std::vector<EncodedMelody> encoded =
          ReadSequenceExampleFile(file, model.layout.shape.input_size);
      InBatches(encoded, [&](const std::vector<EncodedMelody>& batch, size_t first) {
        const std::vector<double> ll = EncodedLogLikelihoods(ctx, model.layout, model.params, batch);
        for (size_t i = 0; i < batch.size(); ++i)
          out.push_back({file, static_cast<int>(first + i),
                         static_cast<int64_t>(batch[i].num_steps()) + 1, ll[i]});
      });
    }
  }
  return out;
}

void PrintLogLikelihoods(Context& ctx, const GeneratorModel& model, const std::string& path) {
  for (const ScoredMelody& s : ScoreMelodies(ctx, model, path))
    std::printf("%s\t%d\t%lld\t%.6f\n", s.file.c_str(), s.index,
                static_cast<long long>(s.events), s.log_likelihood);
}

}  // namespace melody
