// Context bookkeeping: a sequence's KV cache, position and logits, and how its
// tokens become batches for the forward pass (model/forward.h).
#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "model/context.h"
#include "model/forward.h"

namespace tandem::model {
namespace {
constexpr int kMaxBatch = 256;  // rows per pass: bounds scratch memory
}

struct Context::State {
  ThreadPool pool;
  KvCache kv;
  Scratch scratch;
  std::vector<float> logits;

  State(int n_threads, const HParams& hp, int n_ctx, quant::Type kv_type)
      : pool(n_threads), kv(hp.n_layer, n_ctx, hp.n_embd_kv(), kv_type) {}
};

Context::Context(std::shared_ptr<const Model> model, const ContextOptions& options) : model_(std::move(model)) {
  const HParams& hp = model_->hparams();
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  state_ = std::make_unique<State>(options.n_threads, hp, n_ctx_, options.kv_type);
}

Context::~Context() = default;

size_t Context::kv_cache_bytes() const { return state_->kv.bytes(); }

int Context::n_vocab() const { return model_->hparams().n_vocab; }

void Context::track_thread_waits(bool on) { state_->pool.track_waits(on); }
const ThreadPool::WaitStats& Context::thread_waits() const { return state_->pool.wait_stats(); }
void Context::reset_thread_waits() { state_->pool.reset_wait_stats(); }

const float* Context::logits(int i) const {
  if (i < 0 || i >= n_logits_) fail("logits index ", i, " out of range (", n_logits_, " available)");
  return state_->logits.data() + (size_t)i * n_vocab();
}

void Context::truncate(int n_past) {
  if (n_past < 0 || n_past > n_past_) fail("cannot truncate context to ", n_past, " (has ", n_past_, ")");
  n_past_ = n_past;
}

void Context::check_tokens(std::span<const int32_t> tokens) const {
  const int n_vocab = model_->hparams().n_vocab;
  for (int32_t t : tokens)
    if (t < 0 || t >= n_vocab) fail("token id ", t, " out of range (vocabulary ", n_vocab, ")");
}

void Context::eval(std::span<const int32_t> tokens, bool all_logits) {
  const int n = (int)tokens.size();
  if (n == 0) fail("eval needs at least one token");
  if (n_past_ + n > n_ctx_)
    fail("context full: ", n_past_, " cached + ", n, " new tokens exceed the context of ", n_ctx_, " tokens");
  check_tokens(tokens);

  State& s = *state_;
  const int n_vocab = model_->hparams().n_vocab;
  n_logits_ = all_logits ? n : 1;
  s.logits.resize((size_t)n_logits_ * n_vocab);
  std::vector<int> output_rows;
  for (int start = 0; start < n; start += kMaxBatch) {
    const int count = std::min(kMaxBatch, n - start);
    const Segment segment{&s.kv, n_past_, 0, count};
    // Logits: every row of this chunk, or only the very last token.
    output_rows.clear();
    if (all_logits) {
      output_rows.resize(count);
      std::iota(output_rows.begin(), output_rows.end(), 0);
    } else if (start + count == n) {
      output_rows.push_back(count - 1);
    }
    float* dst = s.logits.data() + (size_t)(all_logits ? start : 0) * n_vocab;
    forward(*model_, Batch{tokens.subspan(start, count), std::span(&segment, 1), output_rows}, s.scratch, s.pool, dst);
    n_past_ += count;
  }
}

void Context::eval_step(std::span<Context* const> contexts, std::span<const int32_t> tokens) {
  if (contexts.size() != tokens.size())
    fail("eval_step got ", contexts.size(), " contexts but ", tokens.size(), " tokens (one token per context)");
  if (contexts.empty()) return;
  // Everything is checked before anything is evaluated, so a refused step leaves every context as it was.
  const Context* first = contexts[0];
  for (size_t i = 0; i < contexts.size(); i++) {
    const Context* c = contexts[i];
    if (!c) fail("eval_step: context ", i, " is null");
    if (c->model_ != first->model_) fail("eval_step: context ", i, " uses a different model than context 0");
    if (std::find(contexts.begin(), contexts.begin() + (long)i, c) != contexts.begin() + (long)i)
      fail("eval_step: context ", i, " appears twice (one token per sequence per step)");
    if (c->n_past_ + 1 > c->n_ctx_)
      fail("context full: sequence ", i, " holds ", c->n_past_, " tokens, its whole context of ", c->n_ctx_);
    c->check_tokens(tokens.subspan(i, 1));
  }

  // The first context's threads and scratch serve the whole batch; its logits
  // buffer receives all rows, then each sequence takes its own.
  State& shared = *contexts[0]->state_;
  const int n_vocab = first->n_vocab();
  std::vector<Segment> segments;
  std::vector<int> output_rows;
  std::vector<float> logits;
  for (size_t start = 0; start < contexts.size(); start += kMaxBatch) {
    const int count = (int)std::min<size_t>(kMaxBatch, contexts.size() - start);
    segments.clear();
    output_rows.resize(count);
    for (int r = 0; r < count; r++) {
      Context& c = *contexts[start + r];
      segments.push_back(Segment{&c.state_->kv, c.n_past_, r, 1});
      output_rows[r] = r;
    }
    logits.resize((size_t)count * n_vocab);
    forward(*first->model_, Batch{tokens.subspan(start, count), segments, output_rows}, shared.scratch, shared.pool,
            logits.data());
    for (int r = 0; r < count; r++) {
      Context& c = *contexts[start + r];
      c.state_->logits.assign(logits.begin() + (long)r * n_vocab, logits.begin() + (long)(r + 1) * n_vocab);
      c.n_logits_ = 1;
      c.n_past_ += 1;
    }
  }
}

}  // namespace tandem::model
