#include "apps/lib/generate_primer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "core/file_util.h"
#include "data/melody_extractor.h"
#include "data/melody_squash.h"
#include "data/midi_reader.h"
#include "data/quantize.h"
#include "models/hparams.h"

namespace melody {

namespace {

constexpr int kStepsPerQuarter = 4;  // the generator's fixed resolution
constexpr int kStandardPpq = 220;
constexpr int kVelocity = 100;

void SkipSpaces(const std::string& s, size_t* i) {
  while (*i < s.size() && std::isspace(static_cast<unsigned char>(s[*i]))) ++*i;
}

}  // namespace

std::vector<int> ParsePrimerMelodyText(const std::string& text) {
  size_t i = 0;
  SkipSpaces(text, &i);
  MELODY_REQUIRE(i < text.size() && (text[i] == '[' || text[i] == '('))
      << "--primer_melody: expected a list of melody events such as \"[60, -2, 62, -1]\", got \""
      << text << "\"";
  const char close = text[i] == '[' ? ']' : ')';
  ++i;
  std::vector<int> events;
  while (true) {
    SkipSpaces(text, &i);
    MELODY_REQUIRE(i < text.size()) << "--primer_melody: missing '" << close << "' in \"" << text << "\"";
    if (text[i] == close) {
      ++i;
      break;
    }
    // An optionally signed decimal integer.
    size_t start = i;
    if (text[i] == '-' || text[i] == '+') ++i;
    SkipSpaces(text, &i);
    size_t digits = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    MELODY_REQUIRE(i > digits)
        << "--primer_melody: expected an integer at position " << start << " of \"" << text << "\"";
    std::string number = text.substr(digits, i - digits);
    long value = number.size() > 6 ? 1000000 : std::strtol(number.c_str(), nullptr, 10);
    if (text[start] == '-') value = -value;
    MELODY_REQUIRE(value >= kMelodyMinEvent && value <= kMelodyMaxEvent)
        << "--primer_melody: Melody event out of range: " << (number.size() > 6 ? text.substr(start, i - start) : std::to_string(value))
        << " (events are -2 = hold, -1 = note off, 0..127 = note on)";
    events.push_back(static_cast<int>(value));
    SkipSpaces(text, &i);
    MELODY_REQUIRE(i < text.size()) << "--primer_melody: missing '" << close << "' in \"" << text << "\"";
    if (text[i] == ',') {
      ++i;
    } else {
      MELODY_REQUIRE(text[i] == close)
          << "--primer_melody: expected ',' or '" << close << "' at position " << i << " of \""
          << text << "\"";
    }
  }
  SkipSpaces(text, &i);
  MELODY_REQUIRE(i == text.size())
      << "--primer_melody: unexpected text after the list in \"" << text << "\"";
  return events;
}

magenta::NoteSequence MelodyToNoteSequence(const Melody& melody, double qpm) {
  const double seconds_per_step = 60.0 / qpm / melody.steps_per_quarter;
  magenta::NoteSequence sequence;
  sequence.add_tempos()->set_qpm(qpm);
  sequence.set_ticks_per_quarter(kStandardPpq);
  const double start_time = static_cast<double>(melody.start_step) * seconds_per_step;
  magenta::NoteSequence::Note* open = nullptr;
  for (size_t step = 0; step < melody.events.size(); ++step) {
    const int event = melody.events[step];
    const double time = static_cast<double>(step) * seconds_per_step + start_time;
    if (event >= 0) {
      if (open) open->set_end_time(time);
      open = sequence.add_notes();
      open->set_pitch(event);
      open->set_start_time(time);
      open->set_velocity(kVelocity);
    } else if (event == kMelodyNoteOff && open) {
      open->set_end_time(time);
      open = nullptr;
    }
  }
  if (open)
    open->set_end_time(static_cast<double>(melody.events.size()) * seconds_per_step + start_time);
  if (sequence.notes_size() > 0)
    sequence.set_total_time(sequence.notes(sequence.notes_size() - 1).end_time());
  return sequence;
}

PrimerInput PrimerFromEvents(const std::vector<int>& events, double qpm) {
  PrimerInput primer;
  primer.qpm = qpm;
  primer.sequence = MelodyToNoteSequence(Melody::FromEvents(events), qpm);
  return primer;
}

PrimerInput PrimerFromMidiFile(const std::string& path, double qpm) {
  PrimerInput primer;
  try {
    primer.sequence = MidiToNoteSequence(ReadFileToString(path));
  } catch (const std::exception& e) {
    MELODY_FAIL() << "--primer_midi " << path << ": " << e.what();
  }
  primer.qpm = qpm;
  if (primer.sequence.tempos_size() > 0 && primer.sequence.tempos(0).qpm() != 0)
    primer.qpm = primer.sequence.tempos(0).qpm();
  primer.name = path;
  return primer;
}

GenerationPlan PlanGeneration(const PrimerInput& primer, int64_t num_steps,
                              const std::string& what) {
  const magenta::NoteSequence& sequence = primer.sequence;
  // The CLI's request, in seconds (generation.md §3.4), with the reference's expressions.
  const double seconds_per_step = 60.0 / primer.qpm / kStepsPerQuarter;
  const double total_seconds = static_cast<double>(num_steps) * seconds_per_step;
  double last_end_time = 0;
  for (const auto& note : sequence.notes()) last_end_time = std::max(last_end_time, note.end_time());
  const double start_time = last_end_time + seconds_per_step;
  const double end_time = total_seconds;
  if (start_time >= end_time) {
    // The reference formats the two seconds values with Python's repr.
    throw PrimerTooLongError(what + ": Priming sequence is longer than the total number of steps "
                             "requested: Priming sequence length: " + PythonFloatRepr(start_time) +
                             ", Generation length requested: " + PythonFloatRepr(total_seconds));
  }

  // The generator's side (§4): tempo of the sequence itself, quantization, extraction.
  GenerationPlan plan;
  plan.qpm = sequence.tempos_size() > 0 ? sequence.tempos(0).qpm() : 120.0;
  const double steps_per_second = kStepsPerQuarter * plan.qpm / 60.0;
  magenta::NoteSequence quantized;
  try {
    quantized = QuantizeNoteSequence(sequence, kStepsPerQuarter);
  } catch (const std::exception& e) {
    MELODY_FAIL() << what << ": the primer cannot be quantized: " << e.what();
  }
  MelodyExtractorOptions options;
  options.search_start_step = 0;
  options.min_bars = 0;
  options.max_steps_truncate = std::nullopt;
  options.min_unique_pitches = 1;
  options.gap_bars = std::numeric_limits<double>::infinity();
  options.ignore_polyphonic_notes = true;
  options.pad_end = false;
  options.filter_drums = true;
  Statistics stats;
  std::vector<Melody> melodies;
  try {
    melodies = ExtractMelodies(quantized, options, &stats);
  } catch (const std::exception& e) {
    MELODY_FAIL() << what << ": no melody can be taken from the primer: " << e.what();
  }
  MELODY_REQUIRE(melodies.size() <= 1)
      << what << ": the primer has notes in " << melodies.size()
      << " instruments; a primer must be one melody (one non-drum instrument)";

  const int64_t start_step = static_cast<int64_t>(start_time * steps_per_second + 1.0);
  const int64_t end_step = static_cast<int64_t>(end_time * steps_per_second + 0.0);
  if (!melodies.empty()) {
    plan.primer = melodies[0];
  } else {
    plan.primer.start_step = std::max<int64_t>(0, start_step - 1);
    plan.primer.end_step = plan.primer.start_step;
    plan.primer.steps_per_bar = static_cast<int>(StepsPerBar(quantized));
    plan.primer.steps_per_quarter = kStepsPerQuarter;
  }
  plan.primer.SetLength(start_step - plan.primer.start_step);
  plan.total_steps = end_step - plan.primer.start_step;
  MELODY_REQUIRE(!plan.primer.empty()) << what << ": primer sequence must have non-zero length";
  MELODY_REQUIRE(static_cast<int64_t>(plan.primer.size()) < plan.total_steps)
      << what << ": primer sequence must be shorter than `num_steps` (the primer fills "
      << plan.primer.size() << " of the " << plan.total_steps << " steps)";
  return plan;
}

}  // namespace melody
