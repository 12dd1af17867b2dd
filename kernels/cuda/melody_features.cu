// CUDA twins of the melody feature ops, running the same __host__ __device__ loops as the
// CPU (kernels/internal/melody_features_scan.h): lookback rows are independent, one
// thread per (sequence, position); the key-melody scan is sequential in time, one thread
// per sequence. Bad events are reported per sequence through a small int array (the
// earliest bad position wins: atomicMin, an order-independent result).
#include <cstdint>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/internal/melody_features_scan.h"
#include "kernels/melody_features.h"

namespace melody::cuda {
namespace {

namespace mf = melody_features;

constexpr int kFeatureThreads = 128;
constexpr int kNoBadPosition = 0x7fffffff;

__global__ void LookbackKernel(int64_t B, int64_t T, int64_t F, const int32_t* events,
                               const int32_t* lengths, int min_note, int max_note,
                               float* features, int* bad) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= B * T) return;
  const int64_t b = idx / T;
  const int i = static_cast<int>(idx % T);
  float* row = features + idx * F;
  if (i >= lengths[b]) {
    for (int64_t k = 0; k < F; ++k) row[k] = 0.0f;
    return;
  }
  if (!mf::LookbackRow(events + b * T, i, min_note, max_note, row)) atomicMin(&bad[b], i);
}

__global__ void KeyMelodyKernel(int64_t B, int64_t T, int64_t F, const int32_t* events,
                                const int32_t* lengths, int min_note, int max_note,
                                float* features, int* bad) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const int first_bad = mf::KeyMelodySequence(events + b * T, lengths[b], static_cast<int>(T),
                                              min_note, max_note, features + b * T * F);
  bad[b] = first_bad < 0 ? kNoBadPosition : first_bad;
}

// Runs `launch(lengths_dev, bad_dev)` and returns the per-sequence bad positions.
template <typename Launch>
std::vector<int> RunWithStatus(Context& ctx, const std::vector<int32_t>& lengths,
                               const Launch& launch) {
  const int64_t B = static_cast<int64_t>(lengths.size());
  std::vector<int> bad(B, kNoBadPosition);
  if (B == 0) return {};
  Tensor lengths_dev({B}, DType::kInt32, ctx.device());
  Tensor bad_dev({B}, DType::kInt32, ctx.device());
  MELODY_CUDA_CHECK(cudaMemcpyAsync(lengths_dev.raw_data(), lengths.data(), B * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, ctx.stream()));
  MELODY_CUDA_CHECK(cudaMemcpyAsync(bad_dev.raw_data(), bad.data(), B * sizeof(int),
                                    cudaMemcpyHostToDevice, ctx.stream()));
  launch(lengths_dev.data<int32_t>(), bad_dev.data<int32_t>());
  MELODY_CUDA_CHECK(cudaMemcpyAsync(bad.data(), bad_dev.raw_data(), B * sizeof(int),
                                    cudaMemcpyDeviceToHost, ctx.stream()));
  ctx.Synchronize();
  for (int& p : bad) p = p == kNoBadPosition ? -1 : p;
  return bad;
}

}  // namespace

std::vector<int> LookbackFeatures(Context& ctx, const Tensor& events,
                                  const std::vector<int32_t>& lengths, int min_note,
                                  int max_note, Tensor* features) {
  const int64_t B = events.dim(0), T = events.dim(1), F = features->dim(2);
  return RunWithStatus(ctx, lengths, [&](const int32_t* len, int* bad) {
    if (B * T == 0) return;
    LookbackKernel<<<GridFor(B * T, kFeatureThreads), kFeatureThreads, 0, ctx.stream()>>>(
        B, T, F, events.data<int32_t>(), len, min_note, max_note, features->data<float>(), bad);
    MELODY_CUDA_LAUNCH_CHECK();
  });
}

std::vector<int> KeyMelodyFeatures(Context& ctx, const Tensor& events,
                                   const std::vector<int32_t>& lengths, int min_note,
                                   int max_note, Tensor* features) {
  const int64_t B = events.dim(0), T = events.dim(1), F = features->dim(2);
  return RunWithStatus(ctx, lengths, [&](const int32_t* len, int* bad) {
    KeyMelodyKernel<<<GridFor(B, kFeatureThreads), kFeatureThreads, 0, ctx.stream()>>>(
        B, T, F, events.data<int32_t>(), len, min_note, max_note, features->data<float>(), bad);
    MELODY_CUDA_LAUNCH_CHECK();
  });
}

}  // namespace melody::cuda
