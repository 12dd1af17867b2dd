// One step of TF's BasicLSTMCell (model.md §2.3), forward and backward, for a batch.
//
//   z = [x ; h_prev] · W + b                        W [I + N, 4N] (rows: x first, then h),
//   i, j, f, o = column blocks of z (in that order)  b [4N] WITHOUT the forget bias
//   c = c_prev ⊙ σ(f + 1.0) + σ(i) ⊙ tanh(j)         (forget bias 1.0 added at run time)
//   h = tanh(c) ⊙ σ(o)
//
// The step is split into two layers of ops so that loops over time can batch the matrix
// products (lstm_layer precomputes x·W_x for all steps at once; the attention layer fuses
// its input projection):
//   * LstmGates{Forward,Backward}: the fused element-wise part, from the pre-activation z
//     to (c, h) and back to dz;
//   * LstmCell{Forward,Backward}: the full step = one GEMM on [x ; h_prev] + the gates.
//
// What forward saves for backward is `gates` [B, 4N]: the ACTIVATED gate values
// (σ(i), tanh(j), σ(f + 1), σ(o)) in the same column order i, j, f, o, plus the new c
// (backward recomputes tanh(c) from it). The caller also keeps c_prev (and x, h_prev for
// the weight gradient).
//
// Conventions for every function here:
//   * all tensors float32 on ctx.device() (the reference: float or double on the CPU);
//   * outputs are passed as pointers to tensors the CALLER has allocated with the right
//     shape (so step loops can reuse buffers); a shape/dtype/device mismatch throws
//     melody::Error naming the argument;
//   * "overwritten" outputs are fully written; "accumulated" outputs get += (zero them
//     before the first step of a sequence);
//   * dh / dc from above may be undefined Tensors (= zero gradient);
//   * on CUDA, LstmCellBackward keeps dz in ctx.Workspace(): a caller must not hold a
//     workspace pointer across the call. The CPU path uses its own scratch memory.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/tensor.h"

namespace melody {

// TF BasicLSTMCell's forget_bias, added to the f pre-activation at run time.
inline constexpr float kLstmForgetBias = 1.0f;

// --- element-wise part -------------------------------------------------------------------

// z [B, 4N] pre-activations (bias already included, forget bias NOT), c_prev [B, N]
// -> gates [B, 4N] (activated, saved for backward), c [B, N], h [B, N]; all overwritten.
void LstmGatesForward(Context& ctx, const Tensor& z, const Tensor& c_prev, Tensor* gates,
                      Tensor* c, Tensor* h);

// Given gates, c_prev and c from the forward step and the gradients dh, dc w.r.t. this
// step's h and c (either may be undefined = zero):
// -> dz [B, 4N] (gradient w.r.t. the pre-activation z, overwritten),
//    dc_prev [B, N] (overwritten). dc_prev may alias dc (same tensor) for in-place loops.
void LstmGatesBackward(Context& ctx, const Tensor& gates, const Tensor& c_prev,
                       const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dz,
                       Tensor* dc_prev);

// --- full step ---------------------------------------------------------------------------

// x [B, I], c_prev [B, N], h_prev [B, N], kernel [I + N, 4N], bias [4N]
// -> c, h [B, N] and gates [B, 4N] (overwritten).
void LstmCellForward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                     const Tensor& h_prev, const Tensor& kernel, const Tensor& bias,
                     Tensor* gates, Tensor* c, Tensor* h);

// Backward of LstmCellForward. Inputs: the forward inputs x, c_prev, h_prev, kernel, the
// saved gates and c, and dh, dc from above (may be undefined = zero).
// Overwritten: dx [B, I], dh_prev [B, N], dc_prev [B, N] (dc_prev may alias dc).
// Accumulated (+=): dkernel [I + N, 4N], dbias [4N].
// dx may be nullptr when the input gradient is not needed.
void LstmCellBackward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                      const Tensor& h_prev, const Tensor& kernel, const Tensor& gates,
                      const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dx,
                      Tensor* dh_prev, Tensor* dc_prev, Tensor* dkernel, Tensor* dbias);

namespace internal {
// Argument checks of the ops above (kernels/lstm_cell.cc, built on kernels/op_checks.h):
// dtype and device are taken from the first tensor argument and required of all others.
// Each returns the sizes.
struct LstmCellDims {
  int64_t batch = 0, input = 0, units = 0;  // B, I, N
};

LstmCellDims CheckLstmGatesForward(const char* op, const Tensor& z, const Tensor& c_prev,
                                   const Tensor* gates, const Tensor* c, const Tensor* h);
LstmCellDims CheckLstmGatesBackward(const char* op, const Tensor& gates,
                                    const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                                    const Tensor& dc, const Tensor* dz,
                                    const Tensor* dc_prev);
LstmCellDims CheckLstmCellForward(const char* op, const Tensor& x, const Tensor& c_prev,
                                  const Tensor& h_prev, const Tensor& kernel,
                                  const Tensor& bias, const Tensor* gates, const Tensor* c,
                                  const Tensor* h);
LstmCellDims CheckLstmCellBackward(const char* op, const Tensor& x, const Tensor& c_prev,
                                   const Tensor& h_prev, const Tensor& kernel,
                                   const Tensor& gates, const Tensor& c, const Tensor& dh,
                                   const Tensor& dc, const Tensor* dx, const Tensor* dh_prev,
                                   const Tensor* dc_prev, const Tensor* dkernel,
                                   const Tensor* dbias);
}  // namespace internal

namespace reference {
// kernels/cpu/lstm_cell_reference.cc: plain loops, CPU only, T = float or double (tensors
// of the matching dtype). Same contracts as the ops above (the reference is also the
// definition they are tested against); validates its arguments itself.
template <typename T>
void LstmGatesForward(const Tensor& z, const Tensor& c_prev, Tensor* gates, Tensor* c,
                      Tensor* h);
template <typename T>
void LstmGatesBackward(const Tensor& gates, const Tensor& c_prev, const Tensor& c,
                       const Tensor& dh, const Tensor& dc, Tensor* dz, Tensor* dc_prev);
template <typename T>
void LstmCellForward(const Tensor& x, const Tensor& c_prev, const Tensor& h_prev,
                     const Tensor& kernel, const Tensor& bias, Tensor* gates, Tensor* c,
                     Tensor* h);
template <typename T>
void LstmCellBackward(const Tensor& x, const Tensor& c_prev, const Tensor& h_prev,
                      const Tensor& kernel, const Tensor& gates, const Tensor& c,
                      const Tensor& dh, const Tensor& dc, Tensor* dx, Tensor* dh_prev,
                      Tensor* dc_prev, Tensor* dkernel, Tensor* dbias);
}  // namespace reference

// The twins the dispatcher calls with checked arguments and their sizes (float32).
// kernels/cpu/lstm_cell.cc: sgemm for the products, the fused gate loops of
// kernels/cpu/lstm_gates.h split over batch rows with ctx.num_threads() threads.
namespace cpu {
void LstmGatesForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& z,
                      const Tensor& c_prev, Tensor* gates, Tensor* c, Tensor* h);
void LstmGatesBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& gates,
                       const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                       const Tensor& dc, Tensor* dz, Tensor* dc_prev);
void LstmCellForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                     const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                     const Tensor& bias, Tensor* gates, Tensor* c, Tensor* h);
void LstmCellBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                      const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                      const Tensor& gates, const Tensor& c, const Tensor& dh,
                      const Tensor& dc, Tensor* dx, Tensor* dh_prev, Tensor* dc_prev,
                      Tensor* dkernel, Tensor* dbias);
}  // namespace cpu

#if MELODY_HAVE_CUDA
// kernels/cuda/lstm_cell.cu: cuBLAS SGEMMs for the products and one fused element-wise
// kernel each way for the gates (same math as the reference, expf/tanhf). The raw
// launchers for step loops are in kernels/cuda/lstm_gates.cuh.
namespace cuda {
void LstmGatesForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& z,
                      const Tensor& c_prev, Tensor* gates, Tensor* c, Tensor* h);
void LstmGatesBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& gates,
                       const Tensor& c_prev, const Tensor& c, const Tensor& dh,
                       const Tensor& dc, Tensor* dz, Tensor* dc_prev);
void LstmCellForward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                     const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                     const Tensor& bias, Tensor* gates, Tensor* c, Tensor* h);
void LstmCellBackward(Context& ctx, const internal::LstmCellDims& d, const Tensor& x,
                      const Tensor& c_prev, const Tensor& h_prev, const Tensor& kernel,
                      const Tensor& gates, const Tensor& c, const Tensor& dh,
                      const Tensor& dc, Tensor* dx, Tensor* dh_prev, Tensor* dc_prev,
                      Tensor* dkernel, Tensor* dbias);
}  // namespace cuda
#endif

}  // namespace melody
