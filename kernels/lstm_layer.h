// One LSTM layer (TF BasicLSTMCell, model.md §2.3) run over a padded batch with
// per-sequence lengths, dynamic_rnn semantics (model.md §2.7):
//   * x [B, T, I] batch-major, lengths int32 [B] with 0 <= len[b] <= T;
//   * zero initial state; for t >= len[b] the output y[b, t, :] is 0 and the state is
//     carried through unchanged;
//   * y [B, T, N] (no dropout here; kernels/dropout.h is applied by the caller).
// Backward is BPTT over the full padded length: dy at padded positions is ignored (those
// outputs are constants), dx at padded positions is 0, and since the final state is not
// an output its gradient is zero, so padded steps contribute nothing.
//
// Weights are in TF's layout: kernel [I + N, 4N] (rows x then h, columns i, j, f, o),
// bias [4N] without the forget bias 1.0 (added at run time).
//
// CPU (kernels/cpu/lstm_layer.cc): rows are sorted by length (longest first) and kept
// time-major, so step t works on the contiguous first active(t) rows; x·W_x for all steps
// is one sgemm, then per step one sgemm h·W_h (M = active rows) and one fused gate pass;
// backward does one sgemm per step for the recurrent gradient and three big sgemms at the
// end (dW_x, dW_h, dx).
// CUDA (kernels/cuda/lstm_layer.cu): cuDNN v8 RNN API with numLayers = 1, padded
// batch-major I/O, weights converted from/to the TF layout on every call by
// kernels/cuda/cudnn_lstm_weights.h (the TF layout is the only stored one).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// What the forward pass saves for the backward pass. Keep one per layer and reuse it
// across training steps: its buffers grow to the largest batch seen and are not freed,
// which avoids re-faulting hundreds of MB of fresh pages every step.
struct LstmLayerCache {
  Device device;  // the device whose forward filled it
  int64_t batch = 0, time = 0, input = 0, units = 0;
  int64_t steps = 0;              // max(len): steps actually run
  std::vector<int32_t> lengths;   // host copy of the lengths
  // CPU path. Sorted position p holds batch row order[p] (stable sort by length,
  // longest first); active[t] = number of rows with len > t (a prefix in sorted order).
  std::vector<int64_t> order, active;
  // Time-major in sorted row order, `batch` rows per step, rows >= active[t] are zero:
  std::vector<float> x_sorted;  // [steps, B, I]
  std::vector<float> gates;     // [steps, B, 4N] activated gates (i, j, f, o)
  std::vector<float> c, h;      // [steps, B, N]
  // CUDA path: cuDNN descriptors, weight space and reserve space (kernels/cuda).
  std::shared_ptr<void> cuda_state;
};

// x [B, T, I], lengths int32 [B] (on the CPU or on ctx.device()), kernel [I + N, 4N],
// bias [4N] -> y [B, T, N] (caller-allocated, overwritten). `cache` may be nullptr when
// no backward pass follows.
void LstmLayerForward(Context& ctx, const Tensor& x, const Tensor& lengths,
                      const Tensor& kernel, const Tensor& bias, Tensor* y,
                      LstmLayerCache* cache);

// Backward of the forward call that filled `cache` (same x, lengths, kernel, bias; y is
// the forward's output as the forward wrote it, needed by cuDNN: apply dropout into a
// separate tensor, not in place over y). dy [B, T, N]. The CPU path reuses the saved gates
// as scratch for dz, so a cache supports ONE backward per forward.
// Overwritten: dx [B, T, I] (may be nullptr when not needed).
// Accumulated (+=): dkernel [I + N, 4N], dbias [4N].
void LstmLayerBackward(Context& ctx, const Tensor& x, const Tensor& lengths,
                       const Tensor& kernel, const Tensor& bias, const Tensor& y,
                       const Tensor& dy, const LstmLayerCache& cache, Tensor* dx,
                       Tensor* dkernel, Tensor* dbias);

namespace reference {
// kernels/cpu/lstm_layer_reference.cc: plain per-step loops over
// reference::LstmCell{Forward,Backward} on the whole batch with masking; CPU only;
// T = float or double. The backward recomputes the forward itself (no cache), then runs
// BPTT. Same contracts as above; lengths is a CPU int32 tensor. Validates its arguments.
template <typename T>
void LstmLayerForward(const Tensor& x, const Tensor& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y);
template <typename T>
void LstmLayerBackward(const Tensor& x, const Tensor& lengths, const Tensor& kernel,
                       const Tensor& bias, const Tensor& dy, Tensor* dx, Tensor* dkernel,
                       Tensor* dbias);
}  // namespace reference

namespace internal {
struct LstmLayerDims {
  int64_t batch = 0, time = 0, input = 0, units = 0;
};
// The argument checks (kernels/lstm_layer.cc, built on kernels/op_checks.h): shapes,
// dtypes (x's dtype; lengths int32), devices (x's; lengths on the CPU or x's device).
// Returns the sizes. Outputs may be nullptr where optional. The lengths' values are
// checked by op_checks::HostLengths.
LstmLayerDims CheckLstmLayer(const char* op, const Tensor& x, const Tensor& lengths,
                             const Tensor& kernel, const Tensor& bias, const Tensor* y,
                             const Tensor* dy, const Tensor* dx, const Tensor* dkernel,
                             const Tensor* dbias);
}  // namespace internal

// The twins the dispatcher calls with checked arguments, their sizes and (forward) the
// checked host copy of the lengths; float32. The backward twins check that `cache` holds
// their own backend's forward state for these arguments.
namespace cpu {  // kernels/cpu/lstm_layer.cc (scheme above)
void LstmLayerForward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                      const std::vector<int32_t>& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y, LstmLayerCache* cache);
void LstmLayerBackward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                       const Tensor& lengths, const Tensor& kernel, const Tensor& bias,
                       const Tensor& y, const Tensor& dy, const LstmLayerCache& cache,
                       Tensor* dx, Tensor* dkernel, Tensor* dbias);
}  // namespace cpu

#if MELODY_HAVE_CUDA
namespace cuda {  // kernels/cuda/lstm_layer.cu (cuDNN v8 RNN API, scheme above)
void LstmLayerForward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                      const std::vector<int32_t>& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y, LstmLayerCache* cache);
void LstmLayerBackward(Context& ctx, const internal::LstmLayerDims& d, const Tensor& x,
                       const Tensor& lengths, const Tensor& kernel, const Tensor& bias,
                       const Tensor& y, const Tensor& dy, const LstmLayerCache& cache,
                       Tensor* dx, Tensor* dkernel, Tensor* dbias);
}  // namespace cuda
#endif

}  // namespace melody
