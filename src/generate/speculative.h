// Speculative decoding: something cheap drafts the next few tokens, the target model
// evaluates all of them in one batched pass (logits for every position), and
// generate::Generation::choose() verifies the rows one at a time, so there is still
// one generation loop. Greedy output is the target's own greedy output; sampled
// output follows the target's distribution by the standard rejection scheme
// (Leviathan et al. 2023, Chen et al. 2023): a drafted token d drawn from q is kept
// with probability min(1, p(d) / q(d)); otherwise the token is drawn from the
// residual max(0, p - q), normalised.
//
// Two drafters: a smaller model with the target's vocabulary (ModelDrafter, on its
// own Sequence), and prompt lookup (LookupDrafter: the tokens that followed the
// latest earlier occurrence of the text's last n-gram), which pays when the answer
// repeats its input (summaries, rewrites, code edits).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "generate/sampler.h"

namespace tandem::model {
class Model;
}

namespace tandem::generate {

class Sequence;

constexpr int kMaxDraftTokens = 32;  // bounds one verification pass

struct Draft {
  std::vector<int32_t> tokens;
  // Per token, the distribution it was drawn from; empty when every token was chosen
  // outright (a point mass on it: lookup, or a greedy draft model).
  std::vector<std::vector<TokenProb>> q;
  void clear() {
    tokens.clear();
    q.clear();
  }
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Up to `max_tokens` (>= 1) tokens that may follow `history` (the prompt and every
  // token chosen so far). Fewer, or none, when it has no guess.
  virtual void propose(std::span<const int32_t> history, int max_tokens, Draft& out) = 0;
};

struct SpeculativeOptions {
  enum class Method { None, DraftModel, Lookup };
  Method method = Method::None;
  int k = 4;      // tokens drafted per verification pass, 1..kMaxDraftTokens
  int ngram = 3;  // lookup: the longest n-gram matched (then shorter ones, down to 1)
  // A drafter of the caller's own (tests); overrides `method`.
  std::shared_ptr<Drafter> custom;
  bool enabled() const { return custom || method != Method::None; }
};
// "none", "draft" or "lookup".
const char* to_string(SpeculativeOptions::Method method);

// Prompt lookup: the last n tokens of the history (n = ngram, then shorter) are
// searched for earlier in the history; the tokens that followed the latest earlier
// occurrence are the draft.
class LookupDrafter : public Drafter {
 public:
  explicit LookupDrafter(int ngram);
  void propose(std::span<const int32_t> history, int max_tokens, Draft& out) override;

 private:
  int ngram_;
};

// A draft model on its own sequence (same vocabulary as the target: check_draft_model),
// drawing with the target's temperature, top_k, top_p and min_p (no penalties), or
// greedily when the target is greedy.
class ModelDrafter : public Drafter {
 public:
  ModelDrafter(Sequence& sequence, const SamplerOptions& target_sampling);
  void propose(std::span<const int32_t> history, int max_tokens, Draft& out) override;

 private:
  Sequence& sequence_;
  Sampler sampler_;
  std::vector<int32_t> history_;
};

// One verification: the target's distribution p at a drafted token's position, the
// token, and the distribution q it was drawn from (nullptr: a point mass on it).
// `uniform` draws from [0, 1) (the target sampler's seeded sequence).
struct Verdict {
  int32_t token;
  bool accepted;  // token is the draft
  bool operator==(const Verdict&) const = default;
};
Verdict verify_draft(const std::vector<TokenProb>& p, int32_t draft, const std::vector<TokenProb>* q,
                     const std::function<double()>& uniform);

// tandem::Error unless `draft` can draft for `target`: the same token texts (a few
// padding entries more or fewer at the end are allowed, as model families pad).
void check_draft_model(const model::Model& target, const model::Model& draft);

}  // namespace tandem::generate
