#!/usr/bin/env bash
# Builds everything and runs the whole test suite (GPU tests skip without a GPU; tests
# that need ../shared skip, saying so, when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}"
