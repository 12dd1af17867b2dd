#include "apps/lib/device_select.h"

#include <glog/logging.h>

#include "core/device.h"
#include "core/error.h"
#include "core/host_memory.h"

namespace melody {

void CheckDeviceFlag(const std::string& device) {
  MELODY_REQUIRE(device == "cpu" || device == "cuda" || device == "auto" || device.empty())
      << "--device must be cpu, cuda or auto, got '" << device << "'";
}

std::unique_ptr<Context> CreateContextForFlag(const std::string& device, int num_threads) {
  const int threads = ResolveThreadCount(num_threads, kMaxToolThreads);
  RetainFreedHostMemory();  // every step allocates and frees the same host buffers
  if (device == "cpu") {
    LOG(INFO) << "Device: CPU, " << threads << " threads (--device=cpu)";
    return Context::CreateCpu(threads);
  }
  if (device == "cuda") {
    MELODY_REQUIRE(CudaDeviceCount() > 0) << "--device=cuda: " << CudaUnavailableReason();
    LOG(INFO) << "Device: CUDA GPU 0 (--device=cuda)";
    return Context::CreateCuda(0);
  }
  CheckDeviceFlag(device);
  if (CudaDeviceCount() > 0) {
    LOG(INFO) << "Device: CUDA GPU 0 (a GPU is present; --device=cpu to use the CPU)";
    return Context::CreateCuda(0);
  }
  LOG(INFO) << "Device: CPU, " << threads << " threads (no GPU: " << CudaUnavailableReason()
            << ")";
  return Context::CreateCpu(threads);
}

}  // namespace melody
