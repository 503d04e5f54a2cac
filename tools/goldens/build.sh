#!/usr/bin/env bash
# Builds golden_dump against the reference llama.cpp build (not part of Tandem's CMake):
#   tools/goldens/build.sh        -> build-goldens/golden_dump
# GOLDEN_REF: the llama.cpp checkout with a CMake build in build/ (default /work/ref/llama.cpp).
set -euo pipefail
REF=${GOLDEN_REF:-/work/ref/llama.cpp}
[[ -f $REF/build/bin/libllama.so ]] || { echo "build.sh: no $REF/build/bin/libllama.so (see tools/goldens/README.md)" >&2; exit 1; }
commit=$(git -C "$REF" log -1 --format=%h)
backend="CPU (ggml-cpu, GGML_NATIVE=OFF, AVX2+FMA+F16C, OpenMP, LLAMAFILE sgemm, CPU_REPACK)"
mkdir -p build-goldens
g++ -std=c++17 -O2 -Wall -Wextra tools/goldens/golden_dump.cpp -o build-goldens/golden_dump \
  -I"$REF/include" -I"$REF/ggml/include" -L"$REF/build/bin" -lllama -lggml -lggml-base \
  -Wl,-rpath,"$REF/build/bin" \
  -DGOLDEN_REF_COMMIT="\"$commit (node-llama-cpp 3.21.1 bundle)\"" -DGOLDEN_REF_BACKEND="\"$backend\""
echo "built build-goldens/golden_dump against $REF ($commit)"
