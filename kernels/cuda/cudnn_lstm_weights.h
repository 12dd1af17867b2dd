// The ONE place where TF's LSTM weight layout meets cuDNN's (gpu-design.md §1-2).
//
// TF (our only stored layout): kernel K [I + N, 4N], row r < I multiplies x[r], row I + k
// multiplies h[k]; column g·N + u is unit u of gate g in the order i, j, f, o. bias b [4N]
// in the same column order, WITHOUT the forget bias 1.0.
//
// cuDNN LSTM (one layer, unidirectional, CUDNN_RNN_SINGLE_INP_BIAS): gates in the order
// i, f, g (= TF's j), o. cudnnGetRNNWeightParams reports, per gate, an input matrix
// (linLayerID 0..3) of shape [N, I] and a recurrent matrix (linLayerID 4..7) of shape
// [N, N], both row-major with the unit as the row ([u][k] at u·cols + k), and one bias
// [N] per gate (input GEMM only). So:
//   cuDNN W_g[u][k]  = K[k][tf(g)·N + u]        (k < I)
//   cuDNN R_g[u][k]  = K[I + k][tf(g)·N + u]    (k < N)
//   cuDNN bias_g[u]  = b[tf(g)·N + u] + (g == f ? 1.0 : 0.0)
// with tf(i) = 0, tf(f) = 2, tf(g) = 1, tf(o) = 3.
//
// The index mapping below is pure host/device arithmetic on the offsets cuDNN reports
// (WeightOffsets), so CPU tests check it on a synthetic offset table; the CUDA
// file fills the table from cuDNN and runs the same mapping in kernels.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MELODY_LSTM_MAP_FN __host__ __device__ __forceinline__
#else
#define MELODY_LSTM_MAP_FN inline
#endif

namespace melody::cudnn_lstm {

// Where each block starts in the cuDNN weight space, in floats from its start.
struct WeightOffsets {
  int64_t input_matrix[4] = {0, 0, 0, 0};      // [N, I] per cuDNN gate i, f, g, o
  int64_t recurrent_matrix[4] = {0, 0, 0, 0};  // [N, N]
  int64_t bias[4] = {0, 0, 0, 0};              // [N]
  int64_t total = 0;                           // weight space size in floats
};

// TF gate block (0 = i, 1 = j, 2 = f, 3 = o) of cuDNN gate g (0 = i, 1 = f, 2 = g, 3 = o),
// and back (the permutation swaps the middle two).
MELODY_LSTM_MAP_FN int TfGateOfCudnnGate(int g) { return g == 1 ? 2 : (g == 2 ? 1 : g); }
MELODY_LSTM_MAP_FN int CudnnGateOfTfGate(int g) { return g == 1 ? 2 : (g == 2 ? 1 : g); }

// cuDNN forget gate index, the one whose bias carries TF's run-time forget bias.
constexpr int kCudnnForgetGate = 1;

// Index in the weight space of TF kernel element K[row][col] (row < I + N, col < 4N).
MELODY_LSTM_MAP_FN int64_t WeightIndexOfKernel(const WeightOffsets& off, int64_t input,
                                               int64_t units, int64_t row, int64_t col) {
  const int g = CudnnGateOfTfGate(static_cast<int>(col / units));
  const int64_t u = col % units;
  if (row < input) return off.input_matrix[g] + u * input + row;
  return off.recurrent_matrix[g] + u * units + (row - input);
}

// Index in the weight space of TF bias element b[col] (col < 4N).
MELODY_LSTM_MAP_FN int64_t WeightIndexOfBias(const WeightOffsets& off, int64_t units,
                                             int64_t col) {
  const int g = CudnnGateOfTfGate(static_cast<int>(col / units));
  return off.bias[g] + col % units;
}

// Value to add when moving TF bias column `col` into cuDNN (1.0 for the forget gate).
MELODY_LSTM_MAP_FN float ForgetBiasShift(int64_t units, int64_t col, float forget_bias) {
  return CudnnGateOfTfGate(static_cast<int>(col / units)) == kCudnnForgetGate ? forget_bias
                                                                              : 0.0f;
}

// Host versions over whole arrays (the CUDA file has the same loops as kernels).
// TF weights -> weight space (forget bias added). Elements of the weight space that no
// TF element maps to are left untouched.
inline void TfToCudnnHost(const WeightOffsets& off, int64_t input, int64_t units,
                          const float* kernel, const float* bias, float forget_bias,
                          float* weight_space) {
  const int64_t cols = 4 * units;
  for (int64_t r = 0; r < input + units; ++r)
    for (int64_t c = 0; c < cols; ++c)
      weight_space[WeightIndexOfKernel(off, input, units, r, c)] = kernel[r * cols + c];
  for (int64_t c = 0; c < cols; ++c)
    weight_space[WeightIndexOfBias(off, units, c)] = bias[c] + ForgetBiasShift(units, c, forget_bias);
}

// Weight space -> TF. For weights pass forget_bias = the run-time bias (it is subtracted
// again) and accumulate = false; for gradients pass forget_bias = 0 and accumulate = true
// (d/db is the same in both layouts).
inline void CudnnToTfHost(const WeightOffsets& off, int64_t input, int64_t units,
                          const float* weight_space, float forget_bias, bool accumulate,
                          float* kernel, float* bias) {
  const int64_t cols = 4 * units;
  for (int64_t r = 0; r < input + units; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = weight_space[WeightIndexOfKernel(off, input, units, r, c)];
      kernel[r * cols + c] = accumulate ? kernel[r * cols + c] + v : v;
    }
  for (int64_t c = 0; c < cols; ++c) {
    const float v = weight_space[WeightIndexOfBias(off, units, c)] -
                    ForgetBiasShift(units, c, forget_bias);
    bias[c] = accumulate ? bias[c] + v : v;
  }
}

}  // namespace melody::cudnn_lstm

// The cuDNN side, for the CUDA sources only (nvcc): the host mapping above is all that
// C++ code (and the CPU tests) can see, so they need no cuDNN header.
#if defined(__CUDACC__)
#include <cuda_runtime.h>
#include <cudnn.h>

namespace melody::cudnn_lstm {

// Reads the offsets of every gate matrix and bias from cuDNN for a one-layer LSTM
// descriptor and a weight space of `weight_space_bytes` at `weight_space`, checking each
// block's size against (input, units). Throws melody::Error on any mismatch.
WeightOffsets QueryWeightOffsets(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                                 void* weight_space, size_t weight_space_bytes, int64_t input,
                                 int64_t units);

// Device versions of TfToCudnnHost / CudnnToTfHost (one thread per TF element).
void TfToCudnnDevice(cudaStream_t stream, const WeightOffsets& off, int64_t input,
                     int64_t units, const float* kernel, const float* bias, float forget_bias,
                     float* weight_space);
void CudnnToTfDevice(cudaStream_t stream, const WeightOffsets& off, int64_t input,
                     int64_t units, const float* weight_space, float forget_bias,
                     bool accumulate, float* kernel, float* bias);

}  // namespace melody::cudnn_lstm
#endif  // __CUDACC__
