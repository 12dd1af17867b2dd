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

#include "core/error.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cudnn_lstm_weights.h"
#include "kernels/lstm_cell.h"
#include "kernels/lstm_layer.h"

namespace melody::cuda {
namespace {

// Everything the backward needs from the forward, kept in LstmLayerCache::cuda_state.
// Members are destroyed in reverse order: the RNN descriptor before the dropout
// descriptor it refers to.
struct CudnnLstmState {
  DropoutDescriptor dropout;
  RnnDescriptor rnn;
  RnnDataDescriptor x_desc, y_desc;
  TensorDescriptor h_desc;         // also used as the c descriptor
  int64_t input = -1, units = -1;  // sizes the rnn descriptor was built for
  size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  cudnn_lstm::WeightOffsets offsets;
  DeviceBuffer weights, dweights, reserve, lengths_cudnn, lengths_true, dy_masked;
  std::vector<int32_t> host_cudnn_lengths;
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
  MaskPaddedKernel<<<GridFor(n), kBlockThreads, 0, stream>>>(batch, time, features, lengths, data);
  MELODY_CUDA_LAUNCH_CHECK();
}

// (Re)builds the descriptors and weight-space layout for this batch; fills `st`.
void Prepare(Context& ctx, CudnnLstmState& st, int64_t batch, int64_t time, int64_t input,
             int64_t units, const std::vector<int32_t>& lengths) {
  cudnnHandle_t handle = CudnnHandle(ctx);
  if (!st.rnn) {
    st.rnn = RnnDescriptor::Create();
    st.dropout = DropoutDescriptor::Create();
    st.x_desc = RnnDataDescriptor::Create();
    st.y_desc = RnnDataDescriptor::Create();
    st.h_desc = TensorDescriptor::Create();
    // Rate 0 and no state buffer: a placeholder the RNN descriptor requires.
    MELODY_CUDNN_CHECK(cudnnSetDropoutDescriptor(st.dropout.get(), handle, 0.0f, nullptr, 0, 0));
  }
  if (st.input != input || st.units != units) {
    MELODY_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
        st.rnn.get(), CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_SINGLE_INP_BIAS,
        CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT,
        CUDNN_FMA_MATH, static_cast<int32_t>(input), static_cast<int32_t>(units),
        static_cast<int32_t>(units), /*numLayers=*/1, st.dropout.get(),
        CUDNN_RNN_PADDED_IO_ENABLED));
    MELODY_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(handle, st.rnn.get(), &st.weight_bytes));
    st.weights.Reserve(st.weight_bytes);
    st.dweights.Reserve(st.weight_bytes);
    st.offsets = cudnn_lstm::QueryWeightOffsets(handle, st.rnn.get(), st.weights.get(),
                                                st.weight_bytes, input, units);
    st.input = input;
    st.units = units;
  }
  st.host_cudnn_lengths.resize(batch);
  for (int64_t b = 0; b < batch; ++b) st.host_cudnn_lengths[b] = std::max<int32_t>(lengths[b], 1);
  float fill = 0.0f;
  MELODY_CUDNN_CHECK(cudnnSetRNNDataDescriptor(
      st.x_desc.get(), CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
      static_cast<int>(time), static_cast<int>(batch), static_cast<int>(input),
      st.host_cudnn_lengths.data(), &fill));
  MELODY_CUDNN_CHECK(cudnnSetRNNDataDescriptor(
      st.y_desc.get(), CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED,
      static_cast<int>(time), static_cast<int>(batch), static_cast<int>(units),
      st.host_cudnn_lengths.data(), &fill));
  const int dims[3] = {1, static_cast<int>(batch), static_cast<int>(units)};
  const int strides[3] = {static_cast<int>(batch * units), static_cast<int>(units), 1};
  MELODY_CUDNN_CHECK(
      cudnnSetTensorNdDescriptor(st.h_desc.get(), CUDNN_DATA_FLOAT, 3, dims, strides));
  MELODY_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(handle, st.rnn.get(), CUDNN_FWD_MODE_TRAINING,
                                               st.x_desc.get(), &st.work_bytes, &st.reserve_bytes));
  st.reserve.Reserve(st.reserve_bytes);
  // Device copies of both length vectors (synchronous: the host vectors are reused).
  const size_t len_bytes = sizeof(int32_t) * batch;
  st.lengths_cudnn.Reserve(len_bytes);
  st.lengths_true.Reserve(len_bytes);
  MELODY_CUDA_CHECK(cudaMemcpyAsync(st.lengths_cudnn.get(), st.host_cudnn_lengths.data(), len_bytes,
                                    cudaMemcpyHostToDevice, ctx.stream()));
  MELODY_CUDA_CHECK(cudaMemcpyAsync(st.lengths_true.get(), lengths.data(), len_bytes,
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
    ZeroFill(ctx.stream(), y->raw_data(), y->nbytes());
    return;
  }
  if (!cc.cuda_state) cc.cuda_state = std::make_shared<CudnnLstmState>();
  auto& st = *static_cast<CudnnLstmState*>(cc.cuda_state.get());
  Prepare(ctx, st, d.batch, d.time, d.input, d.units, cc.lengths);
  cudnn_lstm::TfToCudnnDevice(ctx.stream(), st.offsets, d.input, d.units, kernel.data<float>(),
                              bias.data<float>(), kLstmForgetBias, st.weights.as<float>());
  void* work = ctx.Workspace(std::max<size_t>(st.work_bytes, 1));
  MELODY_CUDNN_CHECK(cudnnRNNForward(
      CudnnHandle(ctx), st.rnn.get(), CUDNN_FWD_MODE_TRAINING, st.lengths_cudnn.as<int32_t>(),
      st.x_desc.get(), x.raw_data(), st.y_desc.get(), y->raw_data(), st.h_desc.get(), nullptr,
      nullptr, st.h_desc.get(), nullptr, nullptr, st.weight_bytes, st.weights.get(), st.work_bytes,
      work, st.reserve_bytes, st.reserve.get()));
  MaskPadded(ctx.stream(), d.batch, d.time, d.units, st.lengths_true.as<int32_t>(),
             y->data<float>());
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
    if (dx) ZeroFill(ctx.stream(), dx->raw_data(), dx->nbytes());
    return;
  }
  MELODY_REQUIRE(cache.cuda_state && cache.input == d.input && cache.units == d.units)
      << op << ": the cache holds no cuDNN forward state for these sizes";
  auto& st = *static_cast<CudnnLstmState*>(cache.cuda_state.get());
  const size_t y_bytes = dy.nbytes();
  // dy with padded positions (and the fake step of length-0 rows) zeroed.
  st.dy_masked.Reserve(y_bytes);
  float* dy_m = st.dy_masked.as<float>();
  MELODY_CUDA_CHECK(cudaMemcpyAsync(dy_m, dy.raw_data(), y_bytes, cudaMemcpyDeviceToDevice,
                                    ctx.stream()));
  MaskPadded(ctx.stream(), d.batch, d.time, d.units, st.lengths_true.as<int32_t>(), dy_m);
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
  const int32_t* dev_len = st.lengths_cudnn.as<int32_t>();
  MELODY_CUDNN_CHECK(cudnnRNNBackwardData_v8(
      CudnnHandle(ctx), st.rnn.get(), dev_len, st.y_desc.get(), y.raw_data(), dy_m, st.x_desc.get(),
      dx_ptr, st.h_desc.get(), nullptr, nullptr, nullptr, st.h_desc.get(), nullptr, nullptr,
      nullptr, st.weight_bytes, st.weights.get(), st.work_bytes, work, st.reserve_bytes,
      st.reserve.get()));
  if (dx) MaskPadded(ctx.stream(), d.batch, d.time, d.input, st.lengths_true.as<int32_t>(), dx_ptr);
  // cudnnRNNBackwardWeights_v8 adds into dweights: zero it first.
  ZeroFill(ctx.stream(), st.dweights.get(), st.weight_bytes);
  MELODY_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(
      CudnnHandle(ctx), st.rnn.get(), CUDNN_WGRAD_MODE_ADD, dev_len, st.x_desc.get(), x.raw_data(),
      st.h_desc.get(), nullptr, st.y_desc.get(), y.raw_data(), st.weight_bytes, st.dweights.get(),
      st.work_bytes, work, st.reserve_bytes, st.reserve.get()));
  cudnn_lstm::CudnnToTfDevice(ctx.stream(), st.offsets, d.input, d.units,
                              st.dweights.as<const float>(), /*forget_bias=*/0.0f,
                              /*accumulate=*/true, dkernel->data<float>(), dbias->data<float>());
  if (dx_tmp.defined()) ctx.Synchronize();  // dx_tmp is freed on return
}

}  // namespace melody::cuda
