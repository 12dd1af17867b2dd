// Reference of kernels/lstm_layer.h: dynamic_rnn over the padded batch written as a loop
// of whole-batch reference cell steps with a per-row mask (model.md §2.7), in float or
// double. The backward recomputes the forward, keeping every step's inputs, then runs
// BPTT over all T steps.
#include <cstring>
#include <vector>

#include "kernels/lstm_cell.h"
#include "kernels/lstm_layer.h"
#include "kernels/op_checks.h"

namespace melody::reference {
namespace {

struct StepRecord {
  Tensor x, c_prev, h_prev, gates, c, h;  // the cell's inputs and outputs at this step
};

// x[:, t, :] as a [B, I] tensor.
template <typename T>
Tensor TimeSlice(const Tensor& x, int64_t t) {
  const int64_t b = x.dim(0), time = x.dim(1), f = x.dim(2);
  Tensor out({b, f}, x.dtype());
  for (int64_t r = 0; r < b; ++r)
    std::memcpy(out.data<T>() + r * f, x.data<T>() + (r * time + t) * f, sizeof(T) * f);
  return out;
}

// Runs the forward, filling y and (if records != nullptr) one record per step.
template <typename T>
void RunForward(const Tensor& x, const std::vector<int32_t>& len, const Tensor& kernel,
                const Tensor& bias, Tensor* y, std::vector<StepRecord>* records) {
  const int64_t b = x.dim(0), time = x.dim(1), n = kernel.dim(1) / 4;
  Tensor c = Tensor::Zeros({b, n}, x.dtype()), h = Tensor::Zeros({b, n}, x.dtype());
  for (int64_t t = 0; t < time; ++t) {
    StepRecord rec;
    rec.x = TimeSlice<T>(x, t);
    rec.c_prev = c.Clone();
    rec.h_prev = h.Clone();
    rec.gates = Tensor({b, 4 * n}, x.dtype());
    rec.c = Tensor({b, n}, x.dtype());
    rec.h = Tensor({b, n}, x.dtype());
    LstmCellForward<T>(rec.x, rec.c_prev, rec.h_prev, kernel, bias, &rec.gates, &rec.c, &rec.h);
    for (int64_t r = 0; r < b; ++r) {
      T* out = y->data<T>() + (r * time + t) * n;
      if (t < len[r]) {  // valid step: new state, output h
        std::memcpy(c.data<T>() + r * n, rec.c.data<T>() + r * n, sizeof(T) * n);
        std::memcpy(h.data<T>() + r * n, rec.h.data<T>() + r * n, sizeof(T) * n);
        std::memcpy(out, rec.h.data<T>() + r * n, sizeof(T) * n);
      } else {  // padded step: output 0, state carried through
        for (int64_t k = 0; k < n; ++k) out[k] = T(0);
      }
    }
    if (records) records->push_back(std::move(rec));
  }
}

}  // namespace

template <typename T>
void LstmLayerForward(const Tensor& x, const Tensor& lengths, const Tensor& kernel,
                      const Tensor& bias, Tensor* y) {
  const char* op = "reference::LstmLayerForward";
  MELODY_REQUIRE(y != nullptr) << op << ": y is null";
  const auto d =
      internal::CheckLstmLayer(op, x, lengths, kernel, bias, y, nullptr, nullptr, nullptr, nullptr);
  RunForward<T>(x, op_checks::HostLengths(lengths, op, d.time), kernel, bias, y, nullptr);
}

template <typename T>
void LstmLayerBackward(const Tensor& x, const Tensor& lengths, const Tensor& kernel,
                       const Tensor& bias, const Tensor& dy, Tensor* dx, Tensor* dkernel,
                       Tensor* dbias) {
  const char* op = "reference::LstmLayerBackward";
  MELODY_REQUIRE(dkernel != nullptr && dbias != nullptr) << op << ": dkernel/dbias are null";
  const auto d =
      internal::CheckLstmLayer(op, x, lengths, kernel, bias, nullptr, &dy, dx, dkernel, dbias);
  const std::vector<int32_t> len = op_checks::HostLengths(lengths, op, d.time);
  const int64_t b = d.batch, n = d.units, in = d.input, time = d.time;
  Tensor y({b, time, n}, x.dtype());
  std::vector<StepRecord> records;
  RunForward<T>(x, len, kernel, bias, &y, &records);

  // Gradients w.r.t. the state after step t (zero after the last step: no final-state
  // output).
  Tensor dh_state = Tensor::Zeros({b, n}, x.dtype()), dc_state = Tensor::Zeros({b, n}, x.dtype());
  Tensor dh_in({b, n}, x.dtype()), dc_in({b, n}, x.dtype());
  Tensor dx_t({b, in}, x.dtype()), dh_prev({b, n}, x.dtype()), dc_prev({b, n}, x.dtype());
  for (int64_t t = time - 1; t >= 0; --t) {
    const StepRecord& rec = records[t];
    for (int64_t r = 0; r < b; ++r) {
      const bool valid = t < len[r];
      for (int64_t k = 0; k < n; ++k) {
        // Padded steps get zero upstream gradient (their output is a constant).
        dh_in.data<T>()[r * n + k] =
            valid ? dy.data<T>()[(r * time + t) * n + k] + dh_state.data<T>()[r * n + k] : T(0);
        dc_in.data<T>()[r * n + k] = valid ? dc_state.data<T>()[r * n + k] : T(0);
      }
    }
    LstmCellBackward<T>(rec.x, rec.c_prev, rec.h_prev, kernel, rec.gates, rec.c, dh_in, dc_in,
                        &dx_t, &dh_prev, &dc_prev, dkernel, dbias);
    for (int64_t r = 0; r < b; ++r) {
      const bool valid = t < len[r];
      if (valid) {  // a padded step passes the state gradient through unchanged
        std::memcpy(dh_state.data<T>() + r * n, dh_prev.data<T>() + r * n, sizeof(T) * n);
        std::memcpy(dc_state.data<T>() + r * n, dc_prev.data<T>() + r * n, sizeof(T) * n);
      }
      if (dx) {
        T* out = dx->data<T>() + (r * time + t) * in;
        for (int64_t k = 0; k < in; ++k) out[k] = valid ? dx_t.data<T>()[r * in + k] : T(0);
      }
    }
  }
}

template void LstmLayerForward<float>(const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&, Tensor*);
template void LstmLayerForward<double>(const Tensor&, const Tensor&, const Tensor&,
                                       const Tensor&, Tensor*);
template void LstmLayerBackward<float>(const Tensor&, const Tensor&, const Tensor&,
                                       const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*);
template void LstmLayerBackward<double>(const Tensor&, const Tensor&, const Tensor&,
                                        const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*);

}  // namespace melody::reference
