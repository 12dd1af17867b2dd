// Temporary files that must not outlive the process: a process-wide registry of their
// paths (AtomicFileWriter adds each "<path>.tmp.<pid>.<n>" while it exists), a cleanup
// that a signal handler may call, the SIGINT/SIGTERM/SIGHUP handlers of the data tools,
// and the sweep that removes the temporary files a killed run left behind
// (issue 11, points 3-4; the tools are data-pipeline.md §6-§7).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace melody {

// ---- the registry ------------------------------------------------------------------

// Registers `path` (made absolute with the current directory) for removal by
// RemoveRegisteredTempFiles(). Returns a handle for UnregisterTempFile, or -1 when the
// path cannot be registered (longer than kMaxRegisteredPathBytes, or all
// kMaxRegisteredTempFiles slots in use); such a file is then only removed by its owner
// or by a later RemoveStaleTempFiles(). Thread-safe, lock-free.
int RegisterTempFile(const std::string& path);
// Forgets the registration (not the file). A handle of -1 is ignored. Thread-safe.
void UnregisterTempFile(int handle);

// Unlinks every registered path and returns how many unlink() calls succeeded.
// Async-signal-safe: fixed storage, atomics and unlink() only, so a signal handler of
// another tool (e.g. the trainer's) can call it. Registrations stay valid.
int RemoveRegisteredTempFiles();

constexpr int kMaxRegisteredTempFiles = 128;
constexpr int kMaxRegisteredPathBytes = 4095;

// ---- signal handlers for the data tools --------------------------------------------

// Installs handlers for SIGINT, SIGTERM and SIGHUP that call RemoveRegisteredTempFiles()
// and then re-raise the signal with its default action, so the process ends "killed by
// the signal" (a shell shows exit status 128 + signal number). Call once, early in main.
void InstallTempFileCleanupOnSignals();

// ---- names of temporary files, and the stale-file sweep ----------------------------

// "<path>.tmp.<pid>.<counter>", the name AtomicFileWriter writes to.
std::string TempFileName(const std::string& path, pid_t pid, unsigned long counter);

// TempFileName(path, this process, n) with n from a process-wide counter: a name no
// other writer of this process uses.
std::string NewTempFileName(const std::string& path);

// If `name` (a directory entry, no '/') is TempFileName(<base>, pid, n) for the file name
// `base`, sets *pid and returns true.
bool ParseTempFileName(const std::string& name, const std::string& base, pid_t* pid);

// Removes the temporary files of `path` ("<path>.tmp.<pid>.<n>" beside it) that no
// running writer owns: the pid is not this process and not a live process, and no one
// holds the advisory lock AtomicFileWriter keeps on its open file. Returns the removed
// paths. Errors (an unlistable directory) are not reported: this is tidying up.
std::vector<std::string> RemoveStaleTempFiles(const std::string& path);

}  // namespace melody
