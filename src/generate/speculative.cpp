#include "generate/speculative.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "generate/generation.h"
#include "model/context.h"

namespace tandem::generate {
namespace {

int32_t draw_from(const std::vector<TokenProb>& distribution, double total, double u) {
  const double target = u * total;
  double cumulative = 0;
  for (const TokenProb& t : distribution) {
    cumulative += t.p;
    if (target < cumulative) return t.id;
  }
  return distribution.back().id;  // rounding left target at the very end
}

}  // namespace

const char* to_string(SpeculativeOptions::Method method) {
  switch (method) {
    case SpeculativeOptions::Method::None: return "none";
    case SpeculativeOptions::Method::DraftModel: return "draft";
    case SpeculativeOptions::Method::Lookup: return "lookup";
  }
  return "?";
}

// ---- prompt lookup --------------------------------------------------------------------

LookupDrafter::LookupDrafter(int ngram) : ngram_(ngram) {
  if (ngram < 1) fail("prompt lookup needs an n-gram of at least 1 token, got ", ngram);
}

void LookupDrafter::propose(std::span<const int32_t> history, int max_tokens, Draft& out) {
  out.clear();
  const size_t n = history.size();
  for (size_t len = std::min<size_t>(size_t(ngram_), n > 0 ? n - 1 : 0); len >= 1; --len) {
    const auto suffix = history.subspan(n - len);
    // The latest earlier occurrence: it is the one a copy in progress continues from.
    for (size_t start = n - len; start-- > 0;) {
      if (!std::equal(suffix.begin(), suffix.end(), history.begin() + ptrdiff_t(start))) continue;
      for (size_t i = start + len; i < n && out.tokens.size() < size_t(max_tokens); ++i) out.tokens.push_back(history[i]);
      return;
    }
  }
}

// ---- draft model ----------------------------------------------------------------------

namespace {

SamplerOptions draft_sampling(SamplerOptions options) {
  // Penalties would need the drafter to track the target's accepted history; the
  // scheme is exact for any q, so the draft goes without them.
  options.repeat_penalty = 1.0f;
  options.frequency_penalty = 0.0f;
  options.presence_penalty = 0.0f;
  if (options.seed != SamplerOptions::kRandomSeed) options.seed ^= 0x9E3779B97F4A7C15ull;
  return options;
}

}  // namespace

ModelDrafter::ModelDrafter(Sequence& sequence, const SamplerOptions& target_sampling)
    : sequence_(sequence), sampler_(draft_sampling(target_sampling)) {}

void ModelDrafter::propose(std::span<const int32_t> history, int max_tokens, Draft& out) {
  out.clear();
  const int n_ctx = sequence_.n_ctx();
  // The history must fit with room for one more (Sequence::load's rule), and every
  // draft but the last is evaluated.
  if (history.empty() || int(history.size()) > max_prompt_tokens(n_ctx)) return;
  max_tokens = std::min(max_tokens, n_ctx - int(history.size()) + 1);
  history_.assign(history.begin(), history.end());
  sequence_.load(history_);
  const bool greedy = sampler_.options().temperature <= 0.0f;
  const model::Context& context = sequence_.context();
  std::vector<TokenProb> q;
  for (int i = 0; i < max_tokens; ++i) {
    const float* logits = context.logits(0);
    int32_t token;
    if (greedy) {
      token = sampler_.sample(logits, context.n_vocab());
    } else {
      sampler_.distribution(logits, context.n_vocab(), q);
      token = draw_from(q, 1.0, sampler_.uniform());
      out.q.push_back(q);
    }
    out.tokens.push_back(token);
    if (i + 1 < max_tokens) sequence_.append(token);
  }
}

void check_draft_model(const model::Model& target, const model::Model& draft) {
  static const std::string key = "tokenizer.ggml.tokens";
  if (!target.file().has(key) || !draft.file().has(key)) fail("a draft model needs a tokenizer vocabulary in both files");
  const std::vector<std::string>& a = target.file().get_strings(key);
  const std::vector<std::string>& b = draft.file().get_strings(key);
  // Families pad their vocabularies differently per size (Qwen2.5: 151936 and 152064).
  constexpr size_t kPaddingAllowed = 128;
  const size_t common = std::min(a.size(), b.size());
  if (std::max(a.size(), b.size()) - common > kPaddingAllowed)
    fail("the draft model's vocabulary has ", b.size(), " tokens but the target's has ", a.size(),
         ": a draft model needs the target's vocabulary");
  for (size_t i = 0; i < common; ++i)
    if (a[i] != b[i])
      fail("the draft model's token ", i, " is '", b[i], "' but the target's is '", a[i],
           "': a draft model needs the target's vocabulary");
}

// ---- verification ---------------------------------------------------------------------

Verdict verify_draft(const std::vector<TokenProb>& p, int32_t draft, const std::vector<TokenProb>* q,
                     const std::function<double()>& uniform) {
  std::vector<TokenProb> q_by_id;
  if (q) {
    q_by_id = *q;
    std::sort(q_by_id.begin(), q_by_id.end(), [](const TokenProb& a, const TokenProb& b) { return a.id < b.id; });
  }
  auto q_of = [&](int32_t id) {
    if (!q) return id == draft ? 1.0 : 0.0;
    auto it = std::lower_bound(q_by_id.begin(), q_by_id.end(), id, [](const TokenProb& t, int32_t v) { return t.id < v; });
    return it != q_by_id.end() && it->id == id ? it->p : 0.0;
  };
  double p_draft = 0;
  for (const TokenProb& t : p)
    if (t.id == draft) p_draft = t.p;
  // q(draft) > 0 for a token drawn from q; a drafter that says otherwise counts as sure.
  const double q_draft = q_of(draft) > 0 ? q_of(draft) : 1.0;
  if (p_draft > 0 && uniform() * q_draft < p_draft) return {draft, true};
  // The residual max(0, p - q): what p has beyond q.
  std::vector<TokenProb> residual;
  residual.reserve(p.size());
  double total = 0;
  for (const TokenProb& t : p) {
    const double r = t.p - q_of(t.id);
    if (r > 0) {
      residual.push_back({t.id, r});
      total += r;
    }
  }
  // Empty only when p <= q everywhere, i.e. p == q up to rounding: the draft was then
  // accepted with probability 1 but for rounding, and p itself is the right law.
  if (residual.empty()) {
    const int32_t token = draw_from(p, 1.0, uniform());
    return {token, token == draft};
  }
  const int32_t token = draw_from(residual, total, uniform());
  return {token, token == draft};
}

}  // namespace tandem::generate
