// NoteSequence -> Standard MIDI File bytes, as the reference writes generated melodies
// (pretty_midi + mido, shared/spec/formats.md §10).
#pragma once

#include <string>

#include "music.pb.h"

namespace melody {

std::string NoteSequenceToMidi(const magenta::NoteSequence& sequence);

}  // namespace melody
