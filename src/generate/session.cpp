#include "generate/session.h"

#include <algorithm>
#include <chrono>
#include <span>

#include "core/error.h"
#include "generate/stop_matcher.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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

Session::Session(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
                 const model::ContextOptions& options)
    : tokenizer_(&tokenizer), context_(std::move(model), options) {}

// Returns how many prompt tokens were reused from the cache.
int Session::evaluate_prompt(const std::vector<int32_t>& prompt) {
  if (prompt.empty()) fail("generate: the prompt is empty; it needs at least one token (e.g. BOS)");
  if (prompt.size() > size_t(context_.n_ctx())) {
    fail("generate: the prompt is ", prompt.size(), " tokens but the context holds only ", context_.n_ctx(),
         " (raise the context size or shorten the prompt)");
  }
  const int32_t n_vocab = context_.n_vocab();
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= n_vocab) {
      fail("generate: prompt token ", i, " has id ", prompt[i], ", outside the vocabulary [0, ", n_vocab, ")");
    }
  }
  // Someone may have used context() directly; only positions both agree on are known.
  cached_.resize(std::min(cached_.size(), size_t(context_.n_past())));

  size_t reused = size_t(std::mismatch(cached_.begin(), cached_.end(), prompt.begin(), prompt.end()).first -
                         cached_.begin());
  // The last prompt token is always evaluated: its logits start the generation.
  reused = std::min(reused, prompt.size() - 1);
  context_.truncate(int(reused));
  context_.eval(std::span(prompt).subspan(reused), false);
  cached_ = prompt;
  return int(reused);
}

GenerateResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                 const OnText& on_text) {
  GenerateResult result;
  result.n_prompt = int(prompt.size());
  const Clock::time_point prompt_start = Clock::now();
  result.n_cached = evaluate_prompt(prompt);
  result.prompt_seconds = seconds_since(prompt_start);

  const Clock::time_point generate_start = Clock::now();
  Sampler sampler(options.sampling);
  // Penalties look at the prompt too, as llama.cpp's CLI and server do.
  for (int32_t token : prompt) sampler.accept(token);
  tokenizer::Utf8Stream utf8;
  StopMatcher stops(options.stop);

  // Hands final text to the caller; false when the caller cancels.
  auto emit = [&](const std::string& text) {
    if (text.empty()) return true;
    result.text += text;
    return !on_text || on_text(text);
  };

  const int32_t n_vocab = context_.n_vocab();
  bool open = options.max_tokens != 0;  // whether more text may follow
  result.finish = FinishReason::Length;
  while (open) {
    const int32_t id = sampler.sample(context_.logits(0), n_vocab);
    if (!options.ignore_eos && tokenizer_->is_end_of_generation(id)) {
      result.finish = FinishReason::Stop;
      break;
    }
    sampler.accept(id);
    result.tokens.push_back(id);
    if (!emit(stops.push(utf8.push(tokenizer_->token_to_piece(id, false))))) {
      result.finish = FinishReason::Cancelled;
      open = false;
    } else if (stops.stopped()) {
      result.finish = FinishReason::Stop;
      open = false;
    } else if (options.max_tokens >= 0 && result.tokens.size() >= size_t(options.max_tokens)) {
      result.finish = FinishReason::Length;
      open = false;
    } else if (context_.n_past() >= context_.n_ctx()) {
      result.finish = FinishReason::ContextFull;
      open = false;
    } else {
      context_.eval(std::span(&id, 1), false);
      cached_.push_back(id);
    }
  }

  if (result.finish != FinishReason::Cancelled && !stops.stopped()) {
    // Generation is over, so held-back bytes and stop prefixes are final now.
    std::string tail = stops.push(utf8.flush());
    if (stops.stopped()) result.finish = FinishReason::Stop;
    tail += stops.flush();
    emit(tail);
  }
  result.generate_seconds = seconds_since(generate_start);
  return result;
}

}  // namespace tandem::generate
