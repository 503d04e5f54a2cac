// Text generation on one Context, in the caller's thread: a loop over the step
// object (generate::Generation) that streams final text. The KV cache is reused for
// the part of each prompt that matches what the context already holds, so
// multi-turn chat only pays for the new turn.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "generate/generation.h"
#include "generate/generator.h"

namespace tandem::generate {

struct GenerateResult : Outcome {
  std::vector<int32_t> tokens;  // generated ids (not the prompt, not the end-of-generation token)
  std::string text;             // emitted text (stop string removed)
  std::vector<TokenLogprob> logprobs;  // one per chosen token, when options.top_logprobs >= 0
};

// Receives text as it becomes final: valid UTF-8, never text that might turn out
// to be the beginning of a stop string. Return false to cancel.
using OnText = std::function<bool(std::string_view text)>;
// The same with the token's logprob (when asked for); pieces may have empty text.
using OnPiece = std::function<bool(const Piece& piece)>;

class Session : public Generator {
 public:
  // The tokenizer must outlive the session.
  Session(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
          const model::ContextOptions& options);
  ~Session() override;

  // Prompt empty, not leaving room for one generated token (max_prompt_tokens), or
  // with ids outside the vocabulary -> tandem::Error.
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                          const OnText& on_text = {});
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                          const OnPiece& on_piece);

  // Generator: the stream steps this session's context inside wait(). One stream at
  // a time: starting another cancels the one before.
  std::shared_ptr<PieceStream> start(GenerationRequest request) override;
  const tokenizer::Tokenizer& tokenizer() const override { return *tokenizer_; }
  int n_ctx() const override { return sequence_.n_ctx(); }

  // Direct use (eval, truncate) is allowed; the session notices a changed n_past
  // and keeps only the part of its cache bookkeeping that is still valid.
  model::Context& context() { return sequence_.context(); }

  // A draft model for speculative decoding (GenerateOptions::speculative with
  // Method::DraftModel): it gets a context of this session's size. tandem::Error
  // unless its vocabulary is the target's; nullptr removes it.
  void set_draft(std::shared_ptr<const model::Model> draft);
  bool has_draft() const { return draft_ != nullptr; }

 private:
  class Stream;
  std::shared_ptr<Stream> open(const std::vector<int32_t>& prompt, GenerateOptions options);

  const tokenizer::Tokenizer* tokenizer_;
  model::ContextOptions options_;
  Sequence sequence_;
  std::unique_ptr<Sequence> draft_;
  std::unique_ptr<TokenTexts> texts_;  // computed for the first constrained generation
  std::weak_ptr<Stream> active_;
};

}  // namespace tandem::generate
