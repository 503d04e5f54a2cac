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

void Sequence::appended(int32_t token) {
  // `token` sits at position n_past - 1; it is recorded only when every position before it is known.
  const size_t position = size_t(context_.n_past() - 1);
  tokens_.resize(std::min(tokens_.size(), position));
  if (tokens_.size() == position) tokens_.push_back(token);
}

// ---- Generation ---------------------------------------------------------------------

Generation::Generation(Sequence& sequence, const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                       GenerateOptions options, const TokenTexts* texts)
    : sequence_(sequence),
      tokenizer_(tokenizer),
      texts_(texts),
      options_(std::move(options)),
      sampler_(options_.sampling),
      stops_(options_.stop) {
  if (options_.constraint && !texts_) fail("generate: a constrained generation needs the token texts");
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
      piece.text = finish(FinishReason::Stop);  // nothing can continue the document
      return piece;
    }
    sampler_.set_allowed(&allowed_);
  }
  const float* logits = context.logits(0);
  const int32_t id = sampler_.sample(logits, n_vocab);
  if (options_.top_logprobs >= 0) piece.logprob = token_logprob(logits, n_vocab, id, options_.top_logprobs);
  // A constrained document ends at its end token even with ignore_eos: nothing else may follow it.
  if ((!options_.ignore_eos || options_.constraint) && tokenizer_.is_end_of_generation(id)) {
    piece.text = finish(FinishReason::Stop);
    return piece;
  }
  sampler_.accept(id);
  tokens_.push_back(id);
  const std::string token_text = tokenizer_.token_to_piece(id, false);
  if (options_.constraint) options_.constraint->accept(token_text);
  piece.text = stops_.push(utf8_.push(token_text));

  if (stops_.stopped()) {
    piece.text += finish(FinishReason::Stop);
  } else if (options_.max_tokens >= 0 && tokens_.size() >= size_t(options_.max_tokens)) {
    piece.text += finish(FinishReason::Length);
  } else if (context.n_past() >= context.n_ctx()) {
    piece.text += finish(FinishReason::ContextFull);
  } else {
    next_ = id;
    state_ = State::Evaluating;
  }
  return piece;
}

void Generation::evaluate() {
  if (state_ != State::Evaluating) fail("generate: evaluate() without a chosen token");
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
