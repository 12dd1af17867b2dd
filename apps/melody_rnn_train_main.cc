// melody_rnn_train: trains a Melody RNN (with --eval, evaluates its checkpoints).
// Flags and work: apps/lib/melody_rnn_train.cc (MelodyRnnTrainMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::MelodyRnnTrainMain(argc, argv); }
