#include "core/cublas_library.h"

#if MELODY_HAVE_CUDA
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <atomic>
#include <string>

#include "core/error.h"

namespace melody {
namespace {

#define MELODY_STRINGIFY_VALUE(x) #x
#define MELODY_STRINGIFY(x) MELODY_STRINGIFY_VALUE(x)
constexpr const char* kCublasSoname = "libcublas.so." MELODY_STRINGIFY(CUBLAS_VER_MAJOR);

std::atomic<bool> g_loaded{false};

// The directory (with a trailing '/') of the shared object that holds cudaGetDeviceCount,
// or "" when it cannot be told (e.g. a static cudart).
std::string CudartDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cudaGetDeviceCount), &info) == 0 || !info.dli_fname)
    return "";
  const std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

void* OpenCublas() {
  void* handle = dlopen(kCublasSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle) return handle;
  const std::string first_error = dlerror();
  const std::string dir = CudartDirectory();
  if (!dir.empty()) {
    handle = dlopen((dir + kCublasSoname).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) return handle;
  }
  MELODY_FAIL() << "cannot load cuBLAS (" << kCublasSoname << "): " << first_error
                << (dir.empty() ? "" : "; also not found in " + dir)
                << " (install the CUDA toolkit's cuBLAS or add its directory to "
                   "LD_LIBRARY_PATH)";
}

template <typename Fn>
void Resolve(void* handle, const char* name, Fn* out) {
  void* symbol = dlsym(handle, name);
  MELODY_REQUIRE(symbol != nullptr)
      << "cuBLAS (" << kCublasSoname << ") has no entry point " << name;
  *out = reinterpret_cast<Fn>(symbol);
}

CublasLibrary Load() {
  void* handle = OpenCublas();
  CublasLibrary lib;
  Resolve(handle, "cublasCreate_v2", &lib.create);
  Resolve(handle, "cublasDestroy_v2", &lib.destroy);
  Resolve(handle, "cublasSetStream_v2", &lib.set_stream);
  Resolve(handle, "cublasSetMathMode", &lib.set_math_mode);
  Resolve(handle, "cublasSgemm_v2", &lib.sgemm);
  g_loaded = true;
  return lib;  // the handle stays open for the life of the process
}

}  // namespace

const CublasLibrary& Cublas() {
  // A failed load throws out of the initializer, so a later call tries again.
  static const CublasLibrary library = Load();
  return library;
}

bool CublasLoaded() { return g_loaded; }

}  // namespace melody
#endif  // MELODY_HAVE_CUDA
