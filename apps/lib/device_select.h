// --device for the tools: "cpu", "cuda", or "" / "auto" = the first GPU when this build and
// this machine have one, else the CPU, with a log line saying which and why.
#pragma once

#include <memory>
#include <string>

#include "core/context.h"
#include "core/parallel_for.h"

namespace melody {

// "cpu", "cuda", "auto" or "" (= auto); otherwise throws melody::Error
// "--device must be cpu, cuda or auto, got '<name>'".
void CheckDeviceFlag(const std::string& device);

// Also sets the tools' host memory policy (core/host_memory.h). Throws melody::Error for
// an unknown name (CheckDeviceFlag), or for "cuda" without a usable GPU (the reason named).
std::unique_ptr<Context> CreateContextForFlag(const std::string& device, int num_threads);

// The --num_threads bound of the training, eval and generation tools
// (core/parallel_for.h ResolveThreadCount resolves 0 = all cores).
constexpr int kMaxToolThreads = 1024;

}  // namespace melody
