// The CUDA gradient reducer of apps/lib/distributed.h: NCCL all-reduce on the context's
// stream, one GPU per rank, the NCCL unique id bootstrapped through the process group
// (rank 0 makes it, MPI_Bcast sends it). Each rank's gradient is premultiplied by its
// factor inside the reduction (ncclRedOpCreatePreMulSum), so no scaling kernel is needed.
// Compiles in CUDA builds with NCCL; not run on this project's CI (no GPU there).
#include <chrono>

#include "apps/lib/distributed.h"
#include "core/error.h"
#if MELODY_HAVE_CUDA && MELODY_HAVE_NCCL
#include "core/cuda_check.h"
#endif

namespace melody {

#if MELODY_HAVE_CUDA && MELODY_HAVE_NCCL

namespace {

class NcclGradientReducer : public GradientReducer {
 public:
  NcclGradientReducer(ProcessGroup& group, Context& ctx) {
    ncclUniqueId id;
    std::string bytes;
    if (group.rank() == 0) {
      MELODY_NCCL_CHECK(ncclGetUniqueId(&id));
      bytes.assign(reinterpret_cast<const char*>(&id), sizeof id);
    }
    group.Broadcast(&bytes);
    MELODY_REQUIRE(bytes.size() == sizeof id)
        << "NCCL bootstrap: unique id of " << bytes.size() << " bytes, expected " << sizeof id;
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(&id));
    MELODY_CUDA_CHECK(cudaSetDevice(ctx.device().index));
    MELODY_NCCL_CHECK(ncclCommInitRank(&comm_, group.size(), id, group.rank()));
  }
  ~NcclGradientReducer() override { ncclCommDestroy(comm_); }

  void SumScaled(Context& ctx, float factor, Parameters* grads) override {
    const auto start = std::chrono::steady_clock::now();
    ncclRedOp_t op;
    MELODY_NCCL_CHECK(ncclRedOpCreatePreMulSum(&op, &factor, ncclFloat32,
                                               ncclScalarHostImmediate, comm_));
    MELODY_NCCL_CHECK(ncclGroupStart());
    for (size_t i = 0; i < grads->size(); ++i) {
      Tensor& g = grads->at(i);
      MELODY_NCCL_CHECK(ncclAllReduce(g.data<float>(), g.data<float>(),
                                      static_cast<size_t>(g.numel()), ncclFloat32, op, comm_,
                                      ctx.stream()));
    }
    MELODY_NCCL_CHECK(ncclGroupEnd());
    MELODY_NCCL_CHECK(ncclRedOpDestroy(op, comm_));
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<GradientReducer> MakeNcclGradientReducer(ProcessGroup& group, Context& ctx) {
  return std::make_unique<NcclGradientReducer>(group, ctx);
}

#else

std::unique_ptr<GradientReducer> MakeNcclGradientReducer(ProcessGroup&, Context& ctx) {
  MELODY_FAIL() << "multi-rank training on " << ctx.device().ToString()
                << " needs NCCL: this build has none (CUDA with libnccl-dev)";
}

#endif

}  // namespace melody
