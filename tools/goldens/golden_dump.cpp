// golden_dump: golden logits and token vectors from the reference engine (llama.cpp),
// through its public API (llama.h) only. Built against a llama.cpp build outside the
// repository, never by Tandem's CMake (tools/goldens/README.md).
//
//   golden_dump logits MODEL.gguf PROMPT_FILE OUT.json LOGITS.f32 [N_GEN]
//     One llama_decode of the whole prompt (logits of every position), then N_GEN (24)
//     greedy steps, one token per llama_decode; writes ../shared/conformance's
//     "llamacpp-golden-v1" JSON and the raw float32 logits of the last prompt position.
//   golden_dump tokenize VOCAB.gguf INP OUT [KEY=str:VALUE ...]
//     Token ids of each string of INP (separated by "\n__ggml_vocab_test__\n"), no BOS/EOS,
//     control-token text not parsed: one line per string, each id preceded by a space
//     (the .inp/.out convention of llama.cpp's test-tokenizer-0 and ../shared/tokenizers).
//     Metadata overrides (llama.cpp's kv_overrides) let one real vocabulary run under another
//     family's pre-tokenizer or flags, e.g. tokenizer.ggml.pre=str:gpt-4o.
//
// Settings are those of ../shared/conformance/README.md: CPU, 1 thread, n_ctx 512, one
// ubatch of 512, F32 KV cache, no flash attention, argmax with ties to the lowest id.
#include <llama.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kCtx = 512;
constexpr int kTopPrompt = 20, kTopGreedy = 5;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "golden_dump: %s\n", message.c_str());
  std::exit(1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- SHA-256 (FIPS 180-4), so the JSON names the exact bytes it was computed from ---
struct Sha256 {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t block[64];
  size_t used = 0;
  uint64_t bits = 0;
  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void compress() {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
      uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  void update(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    bits += (uint64_t)n * 8;
    while (n--) {
      block[used++] = *p++;
      if (used == 64) compress(), used = 0;
    }
  }
  std::string hex() {
    const uint64_t total = bits;
    const uint8_t one = 0x80, zero = 0;
    update(&one, 1);
    while (used != 56) update(&zero, 1);
    for (int i = 7; i >= 0; i--) {
      const uint8_t byte = (uint8_t)(total >> (8 * i));
      update(&byte, 1);
    }
    char out[65];
    for (int i = 0; i < 8; i++) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
    return out;
  }
};

std::string sha256_of(const std::string& bytes) {
  Sha256 s;
  s.update(bytes.data(), bytes.size());
  return s.hex();
}

// --- JSON text ---
std::string num(double v) {  // %.9g round-trips float32
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Invalid UTF-8 -> U+FFFD per maximal invalid subsequence (as Python's errors="replace").
std::string utf8_replaced(const std::string& s, bool* valid = nullptr) {
  std::string out;
  bool ok = true;
  for (size_t i = 0; i < s.size();) {
    const uint8_t c = (uint8_t)s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (c == 0xC0 || c == 0xC1 || c > 0xF4) len = 0;
    size_t j = i + 1;
    bool good = len > 0;
    for (int k = 1; good && k < len; k++, j++) {
      if (j >= s.size()) { good = false; break; }
      const uint8_t b = (uint8_t)s[j];
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) { good = false; break; }
    }
    if (good) {
      out.append(s, i, len);
      i += len;
    } else {
      ok = false;
      out += "\xEF\xBF\xBD";
      i = std::max(j, i + 1);
    }
  }
  if (valid) *valid = ok;
  return out;
}

std::string quote(const std::string& raw) {
  const std::string s = utf8_replaced(raw);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += (char)c;
        }
    }
  }
  return out + "\"";
}

template <class T, class F>
std::string list(const std::vector<T>& items, F render) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); i++) out += (i ? ", " : "") + render(items[i]);
  return out + "]";
}

std::string hex_of(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) std::snprintf(buf, sizeof buf, "%02x", c), out += buf;
  return out;
}

// --- llama.cpp ---
using Top = std::vector<std::pair<int, float>>;

Top top_k(const float* logits, int n_vocab, int k) {
  std::vector<int> ids(n_vocab);
  for (int i = 0; i < n_vocab; i++) ids[i] = i;
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int a, int b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  Top out;
  for (int i = 0; i < k; i++) out.emplace_back(ids[i], logits[ids[i]]);
  return out;
}

std::string render_top(const Top& top) {
  return list(top, [](const std::pair<int, float>& p) { return "[" + std::to_string(p.first) + ", " + num(p.second) + "]"; });
}

std::string piece(const llama_vocab* vocab, llama_token id, bool special) {
  std::vector<char> buf(256);
  int n = llama_token_to_piece(vocab, id, buf.data(), (int)buf.size(), 0, special);
  if (n < 0) {
    buf.resize(-n);
    n = llama_token_to_piece(vocab, id, buf.data(), (int)buf.size(), 0, special);
  }
  return std::string(buf.data(), n);
}

std::vector<llama_token> tokenize(const llama_vocab* vocab, const std::string& text, bool add_special) {
  std::vector<llama_token> ids(text.size() + 16);
  int n = llama_tokenize(vocab, text.data(), (int)text.size(), ids.data(), (int)ids.size(), add_special, false);
  if (n < 0) {
    ids.resize(-n);
    n = llama_tokenize(vocab, text.data(), (int)text.size(), ids.data(), (int)ids.size(), add_special, false);
  }
  if (n < 0) die("tokenization failed");
  ids.resize(n);
  return ids;
}

void quiet_log(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

// KEY=str:VALUE, KEY=bool:true|false, KEY=int:N: metadata as llama.cpp's kv_overrides see it.
std::vector<llama_model_kv_override> parse_overrides(const std::vector<std::string>& specs) {
  std::vector<llama_model_kv_override> out;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('='), colon = spec.find(':', eq);
    if (eq == std::string::npos || colon == std::string::npos || eq >= 127) die("bad override '" + spec + "'");
    llama_model_kv_override o{};
    std::snprintf(o.key, sizeof o.key, "%s", spec.substr(0, eq).c_str());
    const std::string type = spec.substr(eq + 1, colon - eq - 1), value = spec.substr(colon + 1);
    if (type == "str") o.tag = LLAMA_KV_OVERRIDE_TYPE_STR, std::snprintf(o.val_str, sizeof o.val_str, "%s", value.c_str());
    else if (type == "bool") o.tag = LLAMA_KV_OVERRIDE_TYPE_BOOL, o.val_bool = value == "true";
    else if (type == "int") o.tag = LLAMA_KV_OVERRIDE_TYPE_INT, o.val_i64 = std::stoll(value);
    else die("bad override type in '" + spec + "' (str, bool, int)");
    out.push_back(o);
  }
  out.emplace_back();  // key[0] == 0 ends the list
  return out;
}

llama_model* load(const std::string& path, bool vocab_only, const std::vector<llama_model_kv_override>* overrides = nullptr) {
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.vocab_only = vocab_only;
  if (overrides) mp.kv_overrides = overrides->data();
  llama_model* model = llama_model_load_from_file(path.c_str(), mp);
  if (!model) die("llama.cpp could not load " + path);
  return model;
}

std::string basename(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int cmd_logits(const std::string& model_path, const std::string& prompt_path, const std::string& out_path,
               const std::string& logits_path, int n_gen) {
  const std::string prompt = read_file(prompt_path);
  const std::string model_bytes = read_file(model_path);
  llama_model* model = load(model_path, false);
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = kCtx;
  cp.n_batch = cp.n_ubatch = kCtx;
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = 1;
  cp.type_k = cp.type_v = GGML_TYPE_F32;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) die("llama_init_from_model failed for " + model_path);

  const std::vector<llama_token> tokens = tokenize(vocab, prompt, true);
  const int n_prompt = (int)tokens.size();
  if (n_prompt + n_gen > kCtx) die("prompt of " + std::to_string(n_prompt) + " tokens does not fit the context");

  llama_batch batch = llama_batch_init(kCtx, 0, 1);
  batch.n_tokens = n_prompt;
  for (int i = 0; i < n_prompt; i++) {
    batch.token[i] = tokens[i];
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  if (llama_decode(ctx, batch) != 0) die("llama_decode failed on the prompt");

  std::vector<Top> prompt_top;
  float prompt_min_gap = INFINITY;
  std::vector<float> last(n_vocab);
  for (int i = 0; i < n_prompt; i++) {
    const float* row = llama_get_logits_ith(ctx, i);
    prompt_top.push_back(top_k(row, n_vocab, kTopPrompt));
    prompt_min_gap = std::min(prompt_min_gap, prompt_top.back()[0].second - prompt_top.back()[1].second);
    if (i == n_prompt - 1) std::copy(row, row + n_vocab, last.begin());
  }
  const std::string last_bytes(reinterpret_cast<const char*>(last.data()), last.size() * sizeof(float));
  std::ofstream(logits_path, std::ios::binary) << last_bytes;

  // Greedy: argmax of the raw logits (ties to the lowest id), one token per decode.
  std::vector<llama_token> ids;
  std::vector<Top> steps;
  std::vector<float> current = last;
  float min_gap = INFINITY;
  int min_gap_step = 0;
  for (int s = 0; s < n_gen; s++) {
    if (s > 0) {
      batch.n_tokens = 1;
      batch.token[0] = ids.back();
      batch.pos[0] = n_prompt + s - 1;
      batch.n_seq_id[0] = 1;
      batch.seq_id[0][0] = 0;
      batch.logits[0] = 1;
      if (llama_decode(ctx, batch) != 0) die("llama_decode failed at greedy step " + std::to_string(s));
      const float* row = llama_get_logits_ith(ctx, 0);
      current.assign(row, row + n_vocab);
    }
    steps.push_back(top_k(current.data(), n_vocab, kTopGreedy));
    ids.push_back(steps.back()[0].first);
    const float gap = steps.back()[0].second - steps.back()[1].second;
    if (gap < min_gap) min_gap = gap, min_gap_step = s;
  }
  llama_batch_free(batch);

  std::string text, text_detok;
  std::vector<std::string> pieces;
  for (llama_token id : ids) {
    text += piece(vocab, id, false);
    pieces.push_back(piece(vocab, id, true));
  }
  {
    std::vector<char> buf(4096);
    int n = llama_detokenize(vocab, ids.data(), (int)ids.size(), buf.data(), (int)buf.size(), false, false);
    if (n < 0) buf.resize(-n), n = llama_detokenize(vocab, ids.data(), (int)ids.size(), buf.data(), (int)buf.size(), false, false);
    text_detok.assign(buf.data(), std::max(n, 0));
  }
  bool text_valid = true;
  utf8_replaced(text, &text_valid);

  // Metadata as llama.cpp reads it: every non-array key, sorted.
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < llama_model_meta_count(model); i++) {
    char key[512], value[65536];
    llama_model_meta_key_by_index(model, i, key, sizeof key);
    llama_model_meta_val_str_by_index(model, i, value, sizeof value);
    kv.emplace_back(key, value);
  }
  std::sort(kv.begin(), kv.end());
  char desc[256];
  llama_model_desc(model, desc, sizeof desc);
  char arch[128] = "";
  llama_model_meta_val_str(model, "general.architecture", arch, sizeof arch);

  std::vector<std::string> prompt_pieces;
  for (llama_token id : tokens) prompt_pieces.push_back(piece(vocab, id, true));

  std::string j = "{\n";
  auto field = [&](const std::string& name, const std::string& value, bool last_field = false) {
    j += "  " + quote(name) + ": " + value + (last_field ? "\n" : ",\n");
  };
  field("format", quote("llamacpp-golden-v1"));
  field("model_file", quote(basename(model_path)));
  field("model_sha256", quote(sha256_of(model_bytes)));
  field("model_size_bytes", std::to_string(model_bytes.size()));
  field("arch", quote(arch));
  field("model_desc", quote(desc));
  field("n_vocab", std::to_string(n_vocab));
  field("n_embd", std::to_string(llama_model_n_embd(model)));
  field("n_layer", std::to_string(llama_model_n_layer(model)));
  field("rope_type", std::to_string((int)llama_model_rope_type(model)));
  {
    std::string obj = "{\n";
    for (size_t i = 0; i < kv.size(); i++)
      obj += "    " + quote(kv[i].first) + ": " + quote(kv[i].second) + (i + 1 < kv.size() ? ",\n" : "\n");
    field("gguf_kv", obj + "  }");
  }
  field("reference_hparams", "{\"n_head\": " + std::to_string(llama_model_n_head(model)) +
                                 ", \"n_head_kv\": " + std::to_string(llama_model_n_head_kv(model)) +
                                 ", \"n_swa\": " + std::to_string(llama_model_n_swa(model)) +
                                 ", \"rope_freq_scale_train\": " + num(llama_model_rope_freq_scale_train(model)) + "}");
  field("reference", std::string("{\"engine\": \"llama.cpp\", \"commit\": \"") + GOLDEN_REF_COMMIT +
                         "\", \"api\": \"llama.h (llama_decode)\", \"backend\": \"" + GOLDEN_REF_BACKEND + "\"}");
  field("settings",
        "{\"n_threads\": 1, \"n_threads_batch\": 1, \"n_ctx\": 512, \"n_batch\": 512, \"n_ubatch\": 512, \"type_k\": "
        "\"f32\", \"type_v\": \"f32\", \"flash_attn\": false, \"n_gpu_layers\": 0, \"use_mmap\": true, \"prompt_eval\": "
        "\"single llama_decode of all prompt tokens in one ubatch, logits for every position\", \"decode\": \"one token "
        "per llama_decode\", \"sampling\": \"argmax of raw logits (ties -> lowest id), no sampler, no EOS stop\"}");
  field("prompt", quote(prompt));
  field("tokenize", "{\"add_special\": true, \"parse_special\": false}");
  field("add_bos", llama_vocab_get_add_bos(vocab) ? "true" : "false");
  field("add_eos", llama_vocab_get_add_eos(vocab) ? "true" : "false");
  field("bos_id", std::to_string(llama_vocab_bos(vocab)));
  field("eos_id", std::to_string(llama_vocab_eos(vocab)));
  field("n_prompt_tokens", std::to_string(n_prompt));
  field("prompt_tokens", list(tokens, [](llama_token t) { return std::to_string(t); }));
  field("prompt_token_pieces", list(prompt_pieces, quote));
  {
    std::string rows = "[\n";
    for (size_t i = 0; i < prompt_top.size(); i++) rows += "    " + render_top(prompt_top[i]) + (i + 1 < prompt_top.size() ? ",\n" : "\n");
    field("prompt_top20", rows + "  ]");
  }
  field("prompt_min_top2_gap", num(prompt_min_gap));
  field("last_prompt_logits", "{\"file\": " + quote(basename(logits_path)) +
                                  ", \"dtype\": \"float32\", \"endianness\": \"little\", \"shape\": [" + std::to_string(n_vocab) +
                                  "], \"position\": " + std::to_string(n_prompt - 1) + ", \"sha256\": " +
                                  quote(sha256_of(last_bytes)) + "}");
  {
    std::string g = "{\n";
    auto gf = [&](const std::string& name, const std::string& value, bool last_field = false) {
      g += "    " + quote(name) + ": " + value + (last_field ? "\n" : ",\n");
    };
    gf("n_gen", std::to_string(n_gen));
    gf("forced", "false");
    gf("ids", list(ids, [](llama_token t) { return std::to_string(t); }));
    gf("text", quote(text));
    gf("text_is_valid_utf8", text_valid ? "true" : "false");
    gf("text_detokenize", quote(text_detok));
    gf("pieces", list(pieces, quote));
    gf("pieces_hex", list(pieces, [](const std::string& p) { return quote(hex_of(p)); }));
    gf("min_top2_gap", num(min_gap));
    gf("min_top2_gap_step", std::to_string(min_gap_step));
    std::string top = "[\n";
    for (size_t s = 0; s < steps.size(); s++) top += "      " + render_top(steps[s]) + (s + 1 < steps.size() ? ",\n" : "\n");
    gf("top5", top + "    ]", true);
    field("greedy", g + "  }", true);
  }
  j += "}\n";
  std::ofstream(out_path, std::ios::binary) << j;

  llama_free(ctx);
  llama_model_free(model);
  return 0;
}

int cmd_tokenize(const std::string& vocab_path, const std::string& inp_path, const std::string& out_path,
                 const std::vector<std::string>& override_specs) {
  const std::vector<llama_model_kv_override> overrides = parse_overrides(override_specs);
  llama_model* model = load(vocab_path, true, &overrides);
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const std::string raw = read_file(inp_path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < raw.size();) {
    const size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(raw.substr(pos));
      break;
    }
    texts.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::string out;
  for (const std::string& text : texts) {
    for (llama_token id : tokenize(vocab, text, false)) out += " " + std::to_string(id);
    out += "\n";
  }
  std::ofstream(out_path, std::ios::binary) << out;
  llama_model_free(model);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "logits" && (argc == 6 || argc == 7))
    return cmd_logits(argv[2], argv[3], argv[4], argv[5], argc == 7 ? std::atoi(argv[6]) : 24);
  if (cmd == "tokenize" && argc >= 5) return cmd_tokenize(argv[2], argv[3], argv[4], std::vector<std::string>(argv + 5, argv + argc));
  std::fprintf(stderr,
               "usage: golden_dump logits MODEL.gguf PROMPT_FILE OUT.json LOGITS.f32 [N_GEN]\n"
               "       golden_dump tokenize VOCAB.gguf INP OUT [KEY=str:VALUE|KEY=bool:true|KEY=int:N ...]\n");
  return 2;
}
