// CUDA twin of kernels/gather_rows.h: row gather/scatter and in-place add (one thread per
// element; row indices are trusted to be in range here: the model builds them with
// ValidPositionRows).
#include "kernels/cuda/common.cuh"
#include "kernels/gather_rows.h"

namespace melody::cuda {
namespace {

template <typename T>
__global__ void GatherKernel(const T* __restrict__ x, const int32_t* __restrict__ rows,
                             int64_t picked, int64_t features, T* __restrict__ out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= picked * features) return;
  const int64_t p = i / features, f = i % features;
  out[i] = x[static_cast<int64_t>(rows[p]) * features + f];
}

__global__ void ScatterKernel(const float* __restrict__ src, const int32_t* __restrict__ rows,
                              int64_t picked, int64_t features, float* __restrict__ out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= picked * features) return;
  const int64_t p = i / features, f = i % features;
  out[static_cast<int64_t>(rows[p]) * features + f] = src[i];
}

__global__ void AddKernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __fadd_rn(y[i], x[i]);
}

}  // namespace

void GatherRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& x,
                const Tensor& rows, Tensor* out) {
  const int64_t n = d.picked * d.features;
  if (n == 0) return;
  // Rows are moved as raw words: 8-byte elements (int64) or 4-byte ones (float32, int32).
  if (DTypeSize(x.dtype()) == 8) {
    GatherKernel<int64_t><<<GridFor(n), kBlockThreads, 0, ctx.stream()>>>(
        static_cast<const int64_t*>(x.raw_data()), rows.data<int32_t>(), d.picked, d.features,
        static_cast<int64_t*>(out->raw_data()));
  } else {
    GatherKernel<uint32_t><<<GridFor(n), kBlockThreads, 0, ctx.stream()>>>(
        static_cast<const uint32_t*>(x.raw_data()), rows.data<int32_t>(), d.picked, d.features,
        static_cast<uint32_t*>(out->raw_data()));
  }
  MELODY_CUDA_LAUNCH_CHECK();
}

void ScatterRows(Context& ctx, const internal::RowGatherDims& d, const Tensor& src,
                 const Tensor& rows, Tensor* out) {
  ZeroFill(ctx.stream(), out->raw_data(), out->nbytes());
  const int64_t n = d.picked * d.features;
  if (n == 0) return;
  ScatterKernel<<<GridFor(n), kBlockThreads, 0, ctx.stream()>>>(
      src.data<float>(), rows.data<int32_t>(), d.picked, d.features, out->data<float>());
  MELODY_CUDA_LAUNCH_CHECK();
}

void AddInPlace(Context& ctx, const Tensor& x, Tensor* y) {
  if (x.numel() == 0) return;
  AddKernel<<<GridFor(x.numel()), kBlockThreads, 0, ctx.stream()>>>(x.data<float>(),
                                                                    y->data<float>(), x.numel());
  MELODY_CUDA_LAUNCH_CHECK();
}

}  // namespace melody::cuda
