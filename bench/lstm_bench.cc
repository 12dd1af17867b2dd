// Per-op CPU timings of the dense kernels: linear forward/backward, LSTM layer forward +
// backward (B = 128, N = 128, T in {128, 512}, input sizes 38/121/74/130 = the encoder
// widths of basic/lookback/attention/key-melody-ish configs), output dropout, each with
// the GFLOP/s of its matrix products next to the OpenBLAS sgemm ceiling measured in the
// same run on the same shapes (and a square 1024 sgemm). Prints a table and writes the
// numbers as JSON (--out). Peak RSS is reported at the end.
#include <gflags/gflags.h>
#include <sys/resource.h>

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/dropout.h"
#include "kernels/linear.h"
#include "kernels/lstm_layer.h"

DEFINE_int32(threads, 0, "CPU threads for the element-wise loops (0 = all cores).");
DEFINE_int32(repetitions, 3, "Timed runs per case (after one warm-up run); the best is kept.");
DEFINE_string(out, "bench/results/lstm.json", "File receiving the numbers (JSON).");
DEFINE_int32(blas_threads, 0, "OpenBLAS threads (0 = leave OpenBLAS's default).");
DEFINE_bool(quick, false, "Only T = 128 and two input sizes (for a smoke run).");

namespace melody {
namespace {

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// CPU seconds (all threads) of the run with the best wall time: on a loaded machine the
// wall time includes waiting for a core, the CPU time does not.
double g_last_cpu_seconds = 0;

double BestSeconds(const std::function<void()>& fn) {
  fn();  // warm-up: first-touch page faults, OpenBLAS thread start
  double best = 1e30;
  for (int r = 0; r < FLAGS_repetitions; ++r) {
    const double c0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    const double wall = std::chrono::duration<double>(t1 - t0).count();
    if (wall < best) {
      best = wall;
      g_last_cpu_seconds = ProcessCpuSeconds() - c0;
    }
  }
  return best;
}

Tensor RandomTensor(std::mt19937& rng, const Shape& shape, float scale) {
  Tensor t(shape, DType::kFloat32);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Best time of C[m, n] = A[m, k]·B[k, n] with OpenBLAS, as GFLOP/s of wall time; the same
// run's GFLOP per CPU-second goes to g_last_cpu_gflops.
double g_last_cpu_gflops = 0;
double SgemmGflops(int64_t m, int64_t n, int64_t k) {
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n, 0.0f);
  const double s = BestSeconds([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0f, a.data(), static_cast<int>(k),
                b.data(), static_cast<int>(n), 0.0f, c.data(), static_cast<int>(n));
  });
  g_last_cpu_gflops = 2.0 * m * n * k / g_last_cpu_seconds / 1e9;
  return 2.0 * m * n * k / s / 1e9;
}

struct Row {
  Row(std::string op_name, std::string shape_text)
      : op(std::move(op_name)), shape(std::move(shape_text)) {}
  std::string op, shape;
  double seconds = 0, cpu_seconds = 0, gflops = 0, ceiling_gflops = 0;
  double flop = 0;                   // matrix-product work of one run
  double ceiling_cpu_gflops = 0;     // the ceiling per CPU-second
  std::string ceiling_note;
};

// Fills the derived figures from r.seconds / r.flop and prints the row. Two views: per
// wall second (what a user waits) and per CPU-second summed over threads (insensitive to
// other processes competing for the cores; compare with the sgemm ceiling measured the
// same way).
void Print(Row& r) {
  r.cpu_seconds = g_last_cpu_seconds;
  r.gflops = r.flop / r.seconds / 1e9;
  const double cpu_gflops = r.cpu_seconds > 0 ? r.flop / r.cpu_seconds / 1e9 : 0;
  std::printf("%-28s %-30s %8.2f ms wall %8.2f ms cpu | GFLOP/s wall %5.1f (sgemm %5.1f) "
              "per cpu-s %5.1f (sgemm %5.1f) %s\n",
              r.op.c_str(), r.shape.c_str(), r.seconds * 1e3, r.cpu_seconds * 1e3, r.gflops,
              r.ceiling_gflops, cpu_gflops, r.ceiling_cpu_gflops, r.ceiling_note.c_str());
  std::fflush(stdout);
}

std::string Json(const std::vector<Row>& rows, double square_gflops, int threads, long rss_kb) {
  std::ostringstream os;
  os << "{\n  \"threads\": " << threads << ",\n  \"sgemm_1024_gflops\": " << square_gflops
     << ",\n  \"peak_rss_mib\": " << rss_kb / 1024.0 << ",\n  \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    os << "    {\"op\": \"" << r.op << "\", \"shape\": \"" << r.shape
       << "\", \"seconds\": " << r.seconds << ", \"cpu_seconds\": " << r.cpu_seconds
       << ", \"gflops\": " << r.gflops
       << ", \"ceiling_gflops\": " << r.ceiling_gflops
       << ", \"gflops_per_cpu_second\": " << (r.cpu_seconds > 0 ? r.flop / r.cpu_seconds / 1e9 : 0)
       << ", \"ceiling_gflops_per_cpu_second\": " << r.ceiling_cpu_gflops << ", \"ceiling\": \"" << r.ceiling_note
       << "\"}" << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  os << "  ]\n}\n";
  return os.str();
}

int Run() {
  if (FLAGS_blas_threads > 0) openblas_set_num_threads(FLAGS_blas_threads);
  auto ctx = Context::CreateCpu(FLAGS_threads);
  std::mt19937 rng(1);
  std::vector<Row> rows;
  std::printf("CPU threads: %d (OpenBLAS: %d)\n", ctx->num_threads(), openblas_get_num_threads());
  const double square = SgemmGflops(1024, 1024, 1024);
  std::printf("sgemm 1024x1024x1024: %.1f GFLOP/s wall, %.1f per cpu-s\n\n", square,
              g_last_cpu_gflops);

  const int64_t B = 128, N = 128;
  // Linear: the output layer [B·T, N]·[N, C] and an input projection [B·T, I]·[I, N].
  for (auto [in, out] : std::vector<std::pair<int64_t, int64_t>>{{128, 38}, {130, 128}}) {
    const int64_t m = B * 128;
    Tensor x = RandomTensor(rng, {m, in}, 1.0f), w = RandomTensor(rng, {in, out}, 0.1f);
    Tensor b = RandomTensor(rng, {out}, 0.1f), y({m, out}, DType::kFloat32);
    Tensor dy = RandomTensor(rng, {m, out}, 1.0f), dx({m, in}, DType::kFloat32);
    Tensor dw({in, out}, DType::kFloat32), db({out}, DType::kFloat32);
    const double ceiling = SgemmGflops(m, out, in);
    const double ceiling_cpu = g_last_cpu_gflops;
    const std::string shape =
        "[" + std::to_string(m) + "," + std::to_string(in) + "]x[" + std::to_string(in) + "," +
        std::to_string(out) + "]";
    Row f{"linear forward", shape};
    f.seconds = BestSeconds([&] { LinearForward(*ctx, x, w, b, &y); });
    f.flop = 2.0 * m * in * out;
    f.ceiling_gflops = ceiling;
    f.ceiling_cpu_gflops = ceiling_cpu;
    f.ceiling_note = "sgemm same shape";
    Print(f);
    rows.push_back(f);
    Row g{"linear backward", shape};
    g.seconds = BestSeconds(
        [&] { LinearBackward(*ctx, x, w, dy, &dx, &dw, &db, GradMode::kOverwrite); });
    g.flop = 4.0 * m * in * out;
    g.ceiling_gflops = ceiling;
    g.ceiling_cpu_gflops = ceiling_cpu;
    g.ceiling_note = "sgemm fwd shape";
    Print(g);
    rows.push_back(g);
  }
  std::printf("\n");

  // LSTM layer: all sequences full length, plus one mixed-length batch.
  const std::vector<int64_t> times = FLAGS_quick ? std::vector<int64_t>{128}
                                                 : std::vector<int64_t>{128, 512};
  const std::vector<int64_t> inputs = FLAGS_quick ? std::vector<int64_t>{38, 130}
                                                  : std::vector<int64_t>{38, 121, 74, 130};
  const double step_ceiling = SgemmGflops(B, 4 * N, N);
  const double step_ceiling_cpu = g_last_cpu_gflops;
  std::printf("per-step sgemm [%ld,%ld]x[%ld,%ld]: %.1f GFLOP/s wall, %.1f per cpu-s\n",
              long(B), long(N), long(N), long(4 * N), step_ceiling, step_ceiling_cpu);
  LstmLayerCache cache;
  for (int64_t T : times) {
    for (int64_t I : inputs) {
      for (bool mixed : {false, true}) {
        if (mixed && I != inputs.front()) continue;  // one mixed-length case per T
        Tensor x = RandomTensor(rng, {B, T, I}, 1.0f);
        Tensor kernel = RandomTensor(rng, {I + N, 4 * N}, 0.08f);
        Tensor bias = RandomTensor(rng, {4 * N}, 0.1f);
        Tensor lengths({B}, DType::kInt32);
        std::uniform_int_distribution<int32_t> len_dist(static_cast<int32_t>(T / 4),
                                                        static_cast<int32_t>(T));
        for (int64_t b = 0; b < B; ++b)
          lengths.data<int32_t>()[b] = mixed ? len_dist(rng) : static_cast<int32_t>(T);
        int64_t valid = 0;
        for (int64_t b = 0; b < B; ++b) valid += lengths.data<int32_t>()[b];
        Tensor y({B, T, N}, DType::kFloat32), dy = RandomTensor(rng, {B, T, N}, 1.0f);
        Tensor dx({B, T, I}, DType::kFloat32);
        Tensor dk = Tensor::Zeros(kernel.shape(), DType::kFloat32);
        Tensor db = Tensor::Zeros({4 * N}, DType::kFloat32);
        // GEMM work per valid position: forward (I + N)·4N·2; backward twice that.
        const double fwd_flop = 2.0 * valid * (I + N) * 4 * N;
        const double big_ceiling = SgemmGflops(B * T, 4 * N, I);
        const double big_ceiling_cpu = g_last_cpu_gflops;
        char shape[96];
        std::snprintf(shape, sizeof(shape), "B=%ld T=%ld I=%ld N=%ld%s", long(B), long(T),
                      long(I), long(N), mixed ? " mixed len" : "");
        char note[96];
        std::snprintf(note, sizeof(note), "[x·W_x sgemm %.1f / %.1f per cpu-s]", big_ceiling,
                      big_ceiling_cpu);
        Row f{"lstm layer forward", shape};
        f.seconds = BestSeconds(
            [&] { LstmLayerForward(*ctx, x, lengths, kernel, bias, &y, &cache); });
        f.flop = fwd_flop;
        f.ceiling_gflops = step_ceiling;
        f.ceiling_cpu_gflops = step_ceiling_cpu;
        f.ceiling_note = note;
        Print(f);
        rows.push_back(f);
        Row fb{"lstm layer forward+backward", shape};
        fb.seconds = BestSeconds([&] {
          LstmLayerForward(*ctx, x, lengths, kernel, bias, &y, &cache);
          LstmLayerBackward(*ctx, x, lengths, kernel, bias, y, dy, cache, &dx, &dk, &db);
        });
        fb.flop = 3.0 * fwd_flop;
        fb.ceiling_gflops = step_ceiling;
        fb.ceiling_cpu_gflops = step_ceiling_cpu;
        fb.ceiling_note = note;
        Print(fb);
        rows.push_back(fb);
      }
    }
  }
  std::printf("\n");
  for (int64_t T : times) {
    Tensor x = RandomTensor(rng, {B, T, N}, 1.0f), y({B, T, N}, DType::kFloat32);
    DropoutConfig config;
    config.keep_prob = 0.5;
    config.seed = 42;
    Row r{"dropout forward", "B=128 T=" + std::to_string(T) + " N=128"};
    r.seconds = BestSeconds([&] { DropoutForward(*ctx, x, config, &y); });
    r.ceiling_note = std::to_string(static_cast<int64_t>(x.numel() / r.seconds / 1e6)) +
                     " M elements/s";
    Print(r);
    rows.push_back(r);
  }

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("\npeak RSS: %.1f MiB\n", usage.ru_maxrss / 1024.0);
  std::ofstream out(FLAGS_out);
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", FLAGS_out.c_str());
    return 1;
  }
  out << Json(rows, square, ctx->num_threads(), usage.ru_maxrss);
  std::printf("numbers written to %s\n", FLAGS_out.c_str());
  return 0;
}

}  // namespace
}  // namespace melody

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return melody::Run();
}
