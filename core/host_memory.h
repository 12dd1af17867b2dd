// Host memory policy of the model tools (training, evaluation, generation).
#pragma once

namespace melody {

// Keeps memory the process frees for its own reuse instead of handing it back to the
// kernel at once. The model tools allocate and free the same large host buffers at every
// step (activations, attention windows and their keys, gathered beam states). With glibc's
// defaults a freed buffer above the mmap threshold, or at the top of the heap beyond the
// trim threshold, goes back to the kernel and returns as fresh zero-filled pages: page
// faults were 23% of a 10-output beam-search run. Raises both thresholds (mmap to glibc's
// maximum, 32 MiB; trim to 512 MiB), so the peak of one step is kept for the next;
// larger buffers are still mapped and unmapped on their own. Idempotent; does nothing
// where the C library has no mallopt.
void RetainFreedHostMemory();

}  // namespace melody
