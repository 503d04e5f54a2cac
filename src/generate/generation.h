// The one generation core: a prompt on a context, then one token at a time until a
// finish reason. Every surface (generate::Session for the CLI and the C API, the
// server's slots, the routed generation) runs generations through this object.
//
// A step is split in two so that a scheduler can batch the forward passes of many
// sequences:
//   choose()     samples the next token from the current logits and returns the text
//                that became final with it (stop strings and partial UTF-8 held back)
//   evaluate()   appends the chosen token (one forward pass for this sequence), or
//   evaluated()  the caller appended it in a batched pass (model::Context::eval_step)
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "generate/json_constraint.h"
#include "generate/sampler.h"
#include "generate/speculative.h"
#include "generate/stop_matcher.h"
#include "model/context.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {

struct GenerateOptions {
  int max_tokens = 128;  // < 0: until EOS or context full
  SamplerOptions sampling;
  // Generation ends when the text contains one; the stop string and anything
  // after it are not emitted.
  std::vector<std::string> stop;
  bool ignore_eos = false;
  // >= 0: every piece carries its token's log-probability and this many alternatives.
  int top_logprobs = -1;
  // The output must be a document this accepts (JSON schema / any object); the
  // generation keeps its own copy of the state. The document's end ends the
  // generation, also with ignore_eos.
  std::optional<JsonConstraint> constraint;
  // Speculative decoding (generate/speculative.h): the same output (greedy) or the
  // same distribution (sampled), fewer passes over the weights.
  SpeculativeOptions speculative;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  GenerateOptions options;
};

enum class FinishReason { Stop, Length, ContextFull, Cancelled };
const char* to_string(FinishReason reason);  // "stop", "length", "context_full", "cancelled"

struct TopLogprob {
  int32_t id;
  float logprob;
};

// The chosen token's log-probability under the model (softmax of the raw logits,
// before sampling settings), with the most likely alternatives.
struct TokenLogprob {
  int32_t id;
  float logprob;
  std::vector<TopLogprob> top;
};

// What one step hands out: final text (may be empty while a stop string or a UTF-8
// character is pending) and, when asked for, the chosen token's logprob.
struct Piece {
  std::string text;
  std::optional<TokenLogprob> logprob;
  bool empty() const { return text.empty() && !logprob; }
};

struct Outcome {
  FinishReason finish = FinishReason::Length;
  int n_prompt = 0, n_cached = 0, n_generated = 0;
  int n_drafted = 0, n_draft_accepted = 0;  // speculative decoding: tokens verified, and kept
  int n_verify_passes = 0;                  // target passes that verified a draft
  double queue_seconds = 0, prompt_seconds = 0, generate_seconds = 0;
  std::string error;  // non-empty: the generation failed (a refused prompt, a failed forward pass)
};

// The one prompt-length rule: a prompt must leave room for at least one generated token.
// (Inline: the router's policy uses it without linking the engine, e.g. in tests/fuzz.)
inline int max_prompt_tokens(int n_ctx) { return n_ctx - 1; }
// tandem::Error naming the problem: empty, longer than max_prompt_tokens(n_ctx), or an
// id outside [0, n_vocab).
void check_prompt(const std::vector<int32_t>& prompt, int n_ctx, int32_t n_vocab);

// log-softmax of `logits` at `id`, and the `n_top` most likely ids (ties: lowest id).
TokenLogprob token_logprob(const float* logits, int32_t n_vocab, int32_t id, int n_top);

// A Context and the tokens its KV cache holds, so that the next prompt evaluates only
// what differs from the cached prefix (multi-turn chat pays for the new turn only).
class Sequence {
 public:
  Sequence(std::shared_ptr<const model::Model> model, const model::ContextOptions& options);

  // Direct use (eval, truncate) is allowed; the sequence notices a changed n_past and
  // keeps only the part of its bookkeeping that is still valid.
  model::Context& context() { return context_; }
  const model::Context& context() const { return context_; }
  int n_ctx() const { return context_.n_ctx(); }

  // How many leading tokens of `prompt` the cache holds.
  size_t shared_prefix(const std::vector<int32_t>& prompt) const;
  // Checks the prompt (check_prompt) and evaluates what the cache lacks; the last
  // prompt token is always evaluated, its logits start the generation. Returns the
  // number of reused tokens.
  int load(const std::vector<int32_t>& prompt);
  void append(int32_t token);    // evaluates one token
  // Evaluates `tokens` in one pass, keeping the logits of every position (logits(i)).
  void append(std::span<const int32_t> tokens);
  void appended(int32_t token);  // the caller evaluated `token` on context()
  void truncate(int n_past);     // forgets positions >= n_past

 private:
  size_t valid_tokens() const;

  model::Context context_;
  std::vector<int32_t> tokens_;  // the tokens at positions [0, n_past), as far as known
};

class Generation {
 public:
  // Evaluates the prompt on `sequence`. The sequence, the tokenizer, `texts`
  // (required with a constraint) and `draft` (the draft model's sequence, required
  // for SpeculativeOptions::Method::DraftModel) must outlive the generation.
  // tandem::Error for a bad prompt or speculative options. With max_tokens 0 it is
  // finished at once.
  Generation(Sequence& sequence, const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
             GenerateOptions options, const TokenTexts* texts = nullptr, Sequence* draft = nullptr);

  // One step. Afterwards either finished(), or next_token() waits for evaluate() or
  // evaluated(), or (speculative) the token was a verified draft and choose() comes
  // again. Calling it while a token waits is a tandem::Error.
  Piece choose();
  int32_t next_token() const { return next_; }
  // Appends next_token() to the sequence; throws what the forward pass throws. When
  // speculative, drafts tokens after it and evaluates them in the same pass.
  void evaluate();
  void evaluated();  // the caller appended next_token() in a batched pass (no drafts)
  // Drafts and verifies: the caller should evaluate() rather than batch it.
  bool speculative() const { return drafter_ != nullptr; }

  void cancel();                           // finishes now as Cancelled; no more text
  void finish_with_error(const std::string& error);  // finishes now (a failed forward pass)
  bool finished() const { return state_ == State::Finished; }
  bool waiting_for_evaluation() const { return state_ == State::Evaluating; }
  const Outcome& outcome() const { return outcome_; }  // final once finished()
  const std::vector<int32_t>& tokens() const { return tokens_; }  // generated ids (no end token)

 private:
  enum class State { Choosing, Evaluating, Finished };
  std::string finish(FinishReason reason);  // returns the held-back text that became final
  void drop_drafts();  // forgets the drafts not verified yet (and their cache positions)

  Sequence& sequence_;
  const tokenizer::Tokenizer& tokenizer_;
  const TokenTexts* texts_;
  GenerateOptions options_;
  Sampler sampler_;
  StopMatcher stops_;
  tokenizer::Utf8Stream utf8_;
  std::vector<bool> allowed_;
  std::vector<int32_t> tokens_;
  int32_t next_ = -1;
  // Speculative decoding: the drafts evaluated after next_ in the last pass, which
  // started at position verify_base_; row_ is the logits row choose() reads.
  std::shared_ptr<Drafter> drafter_;
  std::vector<int32_t> history_;  // the prompt and the tokens chosen, for the drafter
  Draft draft_;
  std::vector<TokenProb> target_p_;
  int verify_base_ = 0;
  int row_ = 0;
  State state_ = State::Choosing;
  Outcome outcome_;
  std::chrono::steady_clock::time_point generate_start_;
};

}  // namespace tandem::generate
