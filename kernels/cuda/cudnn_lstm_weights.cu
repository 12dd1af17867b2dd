// cuDNN side of the TF <-> cuDNN LSTM weight mapping (see cudnn_lstm_weights.h): offset
// query through cudnnGetRNNWeightParams and the conversion kernels.
#include "core/error.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cudnn_lstm_weights.h"

namespace melody::cudnn_lstm {
namespace {

using cuda::GridFor;
using cuda::kBlockThreads;
using cuda::TensorDescriptor;

int64_t DescElements(cudnnTensorDescriptor_t desc) {
  cudnnDataType_t type;
  int dims[8], strides[8], nb = 0;
  MELODY_CUDNN_CHECK(cudnnGetTensorNdDescriptor(desc, 8, &type, &nb, dims, strides));
  int64_t n = 1;
  for (int i = 0; i < nb; ++i) n *= dims[i];
  return n;
}

__global__ void TfToCudnnKernel(WeightOffsets off, int64_t input, int64_t units,
                                const float* kernel, const float* bias, float forget_bias,
                                float* ws) {
  const int64_t cols = 4 * units;
  const int64_t kernel_elems = (input + units) * cols;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < kernel_elems) {
    ws[WeightIndexOfKernel(off, input, units, i / cols, i % cols)] = kernel[i];
  } else if (i < kernel_elems + cols) {
    const int64_t c = i - kernel_elems;
    ws[WeightIndexOfBias(off, units, c)] = bias[c] + ForgetBiasShift(units, c, forget_bias);
  }
}

__global__ void CudnnToTfKernel(WeightOffsets off, int64_t input, int64_t units,
                                const float* ws, float forget_bias, bool accumulate,
                                float* kernel, float* bias) {
  const int64_t cols = 4 * units;
  const int64_t kernel_elems = (input + units) * cols;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < kernel_elems) {
    const float v = ws[WeightIndexOfKernel(off, input, units, i / cols, i % cols)];
    kernel[i] = accumulate ? kernel[i] + v : v;
  } else if (i < kernel_elems + cols) {
    const int64_t c = i - kernel_elems;
    const float v = ws[WeightIndexOfBias(off, units, c)] - ForgetBiasShift(units, c, forget_bias);
    bias[c] = accumulate ? bias[c] + v : v;
  }
}

}  // namespace

WeightOffsets QueryWeightOffsets(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                                 void* weight_space, size_t weight_space_bytes, int64_t input,
                                 int64_t units) {
  WeightOffsets off;
  off.total = static_cast<int64_t>(weight_space_bytes / sizeof(float));
  const TensorDescriptor m_desc = TensorDescriptor::Create();
  const TensorDescriptor b_desc = TensorDescriptor::Create();
  auto offset_of = [&](void* addr) {
    return static_cast<int64_t>((static_cast<char*>(addr) - static_cast<char*>(weight_space)) /
                                static_cast<std::ptrdiff_t>(sizeof(float)));
  };
  for (int lin = 0; lin < 8; ++lin) {
    void* m_addr = nullptr;
    void* b_addr = nullptr;
    MELODY_CUDNN_CHECK(cudnnGetRNNWeightParams(handle, rnn, /*pseudoLayer=*/0,
                                               weight_space_bytes, weight_space, lin,
                                               m_desc.get(), &m_addr, b_desc.get(), &b_addr));
    const int gate = lin % 4;
    const bool recurrent = lin >= 4;
    const int64_t expected = units * (recurrent ? units : input);
    MELODY_REQUIRE(m_addr != nullptr && DescElements(m_desc.get()) == expected)
        << "cuDNN LSTM weight matrix " << lin << " has " << DescElements(m_desc.get())
        << " elements, expected " << expected;
    (recurrent ? off.recurrent_matrix : off.input_matrix)[gate] = offset_of(m_addr);
    if (!recurrent) {
      MELODY_REQUIRE(b_addr != nullptr && DescElements(b_desc.get()) == units)
          << "cuDNN LSTM input bias " << lin << " is missing or not [" << units << "]";
      off.bias[gate] = offset_of(b_addr);
    }
  }
  return off;
}

void TfToCudnnDevice(cudaStream_t stream, const WeightOffsets& off, int64_t input,
                     int64_t units, const float* kernel, const float* bias, float forget_bias,
                     float* weight_space) {
  const int64_t n = (input + units + 1) * 4 * units;
  if (n == 0) return;
  TfToCudnnKernel<<<GridFor(n), kBlockThreads, 0, stream>>>(off, input, units, kernel, bias,
                                                            forget_bias, weight_space);
  MELODY_CUDA_LAUNCH_CHECK();
}

void CudnnToTfDevice(cudaStream_t stream, const WeightOffsets& off, int64_t input,
                     int64_t units, const float* weight_space, float forget_bias,
                     bool accumulate, float* kernel, float* bias) {
  const int64_t n = (input + units + 1) * 4 * units;
  if (n == 0) return;
  CudnnToTfKernel<<<GridFor(n), kBlockThreads, 0, stream>>>(off, input, units, weight_space,
                                                            forget_bias, accumulate, kernel, bias);
  MELODY_CUDA_LAUNCH_CHECK();
}

}  // namespace melody::cudnn_lstm
