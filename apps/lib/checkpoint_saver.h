// Saving and finding training checkpoints in <run_dir>/train (shared/spec/training.md §4.1,
// §4.4): model.ckpt-<step> V2 checkpoints, the `checkpoint` state file rewritten after each
// save (so it only ever names complete checkpoints), and the reference's retention: the
// newest `num_checkpoints` are kept, plus one evicted checkpoint per
// `keep_checkpoint_every_n_hours` (TF's threshold rule), the rest deleted.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "models/model_checkpoint.h"

namespace melody {

struct CheckpointSaverOptions {
  int num_checkpoints = 10;  // 0 = keep all (nothing tracked, nothing deleted)
  double keep_checkpoint_every_n_hours = 1.0;
};

class CheckpointSaver {
 public:
  // `train_dir` as the user gave it: the state file holds absolute prefixes when it is
  // absolute and bare names (relative to the directory) otherwise, as TF writes them.
  CheckpointSaver(std::string train_dir, const CheckpointSaverOptions& options);

  // Re-seeds the retention list from the state file's entries whose files still exist
  // (with their modification times), as TF does on restart.
  void RecoverFromStateFile();

  // Removes the temporary files a killed earlier session left in the train directory
  // (a checkpoint, state file or run config being written at the moment of a kill -9):
  // "<name>.tmp.<pid>.<n>" whose writer is gone (core/temp_files.h). Returns them.
  std::vector<std::string> RemoveStaleTemporaries() const;

  // Writes model.ckpt-<global_step> (temporary files, fsync, rename), then the state file,
  // then deletes what falls off the list. Returns the checkpoint's prefix (as written in
  // the state file). Throws melody::Error (file named) on I/O failure; the previous
  // checkpoints and state file are then untouched.
  std::string Save(const TrainingCheckpoint& checkpoint, double now_seconds);

  const std::string& train_dir() const { return train_dir_; }
  // Prefixes currently tracked, oldest first (as in the state file).
  std::deque<std::string> tracked() const;

 private:
  struct Entry {
    std::string prefix;  // as written in the state file
    double time = 0;
  };
  std::string PrefixFor(int64_t step) const;
  std::string Resolve(const std::string& prefix) const;

  std::string train_dir_;
  CheckpointSaverOptions options_;
  std::deque<Entry> entries_;
  double next_preserve_time_;  // TF's "keep every n hours" threshold
};

// Where a training job starts from (training.md §4.1 step 4), checked strictly: no state
// file -> "" (fresh start); a state file naming a checkpoint -> its resolved prefix, which
// must exist ("The passed save_path is not a valid checkpoint: <path>"); an unparsable
// state file or an empty model_checkpoint_path -> melody::Error naming the file (unlike
// the reference, which starts afresh on an unparsable file and so abandons the run).
std::string CheckpointToResume(const std::string& train_dir);

// "<train_dir>/model.ckpt" (the prefix named in the reference's log lines).
std::string CheckpointBasePath(const std::string& train_dir);

}  // namespace melody
