// melody_rnn_generate: generates melodies (or scores them, or writes a bundle).
// Flags and work: apps/lib/melody_rnn_generate.cc (MelodyRnnGenerateMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::MelodyRnnGenerateMain(argc, argv); }
