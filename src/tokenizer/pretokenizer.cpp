#include "tokenizer/pretokenizer.h"

#include <initializer_list>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tandem::tokenizer {

namespace {

// Patterns as llama.cpp's src/llama-vocab.cpp lists them per pre-tokenizer.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-4o's split (Phi-4-mini, Llama 4) as llama.cpp rewrites it for std::regex: an upper-
// or title-case run is "a letter that is not a-z", a lower-case run "a letter not A-Z".
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?)"
    R"(|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kCjk = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
// Cased letters (Unicode L&), from DeepSeek's tokenizer.json.
constexpr const char* kDeepseekLetters =
    "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373"
    "\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F"
    "\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77"
    "\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D"
    "\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4"
    "\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
    "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D"
    "\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A"
    "\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2"
    "\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+";
constexpr const char* kDeepseekPunctuation = "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+";

struct Family {
  std::initializer_list<const char*> names;
  std::initializer_list<const char*> regexes;
  bool ignore_merges = false;
  bool add_bos = false;
};

const std::initializer_list<Family> kFamilies = {
    {{"default"}, {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
    {{"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"}, {kLlama3}, true, true},
    {{"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {kLlama3}},  // GLM-4's split is Llama 3's
    {{"gpt-4o", "llama4"}, {kGpt4o}},
    {{"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan"}, {kQwen2}},
    {{"deepseek-llm"}, {"[\\r\\n]", kDeepseekLetters, kDeepseekPunctuation, "\\s+$", kCjk, R"(\p{N}+)"}},
    {{"deepseek-coder"}, {"[\\r\\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}},
    {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
    {{"starcoder", "refact", "smollm", "command-r", "codeshell", "exaone", "minerva-7b"}, {R"(\p{N})", kGpt2}},
    {{"gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "exaone4"},
     {kGpt2}},
};

}  // namespace

std::string Pretokenizer::supported_names() {
  std::string names;
  for (const auto& family : kFamilies) {
    for (const char* name : family.names) names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return names;
}

Pretokenizer Pretokenizer::for_name(std::string_view pre) {
  for (const auto& family : kFamilies) {
    for (const char* name : family.names) {
      if (pre != name) continue;
      Pretokenizer result;
      result.name_ = name;
      for (const char* regex : family.regexes) result.regexes_.emplace_back(regex);
      result.ignore_merges_ = family.ignore_merges;
      result.add_bos_ = family.add_bos;
      return result;
    }
  }
  fail("unsupported pre-tokenizer tokenizer.ggml.pre = '", pre, "' (supported: ", supported_names(), ")");
}

std::vector<std::string> Pretokenizer::split(std::string_view text) const {
  const std::vector<uint32_t> codepoints = unicode::decode_lenient(text);
  // llama.cpp's std::regex cannot see non-ASCII whitespace, so it folds it to
  // U+000B first: literal classes must not match it, \s still must.
  std::vector<uint32_t> folded(codepoints.size());
  std::vector<uint16_t> flags(codepoints.size());
  for (size_t i = 0; i < codepoints.size(); ++i) {
    flags[i] = unicode::flags(codepoints[i]);
    folded[i] = (codepoints[i] > 0x7F && (flags[i] & unicode::kWhitespace)) ? 0x0B : codepoints[i];
  }

  std::vector<size_t> pieces = {codepoints.size()};
  std::vector<size_t> next;
  for (const auto& regex : regexes_) {
    next.clear();
    size_t begin = 0;
    for (size_t length : pieces) {
      regex.split(folded, flags, begin, begin + length, next);
      begin += length;
    }
    pieces.swap(next);
  }

  std::vector<std::string> words;
  words.reserve(pieces.size());
  size_t begin = 0;
  for (size_t length : pieces) {
    if (length == 0) continue;
    std::string& word = words.emplace_back();
    for (size_t i = begin; i < begin + length; ++i) unicode::append_utf8(word, codepoints[i]);
    begin += length;
  }
  return words;
}

}  // namespace tandem::tokenizer
