#include "apps/lib/checkpoint_saver.h"

#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <set>

#include <glog/logging.h>

#include "core/error.h"
#include "core/file_util.h"
#include "core/temp_files.h"
#include "core/tf_checkpoint.h"

namespace melody {

namespace {

double FileModificationTime(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9;
}

bool IsAbsolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

}  // namespace

std::string CheckpointBasePath(const std::string& train_dir) {
  return JoinPath(train_dir, "model.ckpt");
}

CheckpointSaver::CheckpointSaver(std::string train_dir, const CheckpointSaverOptions& options)
    : train_dir_(std::move(train_dir)), options_(options) {
  MELODY_REQUIRE(options.num_checkpoints >= 0)
      << "--num_checkpoints must be >= 0 (0 keeps every checkpoint), got "
      << options.num_checkpoints;
  // TF's threshold starts one period after the saver is created (training.md §4.4).
  const auto now = std::chrono::duration<double>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  next_preserve_time_ = now + options.keep_checkpoint_every_n_hours * 3600.0;
}

std::string CheckpointSaver::PrefixFor(int64_t step) const {
  const std::string name = "model.ckpt-" + std::to_string(step);
  return IsAbsolute(train_dir_) ? JoinPath(train_dir_, name) : name;
}

std::string CheckpointSaver::Resolve(const std::string& prefix) const {
  return ResolveCheckpointPath(train_dir_, prefix);
}

std::deque<std::string> CheckpointSaver::tracked() const {
  std::deque<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.prefix);
  return out;
}

void CheckpointSaver::RecoverFromStateFile() {
  entries_.clear();
  if (options_.num_checkpoints == 0) return;
  const CheckpointStateRead read = ReadCheckpointStateFile(train_dir_);
  if (read.status != CheckpointStateRead::Status::kOk) return;
  for (const std::string& prefix : read.state.all_model_checkpoint_paths) {
    const std::string resolved = Resolve(prefix);
    if (!CheckpointV2Exists(resolved)) continue;
    entries_.push_back({prefix, FileModificationTime(resolved + ".index")});
  }
}

std::vector<std::string> CheckpointSaver::RemoveStaleTemporaries() const {
  std::set<std::string> bases;  // the file each temporary was going to become
  if (DIR* dir = opendir(train_dir_.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      const size_t tmp = name.rfind(".tmp.");
      if (tmp != std::string::npos && tmp > 0) bases.insert(name.substr(0, tmp));
    }
    closedir(dir);
  }
  std::vector<std::string> removed;
  for (const std::string& base : bases)
    for (std::string& path : RemoveStaleTempFiles(JoinPath(train_dir_, base)))
      removed.push_back(std::move(path));
  return removed;
}

std::string CheckpointSaver::Save(const TrainingCheckpoint& checkpoint, double now_seconds) {
  const std::string prefix = PrefixFor(checkpoint.global_step);
  LOG(INFO) << "Saving checkpoints for " << checkpoint.global_step << " into "
            << CheckpointBasePath(train_dir_) << ".";
  WriteCheckpointV2(Resolve(prefix), TrainingCheckpointTensors(checkpoint));

  std::vector<std::string> to_delete;
  if (options_.num_checkpoints > 0) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->prefix == prefix ? entries_.erase(it) : it + 1;
    }
    entries_.push_back({prefix, now_seconds});
    if (static_cast<int>(entries_.size()) > options_.num_checkpoints) {
      const Entry oldest = entries_.front();
      entries_.pop_front();
      if (oldest.time > next_preserve_time_) {
        next_preserve_time_ += options_.keep_checkpoint_every_n_hours * 3600.0;
      } else {
        to_delete.push_back(oldest.prefix);
      }
    }
  }
  CheckpointStateFile state;
  state.model_checkpoint_path = prefix;
  if (options_.num_checkpoints > 0) {
    for (const Entry& e : entries_) state.all_model_checkpoint_paths.push_back(e.prefix);
  } else {
    state.all_model_checkpoint_paths.push_back(prefix);
  }
  // The state file goes last: a reader following it always finds complete files.
  WriteCheckpointStateFile(train_dir_, state);
  for (const std::string& old : to_delete) DeleteCheckpointFiles(Resolve(old));
  return prefix;
}

std::string CheckpointToResume(const std::string& train_dir) {
  const CheckpointStateRead read = ReadCheckpointStateFile(train_dir);
  switch (read.status) {
    case CheckpointStateRead::Status::kMissing:
      return "";
    case CheckpointStateRead::Status::kUnparsable:
      MELODY_FAIL() << read.error
                    << " (the run's checkpoints are left as they are: repair or remove the "
                       "state file to continue)";
    case CheckpointStateRead::Status::kOk:
      break;
  }
  MELODY_REQUIRE(!read.state.model_checkpoint_path.empty())
      << "Invalid checkpoint state loaded from " << train_dir;
  const std::string prefix = ResolveCheckpointPath(train_dir, read.state.model_checkpoint_path);
  MELODY_REQUIRE(CheckpointV2Exists(prefix))
      << "The passed save_path is not a valid checkpoint: " << prefix;
  return prefix;
}

}  // namespace melody
