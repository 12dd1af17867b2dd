// melody_rnn_export: exports a Melody RNN as a magenta.js MusicRNN checkpoint.
// Flags and work: apps/lib/melody_rnn_export.cc (MelodyRnnExportMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::MelodyRnnExportMain(argc, argv); }
