// Reference of kernels/dropout.h: the definition as one loop over [B, T, N].
#include "core/error.h"
#include "core/philox.h"
#include "kernels/dropout.h"
#include "kernels/op_checks.h"

namespace melody::reference {

template <typename T>
void DropoutForward(const Tensor& x, const DropoutConfig& config, Tensor* y) {
  const char* op = "reference::DropoutForward";
  op_checks::CheckRank(x, op, "x", 3, DTypeOf<T>::value, Device::CPU());
  op_checks::CheckOutput(y, op, "y", x.shape(), DTypeOf<T>::value, Device::CPU());
  const DropoutConstants k = DropoutConstantsFor(config.keep_prob);
  const int64_t batch = x.dim(0), time = x.dim(1), units = x.dim(2);
  MELODY_REQUIRE(config.time_stride == 0 || config.time_stride >= time)
      << op << ": time_stride " << config.time_stride << " is shorter than " << time << " steps";
  const uint64_t stride = static_cast<uint64_t>(config.time_stride == 0 ? time : config.time_stride);
  const T* in = x.data<T>();
  T* out = y->data<T>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < time; ++t)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t i = (b * time + t) * units + u;
        if (config.keep_prob == 1.0) {
          out[i] = in[i];
          continue;
        }
        const uint64_t row = config.row_offset + static_cast<uint64_t>(b);
        const uint64_t index = (row * stride + static_cast<uint64_t>(t)) *
                                   static_cast<uint64_t>(units) + static_cast<uint64_t>(u);
        const float draw = PhiloxUniformPacked(config.seed, config.step, config.layer, index);
        const T keep = draw >= k.threshold ? T(1) : T(0);
        out[i] = in[i] * static_cast<T>(k.scale) * keep;
      }
}

template void DropoutForward<float>(const Tensor&, const DropoutConfig&, Tensor*);
template void DropoutForward<double>(const Tensor&, const DropoutConfig&, Tensor*);

}  // namespace melody::reference
