// CUDA path of kernels/lstm_layer.h on the cuDNN v8 RNN API (gpu-design.md §2):
//   cudnnSetRNNDescriptor_v8(CUDNN_LSTM, unidirectional, linear input,
//     CUDNN_RNN_SINGLE_INP_BIAS, FP32 data and math, CUDNN_FMA_MATH (no TF32),
//     numLayers = 1, no projection, a zero-rate dropout descriptor (cuDNN dropout is never
//     used: ours sits between layers), CUDNN_RNN_PADDED_IO_ENABLED);
//   RNN data descriptors BATCH_MAJOR_UNPACKED = our padded [B, T, F] with per-row lengths;
//   hx = cx = NULL (zero initial state), hy = cy = NULL, dhy = dcy = NULL (no final state).
// Weights: the TF layout is converted into cuDNN's weight space on every forward
// (cudnn_lstm_weights.h, forget bias folded into cuDNN's f bias); the weight gradient
// space is zeroed, filled by cudnnRNNBackwardWeights_v8 (which adds), and mapped back onto
// dkernel / dbias with +=.
// Rows of length 0: cuDNN is given length 1 for them (it may reject 0); their output is
// zeroed after the forward and their dy is zeroed for the backward, which makes their
// contribution to every gradient exactly zero. Padded positions of y and dx are zeroed by
// a mask kernel rather than relying on cuDNN's padding fill.
#include <algorithm>
#include <memory>
#include <vector>

#include "core/cuda_check.h"
#include "core/error.h"
#include "kernels/cuda/cudnn_lstm_weights.h"
#include "kernels/lstm_cell.h"
#include "kernels/lstm_layer.h"

namespace melody::cuda {
namespace {

constexpr int kThreads = 256;

// Device buffer that only grows.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  void Reserve(size_t n) {
    if (n <= bytes) return;
    // Work queued by an earlier forward/backward may still read or write the old buffer.
    if (ptr) MELODY_CUDA_CHECK(cudaDeviceSynchronize());
    if (ptr) MELODY_CUDA_CHECK(cudaFree(ptr));
    ptr = nullptr;
    MELODY_CUDA_CHECK(cudaMalloc(&ptr, std::max<size_t>(n, 1)));
    bytes = n;
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
};

// Everything the backward needs from the forward, kept in LstmLayerCache::cuda_state.
struct CudnnLstmState {
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnDropoutDescriptor_t dropout = nullptr;
  cudnnRNNDataDescriptor_t x_desc = nullptr, y_desc = nullptr;
  cudnnTensorDescriptor_t h_desc = nullptr;  // also used as the c descriptor
  int64_t input = -1, units = -1;            // sizes the rnn descriptor was built for
  size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  cudnn_lstm::WeightOffsets offsets;
  DeviceBuffer weights, dweights, reserve, lengths_cudnn, lengths_true, dy_masked;
  std::vector<int32_t> host_cudnn_lengths;

  ~CudnnLstmState() {
    if (x_desc) cudnnDestroyRNNDataDescriptor(x_desc);
    if (y_desc) cudnnDestroyRNNDataDescriptor(y_desc);
    if (h_desc) cudnnDestroyTensorDescriptor(h_desc);
    if (rnn) cudnnDestroyRNNDescriptor(rnn);
    if (dropout) cudnnDestroyDropoutDescriptor(dropout);
  }
};

// Zeroes rows b with len[b] == 0 at t = 0 and every padded position t >= len[b] of a
// [B, T, F] array.
__global__ void MaskPaddedKernel(int64_t batch, int64_t time, int64_t features,
                                 const int32_t* lengths, float* data) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= batch * time * features) return;
  const int64_t b = i / (time * features), t = (i / features) % time;
  if (t >= lengths[b]) data[i] = 0.0f;
}

void MaskPadded(cudaStream_t stream, int64_t batch, int64_t time, int64_t features,
                const int32_t* lengths, float* data) {
  const int64_t n = batch * time * features;
  if (n == 0) return;
  MaskPaddedKernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0,
                     stream>>>(batch, time, features, lengths, data);
  MELODY_CUDA_LAUNCH_CHECK();
}

// (Re)builds the descriptors and weight-space layout for this batch; fills `st`.
void Prepare(Context& ctx, CudnnLstmState& st, int64_t batch, int64_t time, int64_t input,
             int64_t units, const std::vector<int32_t>& lengths) {
  cudnnHandle_t handle = ctx.cudnn();
  if (st.rnn == nullptr) {
    MELODY_CUDNN_CHECK(cudnnCreateRNNDescriptor(&st.rnn));
    MELODY_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&st.dropout));
    MELODY_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&st.x_desc));
    MELODY_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&st.y_desc));
    MELODY_CUDNN_CHECK(cudnnCreateTensorDescriptor(&st.h_desc));
    // Rate 0 and no state buffer: a placeholder the RNN descriptor requires.
    MELODY_CUDNN_CHECK(cudnnSetDropoutDescriptor(st.dropout, handle, 0.0f, nullptr, 0, 0));
  }
  if (st.input != input || st.units != units) {
    MELODY_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
        st.rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_SINGLE_INP_BIAS,
        CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT,
        CUDNN_FMA_MATH, static_cast<int32_t>(input), static_cast<int32_t>(units),
        static_cast<int32_t>(units), /*numLayers=*/1, st.dropout, CUDNN_RNN_PADDED_IO_ENABLED));
    MELODY_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(handle, st.rnn, &st.weight_bytes));
    st.weights.Reserve(st.weight_bytes);
    st.dweights.Reserve(st.weight_bytes);
    st.offsets = cudnn_lstm::QueryWeightOffsets(handle, st.rnn, st.weights.ptr,
                                                st.weight_bytes, input, units);
    st.input = input;
    st.units = units;
  }
  st.host_cudnn_lengths.resize(batch);
  for (int64_t b = 0; b < batch; ++b) st.host_cudnn_lengths[b] = std::max<int32_t>(lengths[b], 1);
  float fill = 0.0f;
  MELODY_CUDNN_CHECK(cudnnSetRNNDataDescriptor(
      st.x_desc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
      static_cast<int>(time), static_cast<int>(batch), static_cast<int>(input),
      st.host_cudnn_lengths.data(), &fill));
  MELODY_CUDNN_CHECK(cudnnSetRNNDataDescriptor(
      st.y_desc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
      static_cast<int>(time), static_cast<int>(batch), static_cast<int>(units),
      st.host_cudnn_lengths.data(), &fill));
  const int dims[3] = {1, static_cast<int>(batch), static_cast<int>(units)};
  const int strides[3] = {static_cast<int>(batch * units), static_cast<int>(units), 1};
  MELODY_CUDNN_CHECK(cudnnSetTensorNdDescriptor(st.h_desc, CUDNN_DATA_FLOAT, 3, dims, strides));
  MELODY_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(handle, st.rnn, CUDNN_FWD_MODE_TRAINING,
                                               st.x_desc, &st.work_bytes, &st.reserve_bytes));
  st.reserve.Reserve(st.reserve_bytes);
  // Device copies of both length vectors (synchronous: the host vectors are reused).
  const size_t len_bytes = sizeof(int32_t) * batch;
  st.lengths_cudnn.Reserve(len_bytes);
  st.lengths_true.Reserve(len_bytes);
  MELODY_CUDA_CHECK(cudaMemcpyAsync(st.lengths_cudnn.ptr, st.host_cudnn_lengths.data(), len_bytes,
                                    cudaMemcpyHostToDevice, ctx.stream()));
  MELODY_CUDA_CHECK(cudaMemcpyAsync(st.lengths_true.ptr, lengths.data(), len_bytes,
                                    cudaMemcpyHostToDevice, ctx.stream()));
  MELODY_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
}

}  // namespace

void LstmLayerForward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                      const std::vector<int32_t>& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y, LstmLayerCache* cache) {
  LstmLayerCache local;
  LstmLayerCache& cc = cache ? *cache : local;
  cc.device = ctx.device();
  cc.batch = d.batch;
  cc.time = d.time;
  cc.input = d.input;
  cc.units = d.units;
  cc.lengths = lengths;
  cc.steps = cc.lengths.empty() ? 0 : *std::max_element(cc.lengths.begin(), cc.lengths.end());
  if (cc.steps == 0) {  // nothing runs (B = 0, T = 0 or all lengths 0)
    MELODY_CUDA_CHECK(cudaMemsetAsync(y->raw_data(), 0, y->nbytes(), ctx.stream()));
    return;
  }
  if (!cc.cuda_state) cc.cuda_state = std::make_shared<CudnnLstmState>();
  auto& st = *static_cast<CudnnLstmState*>(cc.cuda_state.get());
  Prepare(ctx, st, d.batch, d.time, d.input, d.units, cc.lengths);
  cudnn_lstm::TfToCudnnDevice(ctx.stream(), st.offsets, d.input, d.units, kernel.data<float>(),
                              bias.data<float>(), kLstmForgetBias,
                              static_cast<float*>(st.weights.ptr));
  void* work = ctx.Workspace(std::max<size_t>(st.work_bytes, 1));
  MELODY_CUDNN_CHECK(cudnnRNNForward(
      ctx.cudnn(), st.rnn, CUDNN_FWD_MODE_TRAINING,
      static_cast<const int32_t*>(st.lengths_cudnn.ptr), st.x_desc, x.raw_data(), st.y_desc,
      y->raw_data(), st.h_desc, nullptr, nullptr, st.h_desc, nullptr, nullptr, st.weight_bytes,
      st.weights.ptr, st.work_bytes, work, st.reserve_bytes, st.reserve.ptr));
  MaskPadded(ctx.stream(), d.batch, d.time, d.units,
             static_cast<const int32_t*>(st.lengths_true.ptr), y->data<float>());
  // Without a caller cache the cuDNN state (weights, reserve, lengths) is freed on return
  // while the queued forward still reads it.
  if (!cache) ctx.Synchronize();
}

void LstmLayerBackward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                       const Tensor& lengths, const Tensor& kernel, const Tensor& bias,
                       const Tensor& y, const Tensor& dy, const LstmLayerCache& cache,
                       Tensor* dx, Tensor* dkernel, Tensor* dbias) {
  const char* op = "LstmLayerBackward";
  (void)lengths;  // the cache holds them
  if (cache.steps == 0) {  // nothing ran: zero dx, no weight gradient
    if (dx) MELODY_CUDA_CHECK(cudaMemsetAsync(dx->raw_data(), 0, dx->nbytes(), ctx.stream()));
    return;
  }
  MELODY_REQUIRE(cache.cuda_state && cache.input == d.input && cache.units == d.units)
      << op << ": the cache holds no cuDNN forward state for these sizes";
  auto& st = *static_cast<CudnnLstmState*>(cache.cuda_state.get());
  const size_t y_bytes = dy.nbytes();
  // dy with padded positions (and the fake step of length-0 rows) zeroed.
  st.dy_masked.Reserve(y_bytes);
  float* dy_m = static_cast<float*>(st.dy_masked.ptr);
  MELODY_CUDA_CHECK(cudaMemcpyAsync(dy_m, dy.raw_data(), y_bytes, cudaMemcpyDeviceToDevice,
                                    ctx.stream()));
  MaskPadded(ctx.stream(), d.batch, d.time, d.units,
             static_cast<const int32_t*>(st.lengths_true.ptr), dy_m);
  // cuDNN always writes dx; without a caller buffer use a temporary one.
  Tensor dx_tmp;
  float* dx_ptr = nullptr;
  if (dx) {
    dx_ptr = dx->data<float>();
  } else {
    dx_tmp = Tensor(x.shape(), DType::kFloat32, x.device());
    dx_ptr = dx_tmp.data<float>();
  }
  void* work = ctx.Workspace(std::max<size_t>(st.work_bytes, 1));
  const auto* dev_len = static_cast<const int32_t*>(st.lengths_cudnn.ptr);
  MELODY_CUDNN_CHECK(cudnnRNNBackwardData_v8(
      ctx.cudnn(), st.rnn, dev_len, st.y_desc, y.raw_data(), dy_m, st.x_desc, dx_ptr, st.h_desc,
      nullptr, nullptr, nullptr, st.h_desc, nullptr, nullptr, nullptr, st.weight_bytes,
      st.weights.ptr, st.work_bytes, work, st.reserve_bytes, st.reserve.ptr));
  if (dx)
    MaskPadded(ctx.stream(), d.batch, d.time, d.input,
               static_cast<const int32_t*>(st.lengths_true.ptr), dx_ptr);
  // cudnnRNNBackwardWeights_v8 adds into dweights: zero it first.
  MELODY_CUDA_CHECK(cudaMemsetAsync(st.dweights.ptr, 0, st.weight_bytes, ctx.stream()));
  MELODY_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(
      ctx.cudnn(), st.rnn, CUDNN_WGRAD_MODE_ADD, dev_len, st.x_desc, x.raw_data(), st.h_desc,
      nullptr, st.y_desc, y.raw_data(), st.weight_bytes, st.dweights.ptr, st.work_bytes, work,
      st.reserve_bytes, st.reserve.ptr));
  cudnn_lstm::CudnnToTfDevice(ctx.stream(), st.offsets, d.input, d.units,
                              static_cast<const float*>(st.dweights.ptr), /*forget_bias=*/0.0f,
                              /*accumulate=*/true, dkernel->data<float>(), dbias->data<float>());
  if (dx_tmp.defined()) ctx.Synchronize();  // dx_tmp is freed on return
}

}  // namespace melody::cuda
