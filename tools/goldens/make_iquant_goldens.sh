#!/usr/bin/env bash
# Makes tests/data/goldens/llama-iquants/: the conformance llama model
# (../shared/conformance/llama/model-F32.gguf) quantized by the reference's llama-quantize to
# each file type named for an i-quant or ternary type, and the reference's goldens of each:
#   golden-<FTYPE>-promptN.json      llama.cpp running the quantized file (it quantizes its
#                                     activations on the fly, as Tandem's SIMD kernels do)
#   golden-deq_<FTYPE>-promptN.json  llama.cpp running the same weights dequantized to F32 by
#                                     gguf-py (tools/goldens/dequantize_gguf.py; that model is
#                                     not kept): the oracle for Tandem's float path
# plus logits-*.f32 and quantize-<FTYPE>.log. Types that llama-quantize only makes with an
# importance matrix get one from the reference's llama-imatrix over the start of
# ../shared/text/tinystories_head.txt (imatrix.gguf; the same run in the legacy format,
# imatrix.dat, and IQ4_XS quantized with each, model-IQ4_XS-imatrix{,-dat}.gguf, are the
# reference `tandem quantize --imatrix` must reproduce). Run from the repository root:
#
#   tools/goldens/make_iquant_goldens.sh [FTYPE...]      (default: all below)
#
# Needs the reference build in $GOLDEN_REF (default /work/ref/llama.cpp) with llama-quantize
# and llama-imatrix, golden_dump ($GOLDEN_DUMP, default build-goldens/golden_dump, made by
# tools/goldens/build.sh) and /usr/bin/python3 with numpy. Deterministic (one thread).
set -euo pipefail

REF=${GOLDEN_REF:-/work/ref/llama.cpp}
DUMP=${GOLDEN_DUMP:-build-goldens/golden_dump}
QUANTIZE=$REF/build/bin/llama-quantize
IMATRIX=$REF/build/bin/llama-imatrix
SOURCE=../shared/conformance/llama/model-F32.gguf
OUT=tests/data/goldens/llama-iquants

# llama.cpp file type -> prompts. The file types are named for the ggml type most tensors get,
# except IQ2_M, whose base type is IQ2_S (llama.cpp's "IQ2_S" file type is mostly IQ2_XS).
declare -A PROMPTS=(
  [IQ4_XS]="1 2 3" [IQ4_NL]="1 2 3" [IQ3_S]="1 2" [IQ3_XXS]="1 2" [IQ2_M]="1 2" [IQ2_XS]="1 2"
  [IQ2_XXS]="1 2" [IQ1_M]="1 2" [IQ1_S]="1 2" [TQ2_0]="1 2" [TQ1_0]="1 2"
)
NEEDS_IMATRIX=" IQ3_XXS IQ2_M IQ2_XS IQ2_XXS IQ1_M IQ1_S "
# The logs are kept without what changes from run to run: elapsed-time stamps and timings.
TIMINGS='s/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ //; / time = |took|seconds per pass|ETA /d'


ftypes=("$@")
[[ ${#ftypes[@]} -gt 0 ]] || ftypes=(IQ4_XS IQ4_NL IQ3_S IQ3_XXS IQ2_M IQ2_XS IQ2_XXS IQ1_M IQ1_S TQ2_0 TQ1_0)
for tool in "$QUANTIZE" "$IMATRIX" "$DUMP"; do
  [[ -x $tool ]] || { echo "make_iquant_goldens: $tool is missing (see the header of this script)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -c '
import json, sys
for name, text in json.load(open(sys.argv[1])).items(): open(sys.argv[2] + "/" + name + ".txt", "w").write(text)
' ../shared/conformance/prompts.json "$work"
mkdir -p "$OUT"

if [[ ! -f $OUT/imatrix.gguf ]]; then
  # 16 chunks of 128 tokens: the model's context is 512, its vocabulary tinystories'.
  head -c 40000 ../shared/text/tinystories_head.txt > "$work/imatrix.txt"
  for format in gguf dat; do
    "$IMATRIX" -m "$SOURCE" -f "$work/imatrix.txt" -o "$OUT/imatrix.$format" --output-format "$format" -c 128 \
      --chunks 16 -t 1 > "$OUT/imatrix-$format.log" 2>&1 || { cat "$OUT/imatrix-$format.log" >&2; exit 1; }
    sed -i -E "s|$PWD/||g; s|$work/||g; $TIMINGS" "$OUT/imatrix-$format.log"
  done
  "$QUANTIZE" --imatrix "$OUT/imatrix.gguf" "$SOURCE" "$OUT/model-IQ4_XS-imatrix.gguf" IQ4_XS 1 > "$work/q.log" 2>&1 ||
    { cat "$work/q.log" >&2; exit 1; }
  "$QUANTIZE" --imatrix "$OUT/imatrix.dat" "$SOURCE" "$OUT/model-IQ4_XS-imatrix-dat.gguf" IQ4_XS 1 > "$work/q.log" 2>&1 ||
    { cat "$work/q.log" >&2; exit 1; }
fi

for ft in "${ftypes[@]}"; do
  [[ -n ${PROMPTS[$ft]:-} ]] || { echo "make_iquant_goldens: unknown file type $ft" >&2; exit 1; }
  rm -f "$OUT"/model-"$ft".gguf "$OUT"/golden-{,deq_}"$ft"-prompt*.json "$OUT"/logits-{,deq_}"$ft"-prompt*.f32
  imatrix=()
  [[ $NEEDS_IMATRIX == *" $ft "* ]] && imatrix=(--imatrix "$OUT/imatrix.gguf")
  "$QUANTIZE" "${imatrix[@]}" "$SOURCE" "$OUT/model-$ft.gguf" "$ft" 1 > "$OUT/quantize-$ft.log" 2>&1 ||
    { cat "$OUT/quantize-$ft.log" >&2; exit 1; }
  sed -i -E "s|$PWD/||g; s|$REF/||g; $TIMINGS" "$OUT/quantize-$ft.log"
  /usr/bin/python3 tools/goldens/dequantize_gguf.py "$OUT/model-$ft.gguf" "$work/model-deq_$ft.gguf"
  for p in ${PROMPTS[$ft]}; do
    "$DUMP" logits "$OUT/model-$ft.gguf" "$work/prompt$p.txt" "$OUT/golden-$ft-prompt$p.json" "$OUT/logits-$ft-prompt$p.f32"
    "$DUMP" logits "$work/model-deq_$ft.gguf" "$work/prompt$p.txt" "$OUT/golden-deq_$ft-prompt$p.json" \
      "$OUT/logits-deq_$ft-prompt$p.f32"
    # As ../shared/conformance's deq_ goldens: name the file the weights came from.
    /usr/bin/python3 - "$OUT/golden-deq_$ft-prompt$p.json" "$OUT/model-$ft.gguf" <<'EOF'
import hashlib, json, os, sys
path, source = sys.argv[1], sys.argv[2]
golden = json.load(open(path))
golden["dequantized_from"] = {"file": os.path.basename(source), "sha256": hashlib.sha256(open(source, "rb").read()).hexdigest(),
                              "tool": "tools/goldens/dequantize_gguf.py (gguf-py)", "shipped": False}
json.dump(golden, open(path, "w"), indent=1)
EOF
    echo "$OUT/golden-$ft-prompt$p.json"
  done
done
