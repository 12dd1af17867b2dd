// Fast CPU path of kernels/lstm_cell.h (float32): sgemm for the products, the fused gate
// loops of lstm_gates_cpu.h split over batch rows with ctx.num_threads() threads.
#pragma once

#include "core/context.h"
#include "core/tensor.h"

namespace melody::cpu {
void LstmGatesForward(Context& ctx, const Tensor& z, const Tensor& c_prev, Tensor* gates,
                      Tensor* c, Tensor* h);
void LstmGatesBackward(Context& ctx, const Tensor& gates, const Tensor& c_prev,
                       const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dz,
                       Tensor* dc_prev);
void LstmCellForward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                     const Tensor& h_prev, const Tensor& kernel, const Tensor& bias,
                     Tensor* gates, Tensor* c, Tensor* h);
void LstmCellBackward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                      const Tensor& h_prev, const Tensor& kernel, const Tensor& gates,
                      const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dx,
                      Tensor* dh_prev, Tensor* dc_prev, Tensor* dkernel, Tensor* dbias);

// Rows per thread chunk in the gate loops: below ~16 rows of N = 128 units the hand-off
// to another thread costs more than the work.
inline constexpr int64_t kGateRowsPerChunk = 16;
}  // namespace melody::cpu
