#!/usr/bin/env bash
# Installs the Debian packages melody_rnn builds against (needs root or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config \
  libprotobuf-dev protobuf-compiler libgflags-dev libgoogle-glog-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev libssl-dev nlohmann-json3-dev \
  libopenmpi-dev openmpi-bin \
  clang >/dev/null
