// The main function of each binary: apps/<tool>_main.cc only forwards argc/argv to it.
// Each is defined with its tool's flags in apps/lib/<tool>.cc (melody_rnn_eval's with
// melody_rnn_train's, whose flags it shares), so a binary links only its own flags.
// Returns the exit status.
#pragma once

namespace melody {

int ConvertDirToNoteSequencesMain(int argc, char** argv);
int MelodyRnnCreateDatasetMain(int argc, char** argv);
int MelodyRnnTrainMain(int argc, char** argv);
int MelodyRnnEvalMain(int argc, char** argv);
int MelodyRnnGenerateMain(int argc, char** argv);
int MelodyRnnExportMain(int argc, char** argv);

}  // namespace melody
