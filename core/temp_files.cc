#include "core/temp_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/file_util.h"

namespace melody {
namespace {

// One registry slot. `state` packs a generation (high bits) with the slot's kind (low
// two bits), so that a handle, which carries the generation it was given, can never
// release a slot that was released and registered again since. A slot being cleaned up
// by RemoveRegisteredTempFiles() is kClaimed: nobody may reuse (overwrite) its path
// until the cleanup is done with it.
enum SlotKind : uint64_t { kFree = 0, kFilling = 1, kLive = 2, kClaimed = 3 };
constexpr uint64_t kKindMask = 3;
constexpr uint64_t kGenerationStep = 4;

struct Slot {
  std::atomic<uint64_t> state{kFree};
  char path[kMaxRegisteredPathBytes + 1];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the signal-safe cleanup needs lock-free atomics");

// Zero-initialised static storage: nothing is allocated when a signal arrives.
std::array<Slot, kMaxRegisteredTempFiles> g_slots;

// Handles are slot + kMaxRegisteredTempFiles * (generation / kGenerationStep), kept in an
// int: generations wrap, which only matters for a handle kept across 2^24 reuses of
// one slot.
int MakeHandle(int slot, uint64_t generation) {
  const uint64_t round = (generation / kGenerationStep) % (1u << 23);
  return static_cast<int>(round * kMaxRegisteredTempFiles + slot);
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[kMaxRegisteredPathBytes + 1];
  if (!::getcwd(cwd, sizeof cwd)) return "";
  return JoinPath(cwd, path);
}

void HandleCleanupSignal(int signal_number) {
  const int saved_errno = errno;
  RemoveRegisteredTempFiles();
  // Default action, then the same signal again: it is delivered when this handler
  // returns (it is blocked while the handler runs), and ends the process as the
  // signal would have without us.
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(signal_number, &default_action, nullptr);
  ::raise(signal_number);
  errno = saved_errno;
}

bool AllDigits(const std::string& s, size_t begin, size_t end) {
  if (begin >= end) return false;
  for (size_t i = begin; i < end; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

bool ProcessIsAlive(pid_t pid) {
  if (pid <= 0) return true;  // never treat "every process" ids as dead
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// Unlinks `path` if it is a regular file nobody holds the writer's lock on.
bool RemoveIfUnlocked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool removed = false;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0)
    removed = ::unlink(path.c_str()) == 0;
  ::close(fd);
  return removed;
}

}  // namespace

int RegisterTempFile(const std::string& path) {
  const std::string absolute = Absolute(path);
  if (absolute.empty() || absolute.size() > static_cast<size_t>(kMaxRegisteredPathBytes))
    return -1;
  for (int i = 0; i < kMaxRegisteredTempFiles; ++i) {
    Slot& slot = g_slots[i];
    uint64_t state = slot.state.load(std::memory_order_relaxed);
    if ((state & kKindMask) != kFree) continue;
    const uint64_t generation = state & ~kKindMask;
    if (!slot.state.compare_exchange_strong(state, generation | kFilling,
                                            std::memory_order_acquire))
      continue;
    std::memcpy(slot.path, absolute.c_str(), absolute.size() + 1);
    slot.state.store(generation | kLive, std::memory_order_release);
    return MakeHandle(i, generation);
  }
  return -1;
}

void UnregisterTempFile(int handle) {
  if (handle < 0) return;
  Slot& slot = g_slots[handle % kMaxRegisteredTempFiles];
  const uint64_t round = static_cast<uint64_t>(handle / kMaxRegisteredTempFiles);
  uint64_t state = slot.state.load(std::memory_order_acquire);
  for (;;) {
    if ((state & ~kKindMask) / kGenerationStep % (1u << 23) != round) return;  // not ours
    const uint64_t kind = state & kKindMask;
    if (kind == kClaimed) {
      // A cleanup is reading the path; it frees the slot when done. Wait for it (it
      // only unlinks one file).
      state = slot.state.load(std::memory_order_acquire);
      continue;
    }
    if (kind != kLive) return;
    const uint64_t next_generation = (state & ~kKindMask) + kGenerationStep;
    if (slot.state.compare_exchange_weak(state, next_generation | kFree,
                                         std::memory_order_acq_rel))
      return;
  }
}

int RemoveRegisteredTempFiles() {
  int removed = 0;
  for (Slot& slot : g_slots) {
    uint64_t state = slot.state.load(std::memory_order_acquire);
    if ((state & kKindMask) != kLive) continue;
    const uint64_t generation = state & ~kKindMask;
    if (!slot.state.compare_exchange_strong(state, generation | kClaimed,
                                            std::memory_order_acquire))
      continue;
    if (::unlink(slot.path) == 0) ++removed;
    // Back to live: the owner still holds its handle and unregisters as usual.
    slot.state.store(generation | kLive, std::memory_order_release);
  }
  return removed;
}

void InstallTempFileCleanupOnSignals() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = HandleCleanupSignal;
  sigemptyset(&action.sa_mask);
  // The other two are blocked while one is handled, so the cleanup runs once.
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&action.sa_mask, s);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &action, nullptr);
}

std::string TempFileName(const std::string& path, pid_t pid, unsigned long counter) {
  return path + ".tmp." + std::to_string(pid) + "." + std::to_string(counter);
}

std::string NewTempFileName(const std::string& path) {
  static std::atomic<unsigned long> counter{0};
  return TempFileName(path, ::getpid(), counter++);
}

bool ParseTempFileName(const std::string& name, const std::string& base, pid_t* pid) {
  const std::string prefix = base + ".tmp.";
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return false;
  if (!AllDigits(name, prefix.size(), dot) || !AllDigits(name, dot + 1, name.size())) return false;
  if (dot - prefix.size() > 9) return false;  // not a pid_t
  *pid = static_cast<pid_t>(std::stol(name.substr(prefix.size(), dot - prefix.size())));
  return true;
}

std::vector<std::string> RemoveStaleTempFiles(const std::string& path) {
  std::vector<std::string> removed;
  const std::string base = Basename(path);
  if (base.empty()) return removed;
  const std::string dir = Dirname(path);
  DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
  if (!d) return removed;
  std::vector<std::string> candidates;
  while (dirent* e = ::readdir(d)) {
    pid_t pid = 0;
    const std::string name = e->d_name;
    if (ParseTempFileName(name, base, &pid) && pid != ::getpid() && !ProcessIsAlive(pid))
      candidates.push_back(JoinPath(dir, name));
  }
  ::closedir(d);
  for (const std::string& candidate : candidates)
    if (RemoveIfUnlocked(candidate)) removed.push_back(candidate);
  return removed;
}

}  // namespace melody
