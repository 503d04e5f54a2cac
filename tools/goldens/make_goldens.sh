#!/usr/bin/env bash
# Makes the golden-test models of tests/data/goldens/<name>/ and their goldens from the
# reference engine. See tools/goldens/README.md. Run from the repository root:
#
#   tools/goldens/make_goldens.sh [NAME...]      (default: every tests/data/goldens/*/spec.json)
#
# Needs: build/tandem (the synth command writes the models), the reference build in
# $GOLDEN_REF (default /work/ref/llama.cpp, see /work/ref/README.md) with llama-quantize,
# and build-goldens/golden_dump (tools/goldens/build.sh). Deterministic: re-running
# reproduces every file byte for byte.
set -euo pipefail

REF=${GOLDEN_REF:-/work/ref/llama.cpp}
TANDEM=${TANDEM:-build/tandem}
DUMP=${GOLDEN_DUMP:-build-goldens/golden_dump}
QUANTIZE=$REF/build/bin/llama-quantize
# The conformance prompts, as text files (the dump reads the prompt byte for byte).
PROMPTS=$(mktemp -d)
trap 'rm -rf "$PROMPTS"' EXIT
/usr/bin/python3 -c '
import json, sys
for name, text in json.load(open(sys.argv[1])).items(): open(sys.argv[2] + "/" + name + ".txt", "w").write(text)
' ../shared/conformance/prompts.json "$PROMPTS"
for tool in "$TANDEM" "$DUMP" "$QUANTIZE"; do
  [[ -x $tool ]] || { echo "make_goldens: $tool is missing (see tools/goldens/README.md)" >&2; exit 1; }
done

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for spec in tests/data/goldens/*/spec.json; do names+=("$(basename "$(dirname "$spec")")"); done
fi

for name in "${names[@]}"; do
  dir=tests/data/goldens/$name
  spec=$dir/spec.json
  [[ -f $spec ]] || { echo "make_goldens: $spec not found" >&2; exit 1; }
  # Which types and prompts: "goldens": {"F32": [1,2,3], "Q8_0": [1,2], "deq_Q8_0": [1]} in the spec.
  mapfile -t jobs < <(/usr/bin/python3 -c '
import json, sys
spec = json.load(open(sys.argv[1]))
for q, prompts in spec.get("goldens", {"F32": [1, 2, 3]}).items():
    for p in prompts: print(q, p)' "$spec")
  rm -f "$dir"/model-*.gguf "$dir"/golden-*.json "$dir"/logits-*.f32 "$dir"/quantize-*.log
  "$TANDEM" synth --spec "$spec" --type F32 -o "$dir/model-F32.gguf" -t 1
  for job in "${jobs[@]}"; do
    read -r q p <<<"$job"
    base=${q#deq_}  # deq_<TYPE>: the <TYPE> file's weights dequantized to F32 (not kept)
    model=$dir/model-$base.gguf
    if [[ ! -f $model ]]; then
      # llama-quantize with its defaults (no imatrix), one thread: the per-tensor mix is llama.cpp's own.
      "$QUANTIZE" "$dir/model-F32.gguf" "$model" "$base" 1 > "$dir/quantize-$base.log" 2>&1 ||
        { cat "$dir/quantize-$base.log" >&2; exit 1; }
      sed -i -e "s|$PWD/||g" -e "/ time = /d" "$dir/quantize-$base.log"  # no timings: reruns are byte-identical
    fi
    json=$dir/golden-$q-prompt$p.json
    if [[ $q == deq_* ]]; then
      deq=$dir/model-$q.gguf
      PYTHONPATH=$REF/gguf-py /usr/bin/python3 tools/goldens/dequantize.py "$model" "$deq"
      "$DUMP" logits "$deq" "$PROMPTS/prompt$p.txt" "$json" "$dir/logits-$q-prompt$p.f32"
      rm -f "$deq"
      # As ../shared/conformance: the golden names the file its weights came from.
      /usr/bin/python3 -c '
import hashlib, sys
json_path, model = sys.argv[1], sys.argv[2]
digest = hashlib.sha256(open(model, "rb").read()).hexdigest()
name = model.rsplit("/", 1)[-1]
line = ("  \"dequantized_from\": {\"file\": \"%s\", \"sha256\": \"%s\", \"tool\": \"tools/goldens/dequantize.py "
        "(gguf-py quants.dequantize of the reference)\", \"shipped\": false},\n" % (name, digest))
text = open(json_path).read().split("\n")
at = next(i for i, l in enumerate(text) if l.startswith("  \"model_size_bytes\""))
open(json_path, "w").write("\n".join(text[:at + 1]) + "\n" + line + "\n".join(text[at + 1:]))
' "$json" "$model"
    else
      "$DUMP" logits "$model" "$PROMPTS/prompt$p.txt" "$json" "$dir/logits-$q-prompt$p.f32"
    fi
    echo "$json"
  done
done
