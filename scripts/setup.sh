#!/usr/bin/env bash
# Installs the Debian 12 packages Tandem builds with, then builds it into build/.
# Safe to re-run: apt skips what is installed, ninja rebuilds only what changed. The list is
# complete on its own (no recommends are installed); scripts/test.sh checks that it is.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh

install_packages "${tandem_packages[@]}"

build_dir="${TANDEM_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${TANDEM_CMAKE_ARGS:-} >/dev/null
ninja -C "$build_dir" ${TANDEM_TARGETS:-}
