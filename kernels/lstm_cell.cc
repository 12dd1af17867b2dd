// Dispatcher for kernels/lstm_cell.h: CPU -> kernels/cpu/lstm_cell.cc, CUDA ->
// kernels/cuda/lstm_cell.cu; a CUDA context in a build without CUDA is an error.
#include "kernels/lstm_cell.h"

#include "core/error.h"
#include "kernels/cpu/lstm_cell_cpu.h"
#if MELODY_HAVE_CUDA
#include "kernels/cuda/lstm_cell_cuda.h"
#define MELODY_LSTM_DISPATCH(name, ...)                 \
  if (ctx.is_cpu()) return cpu::name(ctx, __VA_ARGS__); \
  return cuda::name(ctx, __VA_ARGS__)
#else
#define MELODY_LSTM_DISPATCH(name, ...)                 \
  if (ctx.is_cpu()) return cpu::name(ctx, __VA_ARGS__); \
  MELODY_FAIL() << #name " on " << ctx.device().ToString() << ": " << CudaUnavailableReason()
#endif

namespace melody {

void LstmGatesForward(Context& ctx, const Tensor& z, const Tensor& c_prev, Tensor* gates,
                      Tensor* c, Tensor* h) {
  MELODY_LSTM_DISPATCH(LstmGatesForward, z, c_prev, gates, c, h);
}

void LstmGatesBackward(Context& ctx, const Tensor& gates, const Tensor& c_prev,
                       const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dz,
                       Tensor* dc_prev) {
  MELODY_LSTM_DISPATCH(LstmGatesBackward, gates, c_prev, c, dh, dc, dz, dc_prev);
}

void LstmCellForward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                     const Tensor& h_prev, const Tensor& kernel, const Tensor& bias,
                     Tensor* gates, Tensor* c, Tensor* h) {
  MELODY_LSTM_DISPATCH(LstmCellForward, x, c_prev, h_prev, kernel, bias, gates, c, h);
}

void LstmCellBackward(Context& ctx, const Tensor& x, const Tensor& c_prev,
                      const Tensor& h_prev, const Tensor& kernel, const Tensor& gates,
                      const Tensor& c, const Tensor& dh, const Tensor& dc, Tensor* dx,
                      Tensor* dh_prev, Tensor* dc_prev, Tensor* dkernel, Tensor* dbias) {
  MELODY_LSTM_DISPATCH(LstmCellBackward, x, c_prev, h_prev, kernel, gates, c, dh, dc, dx,
                       dh_prev, dc_prev, dkernel, dbias);
}

}  // namespace melody
