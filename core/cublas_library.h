// cuBLAS, opened with dlopen when the first CUDA context is created instead of being
// linked. Linking it makes every process load libcublasLt (about 0.5 GB of code) at
// start: measured 0.14 s and 210 MB of resident memory before main() even when the run
// stays on the CPU, which is half of a short melody_rnn_generate run. Only the entry
// points listed here are used; call them through Cublas().
#pragma once

#if MELODY_HAVE_CUDA
#include <cublas_v2.h>

namespace melody {

struct CublasLibrary {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
};

// Loads libcublas.so.<major of the headers> on the first call (thread-safe): first by the
// loader's search path, then from the directory libcudart was loaded from. Throws
// melody::Error naming the library and the loader's message when it cannot be loaded or
// lacks an entry point; later calls return the same table.
const CublasLibrary& Cublas();

// Whether this process has loaded cuBLAS (tests: a CPU-only run must not).
bool CublasLoaded();

}  // namespace melody
#endif  // MELODY_HAVE_CUDA
