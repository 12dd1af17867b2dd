// melody_rnn_eval: evaluates each new checkpoint of a run (melody_rnn_train --eval).
// Flags and work: apps/lib/melody_rnn_train.cc (MelodyRnnEvalMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::MelodyRnnEvalMain(argc, argv); }
