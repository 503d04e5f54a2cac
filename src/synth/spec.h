// A synthetic model described by a JSON file instead of a row of shapes.cpp: the small
// golden-test models of tests/data/goldens/<name>/spec.json (tools/goldens/README.md).
//
// {"shape": {ModelShape's fields by name},  "seed": N,
//  "vocab_file": "GGUF whose tokenizer is copied (a path relative to the working directory)",
//  "vocab_slice": {"keep": N, "add": [{"text": "<|im_start|>", "type": 3}], "special": {"eos": "<|im_end|>"}},
//  "output_norm": [mean, sigma],
//  "metadata": {"gemma3.rope.freq_base_swa": {"f32": 20000}, "k": {"u32": 6}, "k2": {"string": "s"},
//               "k3": {"bool": true}, "k4": {"bools": [true, false]}}}
#pragma once
#include <string>

#include "synth/synth.h"

namespace tandem::synth {

// Fills `shape` and every option the spec sets; `options.shape` points to `shape`.
// Error names the file and the field that is missing or malformed.
void read_spec(const std::string& path, ModelShape& shape, SynthOptions& options);

}  // namespace tandem::synth
