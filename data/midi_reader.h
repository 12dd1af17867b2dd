// Standard MIDI File bytes -> NoteSequence, reproducing the reference's reader
// (mido + pretty_midi + note_seq semantics, shared/spec/data-pipeline.md §1-§4).
#pragma once

#include <string_view>

#include "core/error.h"
#include "music.pb.h"

namespace melody {

// A file the reference would reject (its MIDIConversionError). The message says what is
// wrong; callers prefix the file name.
class MidiConversionError : public Error {
 public:
  using Error::Error;
};

// Any byte string gives a NoteSequence or a MidiConversionError: never a crash, a hang or
// an allocation proportional to tick values. id, filename and collection_name stay empty.
magenta::NoteSequence MidiToNoteSequence(std::string_view bytes);

}  // namespace melody
