#!/usr/bin/env bash
# Builds Tandem and runs every test. First the input-robustness tests under
# AddressSanitizer + UBSan (a separate, smaller build), then the full suite in Release.
set -euo pipefail
cd "$(dirname "$0")/.."

# Sanitizer pass: every parser of untrusted input, fed bad or random bytes. GGUF files (the
# fuzzer goes on into Model::load, a forward pass and the tokenizer), KL base files, text into
# the tokenizers and chat templates, OpenAI request bodies, response_format schemas, the cloud's
# SSE replies, downloads (model_store), llama2.c checkpoints, the router's config and scanners;
# the CLI end to end (its bad-input tests fail on a sanitizer report's own exit code); the
# sampler and the thread pool run on every generated token.
asan_tests=(gguf_fuzz_test kl_base_fuzz_test text_fuzz_test gguf_reader_errors_test gguf_writer_test
  convert_llama2c_test quant_dot_test tokenizer_unit_test chat_template_test json_constraint_test
  server_openai_request_test cloud_health_test model_store_test cli_test
  privacy_test privacy_normalize_test privacy_forms_test privacy_public_test redaction_test policy_test
  config_test ledger_test sampler_test thread_pool_test)
# The newer families' metadata (issue 19): refusals and key-by-key values of every kind, into Model::load and a forward pass.
asan_tests+=(arch_metadata_test model_metadata_fuzz_test)
# i-quants (issue 19): importance matrix files and random bytes in every i-quant's tensor data.
asan_tests+=(imatrix_test iquants_fuzz_test)
# The privacy classifier (issue 17): any bytes give a score in [0, 1] and spans inside the text.
asan_tests+=(privacy_model_test)
# The assistant's document readers (text, HTML, PDF), chunker and tasks file parse what users hand them.
asan_tests+=(document_test chunker_test tasks_test assistant_cli_test)
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
