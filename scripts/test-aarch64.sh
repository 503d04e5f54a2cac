#!/usr/bin/env bash
# The phone path: cross-builds Tandem for aarch64 (Debian's g++-aarch64-linux-gnu) into
# build-aarch64/ and runs the tests that exercise the engine's arithmetic under qemu-user.
# Kept lean for CI (2 cores): only the targets below are built, and the slow ones run a subset.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/packages.sh
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
fi
# The cross compiler, the emulator, and the arm64 builds of the libraries the engine and tests
# link (the HTTP server is left out: -DTANDEM_SERVER=OFF below). qemu-user runs the dynamic
# binaries with the arm64 loader and libraries from the host's multiarch paths, so the runtime
# libraries are listed too: libgtest-dev:arm64 is static and brings no libstdc++6:arm64.
packages=(g++-aarch64-linux-gnu qemu-user libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64
  libutf8proc-dev:arm64 libgtest-dev:arm64 libedit-dev:arm64)
install_packages "${packages[@]}"

# "executable:gtest filter[:qemu cpu]". Everything runs whole except the conformance test: the
# float-path goldens (F32, deq_*) and gemma2 take minutes under emulation, so on ARM it checks
# the goldens the NEON kernels compute (Q8_0, Q4_0, Q4_K_M) of the 2-layer models on prompt1
# only; the native run checks them all. qemu's default cpu ("max") has dotprod and i8mm; the
# kernel tests run again on a neoverse-n1 (dotprod, no i8mm) and a cortex-a57 (neither), so
# each of the three NEON builds is the one chosen somewhere.
tests=(
  kernels_neon_test:'*'
  kernels_neon_test:'*':neoverse-n1
  kernels_neon_test:'*':cortex-a57
  kernels_matmul_test:'*'
  kernels_matmul_test:'*':cortex-a57
  activation_test:'*'
  quant_dot_test:'*'
  quant_kquants_test:'*'
  quant_legacy_test:'*'
  quant_half_test:'*'
  quant_quantize_test:'*'
  quant_iquants_test:'*'
  iquants_fuzz_test:'*'
  tokenizer_unit_test:'*'
  tokenizer_vectors_test:'*'
  conformance_logits_test:'*_golden_Q*_prompt1_json-*gemma2*'
  cli_test:'*'
)
targets=($(printf '%s\n' "${tests[@]%%:*}" | sort -u))

build_dir=build-aarch64
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTANDEM_SERVER=OFF \
  --toolchain cmake/aarch64-linux-gnu.cmake >/dev/null
ninja -C "$build_dir" "${targets[@]}"

# The NEON table must be linked into the engine itself, not only into the tests that name it.
# (nm's output is captured first: with pipefail, `nm | grep -q` fails when grep exits early.)
symbols=$(aarch64-linux-gnu-nm "$build_dir/tandem")
if ! grep -q ' T _ZN6tandem7kernels17neon_kernel_tableEv$' <<<"$symbols"; then
  echo "aarch64: the tandem CLI lacks the NEON kernels (neon_kernel_table from src/kernels/arm/" \
    "was not linked into the engine)" >&2
  exit 1
fi

# Every library the binaries load must come from the list above (or its dependencies).
check_runtime_packages aarch64-linux-gnu aarch64-linux-gnu-readelf "${packages[*]}" \
  "$build_dir/tandem" "${targets[@]/#/$build_dir/tests/}"

qemu=(qemu-aarch64)
failed=()
for entry in "${tests[@]}"; do
  IFS=: read -r t filter cpu <<<"$entry"
  echo "== aarch64 (qemu -cpu ${cpu:-max}): $t --gtest_filter=$filter"
  start=$SECONDS
  "${qemu[@]}" -cpu "${cpu:-max}" "$build_dir/tests/$t" --gtest_brief=1 --gtest_filter="$filter" || failed+=("$t/${cpu:-max}")
  echo "   $t: $((SECONDS - start))s"
done
if ((${#failed[@]})); then
  echo "aarch64 tests failed: ${failed[*]}" >&2
  exit 1
fi
echo "aarch64: all ${#tests[@]} test runs passed under qemu"
