// CUDA twin of the fused softmax cross-entropy. Two kernels:
//   1. one warp per row: max/argmax (lowest index on ties), exp-sum, ce, gradient;
//      writes the row's ce and a status word (correct flag, or invalid label);
//   2. one block reduces the rows in a fixed order: Σ ce in double (per-thread strided
//      sums, then a shared-memory tree: deterministic), integer counts (order-free).
// The small result block is copied to the host, where an invalid label becomes an Error.
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/softmax_cross_entropy.h"

namespace melody::cuda {
namespace {

constexpr int kRowThreads = 256;  // 8 warps: 8 rows per block
constexpr int kReduceThreads = 256;
// Result layout (int64 words after the double): positions, correct, event, event_correct,
// no_event, no_event_correct, invalid, first invalid row, then label_count[C], correct_count[C].
constexpr int kFixedCounts = 8;

template <typename Label>
__global__ void RowKernel(const float* __restrict__ z, const Label* __restrict__ labels,
                          int64_t P, int C, float inv_p, float* __restrict__ dz,
                          float* __restrict__ ce, int* __restrict__ status) {
  const int lane = threadIdx.x % 32;
  const int64_t p = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  if (p >= P) return;
  const float* row = z + p * C;
  float max = -INFINITY;
  int argmax = C;
  for (int c = lane; c < C; c += 32) {
    const float v = row[c];
    if (v > max || (v == max && c < argmax)) {
      max = v;
      argmax = c;
    }
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(0xffffffffu, max, offset);
    const int other_arg = __shfl_xor_sync(0xffffffffu, argmax, offset);
    if (other > max || (other == max && other_arg < argmax)) {
      max = other;
      argmax = other_arg;
    }
  }
  float sum = 0.0f;
  for (int c = lane; c < C; c += 32) sum += expf(row[c] - max);
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  const int64_t y = static_cast<int64_t>(labels[p]);
  const bool valid = y >= 0 && y < C;
  if (dz != nullptr) {
    const float scale = inv_p / sum;
    for (int c = lane; c < C; c += 32) {
      float g = expf(row[c] - max) * scale;
      if (c == y) g -= inv_p;
      dz[p * C + c] = g;
    }
  }
  if (lane == 0) {
    ce[p] = valid ? logf(sum) - (row[y] - max) : 0.0f;
    status[p] = valid ? (argmax == y ? 1 : 0) : -1;
  }
}

template <typename Label>
__global__ void ReduceKernel(const float* __restrict__ ce, const int* __restrict__ status,
                             const Label* __restrict__ labels, int64_t P, int C,
                             int no_event_label, double* __restrict__ loss_sum,
                             unsigned long long* __restrict__ counts) {
  extern __shared__ unsigned long long shared_counts[];  // kFixedCounts + 2C
  __shared__ double partial[kReduceThreads];
  for (int i = threadIdx.x; i < kFixedCounts + 2 * C; i += blockDim.x) shared_counts[i] = 0;
  __syncthreads();
  if (threadIdx.x == 0) shared_counts[7] = static_cast<unsigned long long>(P);  // atomicMin start
  __syncthreads();
  double local = 0.0;
  for (int64_t p = threadIdx.x; p < P; p += blockDim.x) {
    local += static_cast<double>(ce[p]);
    const int s = status[p];
    if (s < 0) {
      atomicAdd(&shared_counts[6], 1ull);
      atomicMin(&shared_counts[7], static_cast<unsigned long long>(p));
      continue;
    }
    const int y = static_cast<int>(labels[p]);
    atomicAdd(&shared_counts[1], static_cast<unsigned long long>(s));
    const int kind = y == no_event_label ? 4 : 2;
    atomicAdd(&shared_counts[kind], 1ull);
    atomicAdd(&shared_counts[kind + 1], static_cast<unsigned long long>(s));
    atomicAdd(&shared_counts[kFixedCounts + y], 1ull);
    atomicAdd(&shared_counts[kFixedCounts + C + y], static_cast<unsigned long long>(s));
  }
  partial[threadIdx.x] = local;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    *loss_sum = partial[0];
    shared_counts[0] = static_cast<unsigned long long>(P);
  }
  __syncthreads();
  for (int i = threadIdx.x; i < kFixedCounts + 2 * C; i += blockDim.x) counts[i] = shared_counts[i];
}

template <typename Label>
CrossEntropyCounts Run(Context& ctx, const Tensor& logits, const Tensor& labels,
                       int no_event_label, Tensor* dlogits) {
  const int64_t P = logits.dim(0);
  const int C = static_cast<int>(logits.dim(1));
  const size_t ce_bytes = ((P * sizeof(float) + 255) / 256) * 256;
  const size_t status_bytes = ((P * sizeof(int) + 255) / 256) * 256;
  const size_t count_words = kFixedCounts + 2 * static_cast<size_t>(C);
  char* scratch = static_cast<char*>(
      ctx.Workspace(ce_bytes + status_bytes + sizeof(double) + count_words * 8));
  float* ce = reinterpret_cast<float*>(scratch);
  int* status = reinterpret_cast<int*>(scratch + ce_bytes);
  double* loss_sum = reinterpret_cast<double*>(scratch + ce_bytes + status_bytes);
  unsigned long long* counts = reinterpret_cast<unsigned long long*>(loss_sum + 1);

  const Label* label_ptr = labels.data<Label>();
  const int64_t blocks = (P * 32 + kRowThreads - 1) / kRowThreads;
  RowKernel<Label><<<static_cast<unsigned>(blocks), kRowThreads, 0, ctx.stream()>>>(
      logits.data<float>(), label_ptr, P, C, 1.0f / static_cast<float>(P),
      dlogits ? dlogits->data<float>() : nullptr, ce, status);
  MELODY_CUDA_LAUNCH_CHECK();
  ReduceKernel<Label><<<1, kReduceThreads, count_words * 8, ctx.stream()>>>(
      ce, status, label_ptr, P, C, no_event_label, loss_sum, counts);
  MELODY_CUDA_LAUNCH_CHECK();

  std::vector<unsigned long long> host(count_words + 1);
  MELODY_CUDA_CHECK(cudaMemcpyAsync(host.data(), loss_sum, (count_words + 1) * 8,
                                    cudaMemcpyDeviceToHost, ctx.stream()));
  MELODY_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
  const unsigned long long* k = host.data() + 1;
  if (k[6] != 0) {
    const int64_t row = static_cast<int64_t>(k[7]);
    Tensor bad_label = labels.Reshaped({P}).CopyTo(Device::CPU());
    MELODY_FAIL() << "SoftmaxCrossEntropy: label " << bad_label.data<Label>()[row]
                  << " at position " << row << " outside [0, " << C << ")";
  }
  CrossEntropyCounts out;
  double sum;
  static_assert(sizeof(double) == 8, "double size");
  memcpy(&sum, host.data(), 8);
  out.loss_sum = sum;
  out.num_positions = static_cast<int64_t>(k[0]);
  out.num_correct = static_cast<int64_t>(k[1]);
  out.num_event = static_cast<int64_t>(k[2]);
  out.num_event_correct = static_cast<int64_t>(k[3]);
  out.num_no_event = static_cast<int64_t>(k[4]);
  out.num_no_event_correct = static_cast<int64_t>(k[5]);
  out.label_count.assign(k + kFixedCounts, k + kFixedCounts + C);
  out.correct_count.assign(k + kFixedCounts + C, k + kFixedCounts + 2 * C);
  return out;
}

}  // namespace

CrossEntropyCounts SoftmaxCrossEntropy(Context& ctx, const Tensor& logits,
                                       const Tensor& labels, int no_event_label,
                                       Tensor* dlogits) {
  if (labels.dtype() == DType::kInt32)
    return Run<int32_t>(ctx, logits, labels, no_event_label, dlogits);
  return Run<int64_t>(ctx, logits, labels, no_event_label, dlogits);
}

}  // namespace melody::cuda
