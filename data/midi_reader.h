// Standard MIDI File bytes -> NoteSequence, reproducing the reference's reader
// (mido + pretty_midi + note_seq semantics, shared/spec/data-pipeline.md §1-§4).
#pragma once

#include <string_view>

#include "core/error.h"
#include "data/midi_file.h"  // MidiConversionError
#include "music.pb.h"

namespace melody {

// Any byte string gives a NoteSequence or a MidiConversionError: never a crash, a hang or
// an allocation proportional to tick values. id, filename and collection_name stay empty.
magenta::NoteSequence MidiToNoteSequence(std::string_view bytes);

}  // namespace melody
