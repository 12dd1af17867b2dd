// melody_rnn_create_dataset: noteSequences -> training and eval SequenceExample TFRecords.
// Flags and work: apps/lib/melody_rnn_create_dataset.cc (MelodyRnnCreateDatasetMain).
#include "apps/lib/tool_mains.h"

int main(int argc, char** argv) { return melody::MelodyRnnCreateDatasetMain(argc, argv); }
