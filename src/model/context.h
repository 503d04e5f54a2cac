// A model loaded from GGUF, and a Context that evaluates tokens against it with
// its own KV cache. Model is immutable and shared; each sequence owns a Context.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "gguf/file.h"
#include "model/hparams.h"

namespace tandem::model {

struct Weights;

struct LoadOptions {
  bool verbose = false;
};

class Model {
 public:
  static std::shared_ptr<Model> load(const std::string& path, const LoadOptions& options = {});
  static std::shared_ptr<Model> from_file(gguf::File file, const LoadOptions& options = {});
  ~Model();
  const HParams& hparams() const { return hparams_; }
  const gguf::File& file() const { return file_; }
  const Weights& weights() const { return *weights_; }

 private:
  Model(gguf::File file);
  gguf::File file_;
  HParams hparams_;
  std::unique_ptr<Weights> weights_;
};

struct ContextOptions {
  int n_ctx = 0;      // 0: the model's training context (capped at 4096)
  int n_threads = 0;  // 0: hardware concurrency
  quant::Type kv_type = quant::Type::F16;  // F32, F16, Q8_0 or Q4_0
};

class Context {
 public:
  Context(std::shared_ptr<const Model> model, const ContextOptions& options = {});
  ~Context();

  // Appends `tokens` at positions n_past() .. n_past()+n-1. With all_logits the
  // logits of every position are kept (logits(i) for i in [0, n)); otherwise only
  // the last one (logits(0)). Error if the context would overflow.
  void eval(std::span<const int32_t> tokens, bool all_logits = false);
  // One decode step for several sequences of the same Model in one forward pass
  // (continuous batching): contexts[i] gets tokens[i] appended at its own n_past(),
  // then contexts[i]->logits(0) holds its next-token logits. Each weight matrix is
  // read once for all of them. Runs on contexts[0]'s threads. Error, before any
  // context changes, if the models differ, a context appears twice or one is full.
  static void eval_step(std::span<Context* const> contexts, std::span<const int32_t> tokens);
  const float* logits(int i = 0) const;
  int n_logits() const { return n_logits_; }

  int n_past() const { return n_past_; }
  void truncate(int n_past);  // forget cached positions >= n_past
  int n_ctx() const { return n_ctx_; }
  int n_vocab() const;
  size_t kv_cache_bytes() const;
  // The thread pool's synchronisation cost to the calling thread (ThreadPool::WaitStats),
  // counted from track_thread_waits(true) on.
  void track_thread_waits(bool on);
  const ThreadPool::WaitStats& thread_waits() const;
  void reset_thread_waits();
  const Model& model() const { return *model_; }

 private:
  void check_tokens(std::span<const int32_t> tokens) const;
  struct State;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<State> state_;
  int n_ctx_ = 0;
  int n_past_ = 0;
  int n_logits_ = 0;
};

}  // namespace tandem::model
