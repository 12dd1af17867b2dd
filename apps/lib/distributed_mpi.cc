// MpiSession and the MPI process group of apps/lib/distributed.h (MPI_COMM_WORLD; every
// call checked with MELODY_MPI_CHECK). In a build without MPI only the refusal remains.
#include <glog/logging.h>

#include <climits>
#include <cstdlib>
#include <sstream>

#include "apps/lib/distributed.h"
#include "apps/lib/distributed_mpi_check.h"
#include "core/error.h"

namespace melody {

#if MELODY_HAVE_MPI

namespace internal {
void ThrowMpiError(const char* statement, int code, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) text[0] = '\0';
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MELODY_FAIL() << "MPI error on rank " << rank << ": " << statement << " failed: " << text
                << " (code " << code << ") at " << file << ":" << line;
}
}  // namespace internal

namespace {

int CountOf(size_t n) {
  MELODY_REQUIRE(n <= static_cast<size_t>(INT_MAX)) << "MPI collective of " << n
                                                    << " elements (at most INT_MAX)";
  return static_cast<int>(n);
}

class MpiProcessGroup : public ProcessGroup {
 public:
  MpiProcessGroup() {
    MELODY_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MELODY_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    MELODY_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    MPI_Comm local;
    MELODY_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_,
                                         MPI_INFO_NULL, &local));
    MELODY_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
    MELODY_MPI_CHECK(MPI_Comm_size(local, &local_size_));
    MELODY_MPI_CHECK(MPI_Comm_free(&local));
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void AllReduceSum(float* data, size_t n) override {
    MELODY_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, CountOf(n), MPI_FLOAT, MPI_SUM,
                                   MPI_COMM_WORLD));
  }
  void AllReduceSum(double* data, size_t n) override {
    MELODY_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, CountOf(n), MPI_DOUBLE, MPI_SUM,
                                   MPI_COMM_WORLD));
  }
  void AllReduceMax(int64_t* data, size_t n) override {
    MELODY_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, CountOf(n), MPI_INT64_T, MPI_MAX,
                                   MPI_COMM_WORLD));
  }
  void Broadcast(std::string* bytes) override {
    long long length = static_cast<long long>(bytes->size());
    MELODY_MPI_CHECK(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD));
    bytes->resize(static_cast<size_t>(length));
    if (length > 0)
      MELODY_MPI_CHECK(MPI_Bcast(bytes->data(), CountOf(bytes->size()), MPI_CHAR, 0,
                                 MPI_COMM_WORLD));
  }
  void Barrier() override { MELODY_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }
  [[noreturn]] void Abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; in case it does
  }

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  if (!LaunchedByMpi()) return;
  // Only the main thread calls MPI (the batch prefetcher and CPU kernel threads never do).
  int provided = 0;
  MELODY_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  group_ = std::make_unique<MpiProcessGroup>();
}

MpiSession::~MpiSession() {
  if (group_ == nullptr) return;
  group_.reset();
  MPI_Finalize();
}

#else  // !MELODY_HAVE_MPI

MpiSession::MpiSession(int*, char***) {
  MELODY_REQUIRE(!LaunchedByMpi())
      << "started by mpirun, but this build has no MPI (install libopenmpi-dev openmpi-bin "
         "and rebuild; configure prints whether MPI was found)";
}

MpiSession::~MpiSession() = default;

#endif  // MELODY_HAVE_MPI

}  // namespace melody
