#!/usr/bin/env bash
# Installs the Debian 12 packages Tandem builds with, then builds it into build/.
# Safe to re-run: apt skips what is installed, ninja rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config nlohmann-json3-dev libutf8proc-dev libcli11-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcpp-httplib-dev libsqlite3-dev libssl-dev libpng-dev time
  chromium)  # chromium: the chat page test drives it headless (playwright-core from npm)
# Node.js runs the end-to-end client tests (the official openai npm package); keep a newer one if present.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build_dir="${TANDEM_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${TANDEM_CMAKE_ARGS:-} >/dev/null
ninja -C "$build_dir" ${TANDEM_TARGETS:-}
