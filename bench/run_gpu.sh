#!/usr/bin/env bash
# One GPU run of the project on a machine with an NVIDIA GPU: a CUDA Release build for the
# local GPU, the whole ctest suite (the CUDA-vs-CPU tests run instead of skipping), then
# the benchmarks that time a CUDA path. Run from the repository root:
#
#   bench/run_gpu.sh            # everything goes to ${OUT:-out/gpu}
#
# Written there: system.txt (nvidia-smi, nvcc, cuDNN, CPU), configure.log, build.log,
# ctest.log, one <bench>.log and <bench>.json per benchmark (attention_bench.json and
# lstm_bench.json in Google Benchmark's JSON format), summary.txt.
# Exit status: non-zero if the build fails, no GPU is visible, any test fails, or a
# benchmark fails (benchmarks still run after failed tests, for diagnosis).
# Environment: OUT, BUILD_DIR (default build-gpu), JOBS (default nproc), SKIP_TESTS=1,
# SKIP_BENCH=1, MODEL_BENCH_CPU=1 (also time the model step on the CPU). Where one command
# may run only minutes, split the run: SKIP_TESTS=1 SKIP_BENCH=1 (build), then SKIP_BENCH=1
# (tests; the build is incremental), then SKIP_TESTS=1 (benchmarks), each with its own OUT.
set -uo pipefail

OUT_DIR="${OUT:-out/gpu}"
BUILD_DIR="${BUILD_DIR:-build-gpu}"
JOBS="${JOBS:-$(nproc)}"
export PATH="/usr/local/cuda/bin:${PATH}"
mkdir -p "${OUT_DIR}"
SUMMARY="${OUT_DIR}/summary.txt"
: > "${SUMMARY}"
note() { echo "$*" | tee -a "${SUMMARY}"; }

note "run_gpu.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---- the machine ----
{
  echo "== nvidia-smi"; nvidia-smi 2>&1
  echo "== nvcc"; nvcc --version 2>&1
  echo "== cuDNN"; grep -h -E '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' \
      /usr/local/cuda/include/cudnn_version*.h /usr/include/cudnn_version*.h 2>/dev/null
  echo "== CPU"; lscpu 2>&1 | grep -E 'Model name|^CPU\(s\)'
} > "${OUT_DIR}/system.txt"
cat "${OUT_DIR}/system.txt"
if ! nvidia-smi -L > /dev/null 2>&1; then
  note "FAIL: nvidia-smi sees no GPU; the CUDA tests would only skip"
  exit 2
fi

# ---- build: CUDA on, Release, architectures of the local GPU ----
if ! cmake -S . -B "${BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMELODY_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=native > "${OUT_DIR}/configure.log" 2>&1; then
  note "FAIL: configure (see configure.log)"; tail -30 "${OUT_DIR}/configure.log"; exit 3
fi
if ! grep -q "CUDA              : ON" "${OUT_DIR}/configure.log"; then
  note "FAIL: the CUDA backend is off (nvcc or cuDNN not found; see configure.log)"
  grep -E "CUDA|cuDNN" "${OUT_DIR}/configure.log" | tee -a "${SUMMARY}"; exit 3
fi
if ! ninja -C "${BUILD_DIR}" -j "${JOBS}" > "${OUT_DIR}/build.log" 2>&1; then
  note "FAIL: build (see build.log)"; tail -40 "${OUT_DIR}/build.log"; exit 4
fi
note "build: OK (${BUILD_DIR})"

# ---- tests: the whole suite; CUDA tests must run, not skip ----
TEST_STATUS=0
if [ "${SKIP_TESTS:-0}" = 1 ]; then
  note "tests skipped (SKIP_TESTS=1)"
else
  (cd "${BUILD_DIR}" && ctest --output-on-failure -j "${JOBS}" --timeout 900) \
      > "${OUT_DIR}/ctest.log" 2>&1
  TEST_STATUS=$?
  tail -5 "${OUT_DIR}/ctest.log" | tee -a "${SUMMARY}"
  # gtest_discover_tests registers one ctest test per gtest case; list those that skipped.
  SKIPPED=$(grep -E "\*\*\*Skipped|Not Run" "${OUT_DIR}/ctest.log" | sed 's/^ *//' || true)
  if [ -n "${SKIPPED}" ]; then
    note "skipped tests (a CUDA test skipping here means the GPU was not usable):"
    note "${SKIPPED}"
  fi
  # A CUDA test that skips means the GPU was not usable by this build (e.g. a driver older
  # than the CUDA runtime): that is a failure of this run, and the skip reason is printed.
  if echo "${SKIPPED}" | grep -q -i "cuda"; then
    note "FAIL: CUDA tests skipped; reason given by the test itself:"
    PROBE=$(find "${BUILD_DIR}" -type f -name kernels_tests -perm -u+x | head -1)
    [ -n "${PROBE}" ] && "${PROBE}" --gtest_filter='LinearTest.CudaMatchesCpu' 2>&1 \
        | grep -i -E "skip|cuda" | tee -a "${SUMMARY}"
    TEST_STATUS=5
  fi
  if [ "${TEST_STATUS}" -ne 0 ]; then note "FAIL: tests (status ${TEST_STATUS})"; else note "tests: OK"; fi
fi

# ---- benchmarks with a CUDA path ----
# attention_bench and lstm_bench (Google Benchmark) time each op on the CPU and, when a
# GPU is present, on cuda:0; they write Google Benchmark's JSON (--benchmark_out), and a
# benchmark that reported an error there (e.g. "no CUDA device: ...") fails the run.
# model_bench takes --device=cuda. Each prints a table (kept in <name>.log).
BENCH_STATUS=0
run_bench_at() {
  local name="$1" bin="$2"; shift 2
  echo "== ${name}: ${bin} $*"
  if "${bin}" "$@" > "${OUT_DIR}/${name}.log" 2>&1; then
    note "bench ${name}: OK"
  else
    note "bench ${name}: FAILED (see ${name}.log)"; BENCH_STATUS=1
  fi
  cat "${OUT_DIR}/${name}.log"
}
find_bin() { find "${BUILD_DIR}" -type f -name "$1" -perm -u+x | head -1; }
# Lists the benchmarks of a Google Benchmark JSON report that reported an error; non-zero
# if there is one (or the report is missing).
gbench_errors() {
  python3 - "$1" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("cannot read %s: %s" % (sys.argv[1], e)); sys.exit(1)
bad = [b for b in report.get("benchmarks", []) if b.get("error_occurred")]
for b in bad:
    print("%s: %s" % (b["name"], b.get("error_message", "")))
sys.exit(1 if bad else 0)
PY
}
run_gbench_at() {
  local name="$1" bin="$2"; shift 2
  run_bench_at "${name}" "${bin}" --benchmark_out="${OUT_DIR}/${name}.json" \
    --benchmark_out_format=json "$@"
  if ! gbench_errors "${OUT_DIR}/${name}.json" > "${OUT_DIR}/${name}.errors" 2>&1; then
    note "bench ${name}: FAILED, benchmarks with errors:"; note "$(cat "${OUT_DIR}/${name}.errors")"
    BENCH_STATUS=1
  fi
}
ATTN_BIN=$(find_bin attention_bench)
LSTM_BIN=$(find_bin lstm_bench)
MODEL_BIN=$(find_bin model_bench)
if [ "${SKIP_BENCH:-0}" = 1 ]; then
  note "benchmarks skipped (SKIP_BENCH=1)"
elif [ -z "${ATTN_BIN}" ] || [ -z "${LSTM_BIN}" ] || [ -z "${MODEL_BIN}" ]; then
  note "bench: FAILED (attention_bench, lstm_bench or model_bench not built)"; BENCH_STATUS=1
else
  run_gbench_at attention_bench "${ATTN_BIN}"
  run_gbench_at lstm_bench "${LSTM_BIN}"
  run_bench_at model_bench_cuda "${MODEL_BIN}" --device=cuda --out="${OUT_DIR}/model_bench_cuda.json"
  # Whole training steps (input thread, clipping, Adam) on the GPU, Nottingham per config.
  TRAIN_BIN=$(find_bin train_bench)
  if [ -n "${TRAIN_BIN}" ]; then
    run_bench_at train_bench_cuda "${TRAIN_BIN}" --device=cuda --steps=20 \
      --scratch_dir="${OUT_DIR}/train_data" --out="${OUT_DIR}/train_bench_cuda.json"
  else
    note "bench train_bench: FAILED (not built)"; BENCH_STATUS=1
  fi
  # The same step on this machine's CPU, for the ratio (off by default: minutes at T = 512).
  if [ "${MODEL_BENCH_CPU:-0}" = 1 ]; then
    run_bench_at model_bench_cpu "${MODEL_BIN}" --device=cpu --out="${OUT_DIR}/model_bench_cpu.json"
  fi
  # Data-parallel training over NCCL, one rank per GPU (issue 9; needs 2+ GPUs and mpirun).
  if [ "$(nvidia-smi -L 2>/dev/null | wc -l)" -gt 1 ] && command -v mpirun > /dev/null; then
    if DEVICE=cuda BUILD_DIR="${BUILD_DIR}" OUT="${OUT_DIR}/scaling" bash bench/run_scaling.sh \
        > "${OUT_DIR}/scaling.log" 2>&1; then note "bench scaling (NCCL): OK"
    else note "bench scaling (NCCL): FAILED (see scaling.log)"; BENCH_STATUS=1; fi
  fi
fi

note "outputs in ${OUT_DIR}"
if [ "${TEST_STATUS}" -ne 0 ]; then exit 1; fi
exit "${BENCH_STATUS}"
