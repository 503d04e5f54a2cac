#!/usr/bin/env bash
# Runs the libFuzzer harnesses (tests/fuzz/*_fuzzer.cpp): the GGUF reader, the JSON-schema
# compiler, chat templates, the tokenizers, the router config and the privacy scanners.
#   scripts/fuzz.sh [MINUTES] [NAME...]   each harness for MINUTES (default 10), all by default
#   scripts/fuzz.sh --smoke               each for a few seconds (CI, from scripts/test.sh)
# Builds them with clang (ASan + UBSan + libFuzzer) in build-fuzz/. The corpus of each starts
# from tests/fuzz/corpus/NAME (plus the tokenizer test inputs and examples/router.json) and
# grows in build-fuzz/corpus/NAME across runs; a crash is saved in build-fuzz/findings/NAME/
# and makes the script fail. Prints, per harness, the executions run and what was found.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
install_packages clang python3  # python3: the tokenizer seeds below

smoke=0
minutes=10
if [ "${1:-}" = "--smoke" ]; then
  smoke=1
  shift
elif [[ "${1:-}" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  minutes=$1
  shift
fi

build_dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_FUZZ=ON \
  -DTANDEM_TESTS=OFF >/dev/null
all=()
for source in tests/fuzz/*_fuzzer.cpp; do
  name=$(basename "$source" .cpp)
  all+=("${name%_fuzzer}")
done
names=("$@")
((${#names[@]})) || names=("${all[@]}")
targets=()
for name in "${names[@]}"; do targets+=("${name}_fuzzer"); done
ninja -C "$build_dir" "${targets[@]}"

shared=$(cd .. && pwd)/shared
seed_corpus() {  # NAME DIR: the committed seeds plus inputs that live elsewhere
  cp -n tests/fuzz/corpus/"$1"/* "$2"/ 2>/dev/null || true
  case $1 in
    router_config) cp -n examples/router.json "$2"/example.json ;;
    tokenizer)  # llama.cpp's tokenizer test inputs, one file each, behind a selector byte
      local i=0 inp
      for inp in "$shared"/tokenizers/*.inp; do
        [ -e "$inp" ] || continue
        python3 - "$inp" "$2" "$i" <<'EOF'
import sys
inp, out, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
for j, text in enumerate(open(inp, encoding="utf-8").read().split("\n__ggml_vocab_test__\n")):
    with open(f"{out}/vocab-{base}-{j}", "wb") as f:
        f.write(bytes([(base + j) % 256]) + text.encode())
EOF
        i=$((i + 1))
      done ;;
  esac
}

failed=0
summary=()
for name in "${names[@]}"; do
  corpus="$build_dir/corpus/$name"
  findings="$build_dir/findings/$name"
  mkdir -p "$corpus" "$findings"
  seed_corpus "$name" "$corpus"
  if ((smoke)); then
    limit=(-runs=3000 -max_total_time=20)  # seconds: the seeds and a few thousand mutations
  else
    limit=(-max_total_time="$(python3 -c "print(int($minutes * 60))")")
  fi
  log="$build_dir/findings/$name.log"
  echo "== fuzz $name (${limit[*]})"
  set +e
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build_dir/${name}_fuzzer" "$corpus" -artifact_prefix="$findings/" -print_final_stats=1 -max_len=65536 \
    -rss_limit_mb=4096 -timeout=30 "${limit[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  found=$(ls "$findings" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
  if ((rc != 0)) || [ -n "$found" ]; then
    failed=1
    summary+=("$name: ${runs:-?} executions, FOUND: $(echo $found) (log: $log)")
    tail -n 40 "$log" >&2
  else
    summary+=("$name: ${runs:-?} executions, corpus $(ls "$corpus" | wc -l) inputs, nothing found")
  fi
done
printf '%s\n' "${summary[@]}"
exit $failed
