#include "generate/generation.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/error.h"

namespace tandem::generate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

const char* to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::ContextFull: return "context_full";
    case FinishReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

void check_prompt(const std::vector<int32_t>& prompt, int n_ctx, int32_t n_vocab) {
  if (prompt.empty()) fail("the prompt is empty; it needs at least one token (e.g. BOS)");
  if (prompt.size() > size_t(std::max(0, max_prompt_tokens(n_ctx)))) {
    fail("the prompt is ", prompt.size(), " tokens but the context holds only ", n_ctx,
         " and must keep one position for the answer (raise the context size or shorten the prompt)");
  }
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= n_vocab) {
      fail("prompt token ", i, " has id ", prompt[i], ", outside the vocabulary [0, ", n_vocab, ")");
    }
  }
}

TokenLogprob token_logprob(const float* logits, int32_t n_vocab, int32_t id, int n_top) {
  const float max_logit = *std::max_element(logits, logits + n_vocab);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i] - max_logit));
  const float log_sum = float(std::log(sum)) + max_logit;
  TokenLogprob result{id, logits[id] - log_sum, {}};
  if (n_top > 0) {
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) order[size_t(i)] = i;
    const size_t k = std::min(size_t(n_top), order.size());
    std::partial_sort(order.begin(), order.begin() + long(k), order.end(), [&](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    });
    for (size_t i = 0; i < k; ++i) result.top.push_back({order[i], logits[order[i]] - log_sum});
  }
  return result;
}

// ---- Sequence -----------------------------------------------------------------------

Sequence::Sequence(std::shared_ptr<const model::Model> model, const model::ContextOptions& options)
    : context_(std::move(model), options) {}

size_t Sequence::valid_tokens() const { return std::min(tokens_.size(), size_t(context_.n_past())); }

size_t Sequence::shared_prefix(const std::vector<int32_t>& prompt) const {
  const auto end = tokens_.begin() + ptrdiff_t(valid_tokens());
  return size_t(std::mismatch(tokens_.begin(), end, prompt.begin(), prompt.end()).first - tokens_.begin());
}

int Sequence::load(const std::vector<int32_t>& prompt) {
  check_prompt(prompt, context_.n_ctx(), context_.n_vocab());
  tokens_.resize(valid_tokens());
  // The last prompt token is always evaluated: its logits start the generation.
  const size_t reused = std::min(shared_prefix(prompt), prompt.size() - 1);
  context_.truncate(int(reused));
  tokens_.resize(reused);
  context_.eval(std::span(prompt).subspan(reused), false);
  tokens_ = prompt;
  return int(reused);
}

void Sequence::append(int32_t token) {
  context_.eval(std::span(&token, 1), false);
  appended(token);
}

void Sequence::append(std::span<const int32_t> tokens) {
  const size_t start = size_t(context_.n_past());
  context_.eval(tokens, true);
  tokens_.resize(std::min(tokens_.size(), start));
  if (tokens_.size() == start) tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

void Sequence::truncate(int n_past) {
  context_.truncate(n_past);
  tokens_.resize(valid_tokens());
}

void Sequence::appended(int32_t token) {
  // `token` sits at position n_past - 1; it is recorded only when every position before it is known.
  const size_t position = size_t(context_.n_past() - 1);
  tokens_.resize(std::min(tokens_.size(), position));
  if (tokens_.size() == position) tokens_.push_back(token);
}

// ---- Generation ---------------------------------------------------------------------

Generation::Generation(Sequence& sequence, const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                       GenerateOptions options, const TokenTexts* texts, Sequence* draft)
    : sequence_(sequence),
      tokenizer_(tokenizer),
      texts_(texts),
      options_(std::move(options)),
      sampler_(options_.sampling),
      stops_(options_.stop) {
  if (options_.constraint && !texts_) fail("generate: a constrained generation needs the token texts");
  const SpeculativeOptions& speculative = options_.speculative;
  if (speculative.enabled()) {
    if (speculative.k < 1 || speculative.k > kMaxDraftTokens)
      fail("speculative decoding drafts 1 to ", kMaxDraftTokens, " tokens per pass, got ", speculative.k);
    if (speculative.custom) {
      drafter_ = speculative.custom;
    } else if (speculative.method == SpeculativeOptions::Method::Lookup) {
      drafter_ = std::make_shared<LookupDrafter>(speculative.ngram);
    } else {
      if (!draft) fail("speculative decoding with a draft model, but no draft model is loaded");
      SamplerOptions sampling = options_.sampling;
      sampling.seed = sampler_.seed();  // a resolved seed: the drafts repeat with it
      drafter_ = std::make_shared<ModelDrafter>(*draft, sampling);
    }
    history_ = prompt;
  }
  outcome_.n_prompt = int(prompt.size());
  const Clock::time_point prompt_start = Clock::now();
  outcome_.n_cached = sequence_.load(prompt);
  outcome_.prompt_seconds = seconds_since(prompt_start);
  generate_start_ = Clock::now();
  // Penalties look at the prompt too, as llama.cpp's CLI and server do.
  for (int32_t token : prompt) sampler_.accept(token);
  if (options_.max_tokens == 0) finish(FinishReason::Length);
}

Piece Generation::choose() {
  if (state_ != State::Choosing) fail("generate: choose() while ", finished() ? "finished" : "a token waits for evaluation");
  Piece piece;
  const model::Context& context = sequence_.context();
  const int32_t n_vocab = context.n_vocab();
  if (options_.constraint) {
    if (options_.constraint->fill_mask(*texts_, allowed_) == 0) {
      drop_drafts();
      piece.text = finish(FinishReason::Stop);  // nothing can continue the document
      return piece;
    }
    sampler_.set_allowed(&allowed_);
  }
  const float* logits = context.logits(row_);
  int32_t id;
  bool verified = false;  // id is a draft the target accepted: it is in the cache already
  if (size_t(row_) < draft_.tokens.size()) {
    sampler_.distribution(logits, n_vocab, target_p_);
    const Verdict verdict = verify_draft(target_p_, draft_.tokens[size_t(row_)],
                                         draft_.q.empty() ? nullptr : &draft_.q[size_t(row_)],
                                         [this] { return sampler_.uniform(); });
    id = verdict.token;
    verified = verdict.accepted;
  } else {
    id = sampler_.sample(logits, n_vocab);
  }
  if (options_.top_logprobs >= 0) piece.logprob = token_logprob(logits, n_vocab, id, options_.top_logprobs);
  // A constrained document ends at its end token even with ignore_eos: nothing else may follow it.
  if ((!options_.ignore_eos || options_.constraint) && tokenizer_.is_end_of_generation(id)) {
    drop_drafts();
    piece.text = finish(FinishReason::Stop);
    return piece;
  }
  sampler_.accept(id);
  tokens_.push_back(id);
  if (drafter_) history_.push_back(id);
  if (verified) ++outcome_.n_draft_accepted;
  const std::string token_text = tokenizer_.token_to_piece(id, false);
  if (options_.constraint) options_.constraint->accept(token_text);
  piece.text = stops_.push(utf8_.push(token_text));

  if (stops_.stopped()) {
    drop_drafts();
    piece.text += finish(FinishReason::Stop);
  } else if (options_.max_tokens >= 0 && tokens_.size() >= size_t(options_.max_tokens)) {
    drop_drafts();
    piece.text += finish(FinishReason::Length);
  } else if (verified) {
    ++row_;  // the next choice reads the row after the draft
  } else {
    drop_drafts();
    if (context.n_past() >= context.n_ctx()) {
      piece.text += finish(FinishReason::ContextFull);
    } else {
      next_ = id;
      state_ = State::Evaluating;
    }
  }
  return piece;
}

// The cache keeps the positions before the current row's token, as plain decoding
// would have it: the pending token and the drafts verified so far.
void Generation::drop_drafts() {
  if (!draft_.tokens.empty()) sequence_.truncate(verify_base_ + 1 + row_);
  draft_.clear();
  row_ = 0;
}

void Generation::evaluate() {
  if (state_ != State::Evaluating) fail("generate: evaluate() without a chosen token");
  if (drafter_) {
    const model::Context& context = sequence_.context();
    // Every drafted position must fit in the context, and each yields one more choice.
    int k = std::min(options_.speculative.k, context.n_ctx() - context.n_past() - 1);
    if (options_.max_tokens >= 0) k = std::min(k, options_.max_tokens - int(tokens_.size()) - 1);
    if (k > 0) drafter_->propose(history_, k, draft_);
    // A draft vocabulary may be padded beyond the target's.
    size_t keep = std::min(draft_.tokens.size(), size_t(std::max(k, 0)));
    for (size_t i = 0; i < keep; ++i)
      if (draft_.tokens[i] < 0 || draft_.tokens[i] >= context.n_vocab()) keep = i;
    draft_.tokens.resize(keep);
    if (draft_.q.size() > keep) draft_.q.resize(keep);
    if (!draft_.tokens.empty()) {
      verify_base_ = context.n_past();
      std::vector<int32_t> batch{next_};
      batch.insert(batch.end(), draft_.tokens.begin(), draft_.tokens.end());
      try {
        sequence_.append(batch);
      } catch (...) {
        draft_.clear();
        throw;
      }
      row_ = 0;
      outcome_.n_drafted += int(keep);
      ++outcome_.n_verify_passes;
      state_ = State::Choosing;
      return;
    }
  }
  sequence_.append(next_);
  state_ = State::Choosing;
}

void Generation::evaluated() {
  if (state_ != State::Evaluating) fail("generate: evaluated() without a chosen token");
  sequence_.appended(next_);
  state_ = State::Choosing;
}

void Generation::cancel() {
  if (!finished()) finish(FinishReason::Cancelled);
}

void Generation::finish_with_error(const std::string& error) {
  if (finished()) return;
  outcome_.error = error;
  finish(FinishReason::Stop);
}

std::string Generation::finish(FinishReason reason) {
  std::string tail;
  if (reason != FinishReason::Cancelled && !stops_.stopped()) {
    // Generation is over, so held-back bytes and stop-string prefixes are final now.
    tail = stops_.push(utf8_.flush());
    if (stops_.stopped()) reason = FinishReason::Stop;
    tail += stops_.flush();
  }
  outcome_.finish = reason;
  outcome_.n_generated = int(tokens_.size());
  outcome_.generate_seconds = seconds_since(generate_start_);
  state_ = State::Finished;
  return tail;
}

}  // namespace tandem::generate
