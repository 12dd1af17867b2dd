// Deterministic row/column kernels of kernels/cuda/dense_cuda_util.h.
#include "kernels/cuda/dense_cuda_util.h"

namespace melody::cuda {
namespace {

__global__ void ColumnSumsKernel(const float* a, int64_t rows, int64_t cols, float* out,
                                 bool accumulate) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  float sum = 0.0f;
  for (int64_t r = 0; r < rows; ++r) sum += a[r * cols + j];  // coalesced across threads
  out[j] = (accumulate ? out[j] : 0.0f) + sum;
}

__global__ void BroadcastRowsKernel(const float* v, int64_t rows, int64_t cols, float* y) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * cols) return;
  y[i] = v[i % cols];
}

}  // namespace

void ColumnSums(cudaStream_t stream, const float* a, int64_t rows, int64_t cols, float* out,
                bool accumulate) {
  if (cols == 0) return;
  ColumnSumsKernel<<<GridFor(cols), kBlockThreads, 0, stream>>>(a, rows, cols, out, accumulate);
  MELODY_CUDA_LAUNCH_CHECK();
}

void BroadcastRows(cudaStream_t stream, const float* v, int64_t rows, int64_t cols, float* y) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  BroadcastRowsKernel<<<GridFor(n), kBlockThreads, 0, stream>>>(v, rows, cols, y);
  MELODY_CUDA_LAUNCH_CHECK();
}

}  // namespace melody::cuda
