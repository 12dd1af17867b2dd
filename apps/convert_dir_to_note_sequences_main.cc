// convert_dir_to_note_sequences: converts a folder of MIDI files into a TFRecord of NoteSequences.
// Flags and work: apps/lib/convert_dir_to_note_sequences.cc (ConvertDirToNoteSequencesMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::ConvertDirToNoteSequencesMain(argc, argv); }
