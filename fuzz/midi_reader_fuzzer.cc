// libFuzzer target: any byte string must give a NoteSequence or a MidiConversionError.
// Any other exception escapes and aborts, which libFuzzer reports as a crash; ASan/UBSan
// report memory and arithmetic errors; -rss_limit_mb and -timeout catch runaway
// allocation and hangs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/proto_util.h"
#include "data/midi_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  magenta::NoteSequence sequence;
  try {
    sequence = melody::MidiToNoteSequence(bytes);
  } catch (const melody::MidiConversionError&) {
    return 0;
  }
  // Accepted: the result must be internally consistent and serializable.
  for (const auto& note : sequence.notes())
    if (!(note.end_time() >= note.start_time()) || note.pitch() < 0 || note.pitch() > 127)
      std::abort();
  if (sequence.tempos_size() == 0) std::abort();
  melody::SerializeDeterministic(sequence);
  return 0;
}
