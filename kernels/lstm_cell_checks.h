// Argument validation for kernels/lstm_cell.h, shared by the reference, the fast CPU path
// and the CUDA path. Each returns the sizes; dtype and device are taken from the first
// tensor argument and required of all others.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace melody::internal {

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

}  // namespace melody::internal
