// Check macro for every MPI call (like core/cuda_check.h): a failure throws melody::Error
// naming the call, MPI's error string and code, and file:line. Include only where
// MELODY_HAVE_MPI; the communicator's error handler is MPI_ERRORS_RETURN so that errors
// reach the check instead of aborting inside the library.
#pragma once

#if MELODY_HAVE_MPI
// The C API only (OpenMPI's and MPICH's C++ bindings would need their C++ library).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

namespace melody::internal {
[[noreturn]] void ThrowMpiError(const char* statement, int code, const char* file, int line);
}  // namespace melody::internal

#define MELODY_MPI_CHECK(stmt)                                                       \
  do {                                                                               \
    const int melody_mpi_rc_ = (stmt);                                               \
    if (melody_mpi_rc_ != MPI_SUCCESS)                                               \
      ::melody::internal::ThrowMpiError(#stmt, melody_mpi_rc_, __FILE__, __LINE__);  \
  } while (0)

#endif  // MELODY_HAVE_MPI
