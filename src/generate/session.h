// Text generation on one Context: evaluates a prompt (reusing the KV cache for the
// part that matches what the context already holds, so multi-turn chat only pays
// for the new turn), then samples token by token, streaming final text.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "generate/sampler.h"
#include "model/context.h"

namespace tandem::tokenizer {
class Tokenizer;
}

namespace tandem::generate {

struct GenerateOptions {
  int max_tokens = 128;  // < 0: until EOS or context full
  SamplerOptions sampling;
  // Generation ends when the text contains one; the stop string and anything
  // after it are not emitted.
  std::vector<std::string> stop;
  bool ignore_eos = false;
};

enum class FinishReason { Stop, Length, ContextFull, Cancelled };
const char* to_string(FinishReason reason);  // "stop", "length", "context_full", "cancelled"

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (not the prompt, not the end-of-generation token)
  std::string text;             // emitted text (stop string removed)
  FinishReason finish = FinishReason::Length;
  int n_prompt = 0;
  int n_cached = 0;  // prompt tokens whose KV entries were reused instead of evaluated
  double prompt_seconds = 0, generate_seconds = 0;
};

// Receives text as it becomes final: valid UTF-8, never text that might turn out
// to be the beginning of a stop string. Return false to cancel.
using OnText = std::function<bool(std::string_view text)>;

class Session {
 public:
  // The tokenizer must outlive the session.
  Session(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
          const model::ContextOptions& options);

  // Prompt longer than the context, empty, or with ids outside the vocabulary ->
  // tandem::Error.
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                          const OnText& on_text = {});

  // Direct use (eval, truncate) is allowed; the session notices a changed n_past
  // and keeps only the part of its cache bookkeeping that is still valid.
  model::Context& context() { return context_; }

 private:
  int evaluate_prompt(const std::vector<int32_t>& prompt);

  const tokenizer::Tokenizer* tokenizer_;
  model::Context context_;
  std::vector<int32_t> cached_;  // the tokens at positions [0, context_.n_past())
};

}  // namespace tandem::generate
