// --num_threads of every tool: 0 means all cores; the tools each set their own upper bound.
#pragma once

namespace melody {

// `requested` if in [1, max_threads], all cores (at most max_threads, at least 1) for 0;
// otherwise melody::Error "--num_threads must be between 0 (all cores) and <max>, got <n>".
int ResolveThreadCount(int requested, int max_threads);

}  // namespace melody
