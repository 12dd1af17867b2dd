// CPU path of kernels/stream_ops.h: plain memcpy / memset.
#include <cstring>

#include "kernels/stream_ops.h"

namespace melody::cpu {

void CopyOnStream(Context& ctx, const Tensor& src, Tensor* dst) {
  if (src.nbytes() > 0) std::memcpy(dst->raw_data(), src.raw_data(), src.nbytes());
}

void ZeroOnStream(Context& ctx, Tensor* t) {
  if (t->nbytes() > 0) std::memset(t->raw_data(), 0, t->nbytes());
}

}  // namespace melody::cpu
