// Picks the next token from a logits vector. The chain follows llama.cpp's default
// order so settings carry over: penalties -> top_k -> top_p -> min_p -> temperature
// -> softmax -> seeded draw. top_p and min_p therefore see the temperature-1
// distribution, as in llama.cpp.
//
// Randomness: std::mt19937_64 (its output sequence is fixed by the C++ standard), and
// the uniform in [0, 1) is built from the top 53 bits of one engine output, so a
// seed gives the same choices on every platform and standard library.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tandem::generate {

struct SamplerOptions {
  float temperature = 0.8f;  // <= 0: greedy (argmax after penalties, ties -> lowest id)
  int top_k = 40;            // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  // llama.cpp semantics: a seen token's positive logit is divided by it, a
  // non-positive one multiplied. 1: off.
  float repeat_penalty = 1.0f;
  int repeat_last_n = 64;  // window of accepted tokens the penalties look at; 0: off, < 0: all
  // OpenAI semantics over the same window: logit -= count * frequency + (count > 0) * presence.
  float frequency_penalty = 0.0f, presence_penalty = 0.0f;
  uint64_t seed = kRandomSeed;  // same seed, same choices

  static constexpr uint64_t kRandomSeed = 0xFFFFFFFF;  // llama.cpp's "pick one at random"
};

// One entry of a distribution over token ids.
struct TokenProb {
  int32_t id;
  double p;
};
// The accepted range of each float setting, by its API field and its CLI flag: the
// server and the CLI both check against this table, so they refuse the same values.
struct SamplerSetting {
  const char* field;  // the OpenAI / llama.cpp request field
  const char* flag;   // the tandem CLI flag
  double low, high;
  float SamplerOptions::*member;
};
std::span<const SamplerSetting> sampler_settings();
// A tandem::Error naming the flag and its range for the first value outside it
// (top_k and repeat_last_n too: top_k >= 0, repeat_last_n >= -1).
void check_sampler_flags(const SamplerOptions& options);

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);

  // Applies the penalties from the accepted history, then the chain. Does not
  // accept the chosen token: call accept() once it is part of the sequence.
  int32_t sample(const float* logits, int32_t n_vocab);
  // The distribution sample() draws from, as (id, probability) pairs with probability
  // > 0, most likely first (greedy: the argmax with 1). Speculative decoding verifies
  // drafted tokens against it.
  void distribution(const float* logits, int32_t n_vocab, std::vector<TokenProb>& out);
  // The next number in [0, 1) of the seeded sequence sample() draws with, so that a
  // caller's own draw (the speculative acceptance test) keeps the seed's promise.
  double uniform() { return next_uniform(); }
  void accept(int32_t token);
  // Forgets the history and restarts the random sequence from the seed.
  void reset();
  // Tokens with (*allowed)[i] == false are never chosen (constrained decoding).
  // The vector must outlive its use and have n_vocab entries; nullptr clears it.
  void set_allowed(const std::vector<bool>* allowed);

  uint64_t seed() const { return seed_; }  // the resolved seed, also when it was random
  const SamplerOptions& options() const { return options_; }

  struct Candidate {
    int32_t id;
    float logit;
  };

 private:
  // Penalties and the chain up to the draw: returns the token when the chain decided
  // alone (greedy, or NaN logits), else -1 with the survivors in candidates_.
  int32_t narrow(const float* logits, int32_t n_vocab);
  // Unnormalised draw weights of candidates_ at the temperature, into weights_; their sum.
  double draw_weights();
  bool penalties_enabled() const;
  bool allowed(int32_t id) const;
  void apply_penalties();
  int32_t argmax(const float* values, int32_t n_vocab) const;
  void select_top_k(const float* values, int32_t n_vocab);
  void collect_head(const float* values, int32_t n_vocab, float max_logit);
  void sort_descending(size_t keep);
  void apply_top_p();
  void apply_min_p();
  int32_t draw();
  double next_uniform();

  SamplerOptions options_;
  uint64_t seed_;
  std::mt19937_64 engine_;
  const std::vector<bool>* allowed_ = nullptr;
  std::vector<int32_t> history_;  // accepted tokens, oldest first, at most the window
  // Reused between calls so sampling allocates only when n_vocab grows.
  std::vector<Candidate> candidates_;  // what the chain may still choose
  std::vector<float> penalised_;       // the logits after the penalties, when there are any
  double rest_weight_ = 0;  // sum of exp(logit - max) over the tokens left out of candidates_
  std::vector<int32_t> window_scratch_;
  std::vector<double> weights_;
  bool sorted_ = false;  // candidates_ is in descending logit order
};

}  // namespace tandem::generate
