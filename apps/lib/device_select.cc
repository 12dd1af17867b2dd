#include "apps/lib/device_select.h"

#include <glog/logging.h>

#include <algorithm>
#include <thread>

#include "core/device.h"
#include "core/error.h"

namespace melody {

int ResolveThreadCount(int num_threads) {
  MELODY_REQUIRE(num_threads >= 0 && num_threads <= kMaxToolThreads)
      << "--num_threads must be between 0 (all cores) and " << kMaxToolThreads << ", got "
      << num_threads;
  if (num_threads > 0) return num_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::unique_ptr<Context> CreateContextForFlag(const std::string& device, int num_threads) {
  const int threads = ResolveThreadCount(num_threads);
  if (device == "cpu") {
    LOG(INFO) << "Device: CPU, " << threads << " threads (--device=cpu)";
    return Context::CreateCpu(threads);
  }
  if (device == "cuda") {
    MELODY_REQUIRE(CudaDeviceCount() > 0) << "--device=cuda: " << CudaUnavailableReason();
    LOG(INFO) << "Device: CUDA GPU 0 (--device=cuda)";
    return Context::CreateCuda(0);
  }
  MELODY_REQUIRE(device.empty() || device == "auto")
      << "--device must be cpu, cuda or auto, got '" << device << "'";
  if (CudaDeviceCount() > 0) {
    LOG(INFO) << "Device: CUDA GPU 0 (a GPU is present; --device=cpu to use the CPU)";
    return Context::CreateCuda(0);
  }
  LOG(INFO) << "Device: CPU, " << threads << " threads (no GPU: " << CudaUnavailableReason()
            << ")";
  return Context::CreateCpu(threads);
}

}  // namespace melody
