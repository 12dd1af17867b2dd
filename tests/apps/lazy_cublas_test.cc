// cuBLAS is opened on the first CUDA context (core/cublas_library.h), never at process
// start: a tool that stays on the CPU must not pay the 0.14 s and ~210 MB that loading
// libcublasLt costs.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/file_util.h"
#include "tests/test_util.h"
#if MELODY_HAVE_CUDA
#include "core/cublas_library.h"
#include "core/error.h"
#endif

namespace melody {
namespace {

// stdout+stderr of `command`.
std::string Output(const std::string& command) {
  std::string text;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  pclose(pipe);
  return text;
}

TEST(LazyCublas, CpuToolsDoNotLoadCublas) {
  for (const char* tool : {"melody_rnn_generate", "melody_rnn_train", "convert_dir_to_note_sequences"}) {
    const std::string binary = std::string(MELODY_BINARY_DIR) + "/apps/" + tool;
    if (!PathExists(binary)) GTEST_SKIP() << "binary not built: " << binary;
    // The dynamic loader lists every shared object it opens with LD_DEBUG=files.
    const std::string log = Output("LD_DEBUG=files '" + binary + "' --version");
    ASSERT_NE(log.find("libc.so"), std::string::npos) << tool << ": no loader trace:\n" << log;
    EXPECT_EQ(log.find("libcublas"), std::string::npos) << tool << " loads cuBLAS at start";
  }
}

#if MELODY_HAVE_CUDA
TEST(LazyCublas, CublasOpensOnDemandWithEveryEntryPoint) {
  try {
    const CublasLibrary& blas = Cublas();
    EXPECT_TRUE(CublasLoaded());
    EXPECT_NE(blas.create, nullptr);
    EXPECT_NE(blas.destroy, nullptr);
    EXPECT_NE(blas.set_stream, nullptr);
    EXPECT_NE(blas.set_math_mode, nullptr);
    EXPECT_NE(blas.sgemm, nullptr);
    EXPECT_EQ(&Cublas(), &blas);  // loaded once
    std::ifstream maps("/proc/self/maps");
    std::stringstream text;
    text << maps.rdbuf();
    EXPECT_NE(text.str().find("libcublas.so"), std::string::npos);
  } catch (const Error& e) {
    GTEST_SKIP() << "cuBLAS is not installed on this machine: " << e.what();
  }
}
#endif

}  // namespace
}  // namespace melody
