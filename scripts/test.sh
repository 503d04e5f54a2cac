#!/usr/bin/env bash
# Builds Tandem and runs every test. First the input-robustness tests under
# AddressSanitizer + UBSan (a separate, smaller build), then the full suite in Release.
set -euo pipefail
cd "$(dirname "$0")/.."

# Sanitizer pass: the tests that feed the engine bad or random bytes, plus the CLI end to end.
# The router's text scanners and config parser take untrusted text too; the sampler and the
# thread pool run on every generated token.
asan_tests=(gguf_fuzz_test gguf_reader_errors_test gguf_writer_test convert_llama2c_test quant_dot_test cli_test
  privacy_test privacy_normalize_test privacy_forms_test privacy_public_test redaction_test policy_test config_test
  ledger_test sampler_test thread_pool_test)
TANDEM_BUILD_DIR=build-asan TANDEM_CMAKE_ARGS="-DTANDEM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  TANDEM_TARGETS="${asan_tests[*]}" scripts/setup.sh
for t in "${asan_tests[@]}"; do
  echo "== ASan/UBSan: $t"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "build-asan/tests/$t" --gtest_brief=1
done

# libFuzzer smoke: each harness (tests/fuzz/*_fuzzer.cpp) over its seeds and a few thousand
# mutations, seconds each; scripts/fuzz.sh MINUTES runs them for real.
scripts/fuzz.sh --smoke

scripts/setup.sh
# Every library the native binaries load must come from setup.sh's package list (or its
# dependencies), not from whatever else this machine has.
source scripts/packages.sh
check_runtime_packages "$(gcc -dumpmachine)" readelf "${tandem_packages[*]}" build/tandem build/tests/*_test

# Phone path: the aarch64 cross-build and its kernel/engine tests under qemu-user (a subset;
# see the script). Before the native ctest, so ctest's summary stays the last output.
scripts/test-aarch64.sh

ctest --test-dir build --output-on-failure -j "$(nproc)"
