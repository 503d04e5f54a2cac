#include "generate/perplexity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/half.h"

namespace tandem::generate {
namespace {

constexpr char kKlMagic[8] = {'T', 'D', 'M', 'K', 'L', 'B', '0', '1'};

// Calls visit(logits, next_token) for every scored position, in order.
PerplexityResult score(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                       int n_threads, quant::Type kv_type, const std::function<void(const float*, int32_t)>& visit) {
  if (tokens.size() < 2) fail("perplexity needs at least 2 tokens, got ", tokens.size());
  if (n_ctx < 2) fail("perplexity needs a context of at least 2 tokens, got ", n_ctx);
  model::Context ctx(model, {.n_ctx = n_ctx, .n_threads = n_threads, .kv_type = kv_type});
  const int n_vocab = ctx.n_vocab();
  for (int32_t t : tokens)
    if (t < 0 || t >= n_vocab) fail("token id ", t, " is outside the model's vocabulary of ", n_vocab);
  PerplexityResult r;
  double total = 0;
  for (size_t start = 0; start + 1 < tokens.size(); start += n_ctx) {
    const size_t len = std::min<size_t>(n_ctx, tokens.size() - start);
    if (len < 2) break;
    ctx.truncate(0);
    ctx.eval(std::span<const int32_t>(tokens.data() + start, len), /*all_logits=*/true);
    for (size_t i = 0; i + 1 < len; i++) {
      const float* logits = ctx.logits((int)i);
      const float max = *std::max_element(logits, logits + n_vocab);
      double sum = 0;
      for (int v = 0; v < n_vocab; v++) sum += std::exp((double)logits[v] - max);
      const int32_t next = tokens[start + i + 1];
      total -= (double)logits[next] - max - std::log(sum);
      r.n_scored++;
      visit(logits, next);
    }
    r.n_windows++;
  }
  r.mean_nll = total / (double)r.n_scored;
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

// log-softmax in double precision.
void log_softmax(const float* logits, int n, std::vector<double>& out) {
  out.resize(size_t(n));
  const double max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int v = 0; v < n; v++) sum += std::exp(double(logits[v]) - max);
  const double log_z = max + std::log(sum);
  for (int v = 0; v < n; v++) out[size_t(v)] = double(logits[v]) - log_z;
}

int32_t argmax(const float* logits, int n) { return int32_t(std::max_element(logits, logits + n) - logits); }

uint32_t read_u32(std::istream& in) {
  uint32_t v = 0;
  in.read(reinterpret_cast<char*>(&v), sizeof v);
  return v;
}

void write_u32(std::ostream& out, uint32_t v) { out.write(reinterpret_cast<const char*>(&v), sizeof v); }

// Opens a base file and reads its header and tokens; `in` is left at the first record.
KlBaseInfo open_kl_base(const std::string& path, std::ifstream& in) {
  in.open(path, std::ios::binary);
  if (!in) fail("cannot read KL base file '", path, "'");
  char magic[8] = {};
  in.read(magic, sizeof magic);
  if (!in || std::memcmp(magic, kKlMagic, sizeof magic) != 0)
    fail("'", path, "' is not a Tandem KL base file (write one with: tandem perplexity -m REFERENCE.gguf -f TEXT --kl-divergence-base '",
         path, "')");
  KlBaseInfo info;
  info.n_vocab = int(read_u32(in));
  info.n_ctx = int(read_u32(in));
  info.n_windows = int(read_u32(in));
  const uint32_t n_tokens = read_u32(in);
  // The token list must fit in the file: a corrupt count must not drive the allocation below.
  const std::streamoff at = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff left = in.tellg() - at;
  in.seekg(at);
  if (!in || info.n_vocab <= 0 || info.n_ctx < 2 || n_tokens < 2 || std::streamoff(n_tokens) * 4 > left)
    fail("'", path, "': the KL base header is corrupt");
  info.tokens.resize(n_tokens);
  in.read(reinterpret_cast<char*>(info.tokens.data()), std::streamsize(n_tokens * sizeof(int32_t)));
  if (!in) fail("'", path, "' is truncated in its token list");
  return info;
}

}  // namespace

PerplexityResult perplexity(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                            int n_threads, quant::Type kv_type) {
  return score(std::move(model), tokens, n_ctx, n_threads, kv_type, [](const float*, int32_t) {});
}

PerplexityResult write_kl_base(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                               int n_threads, quant::Type kv_type, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("cannot write KL base file '", path, "'");
  const int n_vocab = model->hparams().n_vocab;
  out.write(kKlMagic, sizeof kKlMagic);
  const uint32_t n_windows = uint32_t((tokens.size() - 1 + size_t(n_ctx) - 1) / size_t(std::max(n_ctx, 1)));
  for (uint32_t v : {uint32_t(n_vocab), uint32_t(n_ctx), n_windows, uint32_t(tokens.size())}) write_u32(out, v);
  out.write(reinterpret_cast<const char*>(tokens.data()), std::streamsize(tokens.size() * sizeof(int32_t)));
  std::vector<double> log_probs;
  std::vector<uint16_t> halves(static_cast<size_t>(n_vocab));
  auto r = score(model, tokens, n_ctx, n_threads, kv_type, [&](const float* logits, int32_t next) {
    log_softmax(logits, n_vocab, log_probs);
    const int32_t top = argmax(logits, n_vocab);
    const float nll = float(-log_probs[size_t(next)]);
    for (int v = 0; v < n_vocab; v++) halves[size_t(v)] = fp32_to_fp16(float(log_probs[size_t(v)]));
    out.write(reinterpret_cast<const char*>(&top), sizeof top);
    out.write(reinterpret_cast<const char*>(&nll), sizeof nll);
    out.write(reinterpret_cast<const char*>(halves.data()), std::streamsize(halves.size() * sizeof(uint16_t)));
  });
  if (r.n_windows != int(n_windows)) {  // the header must describe the records that follow
    out.seekp(sizeof kKlMagic + 2 * sizeof(uint32_t));
    write_u32(out, uint32_t(r.n_windows));
  }
  out.close();
  if (!out) fail("cannot write KL base file '", path, "' (disk full?)");
  return r;
}

KlBaseInfo read_kl_base_info(const std::string& path) {
  std::ifstream in;
  return open_kl_base(path, in);
}

KlResult kl_divergence(std::shared_ptr<const model::Model> model, const std::string& base_path, int n_threads,
                       quant::Type kv_type) {
  std::ifstream in;
  const KlBaseInfo base = open_kl_base(base_path, in);
  const int n_vocab = model->hparams().n_vocab;
  if (base.n_vocab != n_vocab)
    fail("'", base_path, "' holds distributions over ", base.n_vocab, " tokens but the model has a vocabulary of ",
         n_vocab, ": compare models that share a tokenizer (write the base with the reference of this model)");
  std::vector<double> log_q;
  std::vector<uint16_t> halves(static_cast<size_t>(n_vocab));
  std::vector<double> log_p(static_cast<size_t>(n_vocab));
  KlResult r;
  double kl_sum = 0, kl_sq = 0, base_nll = 0;
  int64_t agree = 0;
  // Windows never hold more than the tokens: a context that large scores the same positions.
  const int n_ctx = int(std::min<size_t>(size_t(base.n_ctx), base.tokens.size()));
  const auto scored = score(model, base.tokens, n_ctx, n_threads, kv_type, [&](const float* logits, int32_t) {
    int32_t base_top = 0;
    float nll = 0;
    in.read(reinterpret_cast<char*>(&base_top), sizeof base_top);
    in.read(reinterpret_cast<char*>(&nll), sizeof nll);
    in.read(reinterpret_cast<char*>(halves.data()), std::streamsize(halves.size() * sizeof(uint16_t)));
    if (!in) fail("'", base_path, "' is truncated: it has fewer positions than its tokens imply");
    // Renormalize the rounded reference so that it is a distribution again.
    double max = -INFINITY, sum = 0;
    for (int v = 0; v < n_vocab; v++) max = std::max(max, log_p[size_t(v)] = fp16_to_fp32(halves[size_t(v)]));
    for (int v = 0; v < n_vocab; v++) sum += std::exp(log_p[size_t(v)] - max);
    const double log_z = max + std::log(sum);
    log_softmax(logits, n_vocab, log_q);
    double kl = 0;
    for (int v = 0; v < n_vocab; v++) {
      const double lp = log_p[size_t(v)] - log_z;
      kl += std::exp(lp) * (lp - log_q[size_t(v)]);
    }
    kl = std::max(kl, 0.0);
    kl_sum += kl;
    kl_sq += kl * kl;
    r.max_kl = std::max(r.max_kl, kl);
    base_nll += nll;
    agree += argmax(logits, n_vocab) == base_top;
  });
  const double n = double(scored.n_scored);
  r.n_scored = scored.n_scored;
  r.mean_kl = kl_sum / n;
  r.kl_stderr = n > 1 ? std::sqrt(std::max(0.0, (kl_sq / n - r.mean_kl * r.mean_kl) / (n - 1))) : 0;
  r.top1_agreement = double(agree) / n;
  r.top1_stderr = n > 1 ? std::sqrt(r.top1_agreement * (1 - r.top1_agreement) / (n - 1)) : 0;
  r.base_ppl = std::exp(base_nll / n);
  r.ppl = scored.perplexity;
  return r;
}

}  // namespace tandem::generate
