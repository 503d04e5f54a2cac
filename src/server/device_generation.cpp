// Answers a request from the in-process model: queue it on the scheduler, then
// send the whole answer or stream it as server-sent events.
#include <cstdio>

#include "server/server_impl.h"

namespace tandem::server {

ojson RouteNote::json() const {
  ojson note{{"route", route}, {"reason", reason}};
  if (fallback) note["fallback"] = true;
  return note;
}

void LedgerContext::record(const std::string& model, int64_t tokens_in, int64_t tokens_out, double ttft_ms,
                           double cloud_cost_fen) const {
  if (!router) return;
  router::LedgerEntry entry;
  entry.unix_ms = arrived_ms;
  entry.route = note.route;
  entry.reason = note.reason;
  entry.model = model;
  entry.tokens_in = tokens_in;
  entry.tokens_out = tokens_out;
  entry.ttft_ms = ttft_ms;
  entry.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  entry.cloud_cost_fen = cloud_cost_fen;
  // Savings against sending everything to the cloud: what the cloud would have charged.
  entry.saved_fen = note.route == "refused" ? 0 : router->cloud_cost_fen(tokens_in, tokens_out) - cloud_cost_fen;
  entry.fallback = note.fallback;
  try {
    router->record(entry);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tandem serve: ledger: %s\n", error.what());  // an answer is never lost to the ledger
  }
}

std::shared_ptr<Job> HttpServer::Impl::submit(GenerationRequest generation) {
  try {
    return scheduler->submit(std::move(generation));
  } catch (const QueueFull& full) {
    ++metrics.rejected_queue_full;
    throw ApiError(429, "rate_limit_error", full.what(), "", "queue_full");
  }
}

void HttpServer::Impl::serve_device(ApiRequest request, httplib::Response& res, std::shared_ptr<LedgerContext> ledger) {
  std::shared_ptr<Job> job = submit(std::move(request.generation));
  auto writer = std::make_shared<ResponseWriter>(request, info, next_response_id(request.endpoint), unix_time());
  const ojson note = ledger ? ledger->note.json() : ojson();
  auto finish = [this, ledger](const Outcome& outcome) {
    metrics.record(outcome);
    if (ledger) {
      ledger->record(info.id, outcome.n_prompt, outcome.n_generated,
                     1000 * (outcome.queue_seconds + outcome.prompt_seconds), 0);
    }
  };

  if (!request.stream) {
    // The whole answer is one JSON document, but it is sent chunked: while the
    // model works, a space (JSON allows leading whitespace) goes out every 250 ms,
    // so a client that hung up is noticed by a failed write and its generation
    // cancelled, instead of running to max_tokens for nobody.
    struct Pending {
      std::string text;
      std::vector<TokenLogprob> logprobs;
      Clock::time_point last_write = Clock::now();
    };
    auto pending = std::make_shared<Pending>();
    pending->text = request.echo;
    res.set_chunked_content_provider(
        "application/json",
        [job, writer, note, finish, pending](size_t, httplib::DataSink& sink) {
          std::vector<Piece> pieces;
          const bool finished = job->wait(pieces, std::chrono::milliseconds(100));
          for (Piece& p : pieces) {
            pending->text += p.text;
            if (p.logprob) pending->logprobs.push_back(std::move(*p.logprob));
          }
          std::string out;
          if (finished) {
            const Outcome& outcome = job->outcome();
            finish(outcome);
            ojson response = outcome.error.empty()
                                 ? writer->complete(pending->text, pending->logprobs, outcome)
                                 : error_json(ApiError(400, "invalid_request_error", outcome.error));
            if (!note.is_null()) response["tandem"] = note;
            out = to_wire(response);
          } else if (Clock::now() - pending->last_write >= std::chrono::milliseconds(250)) {
            out = " ";
          }
          if (!out.empty()) {
            pending->last_write = Clock::now();
            if (!sink.write(out.data(), out.size())) {
              job->cancel();
              return false;
            }
          }
          if (finished) sink.done();
          return true;
        },
        [job](bool) { job->cancel(); });
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  const bool include_usage = request.include_usage;
  auto echo = std::make_shared<std::string>(request.echo);
  res.set_chunked_content_provider(
      "text/event-stream",
      [job, writer, include_usage, echo, note, finish](size_t, httplib::DataSink& sink) {
        std::string out;
        if (!echo->empty()) out += sse(writer->chunk(*echo, {})), echo->clear();
        std::vector<Piece> pieces;
        const bool finished = job->wait(pieces, std::chrono::milliseconds(100));
        for (Piece& p : pieces) {
          std::vector<TokenLogprob> logprobs;
          if (p.logprob) logprobs.push_back(std::move(*p.logprob));
          if (!p.text.empty() || !logprobs.empty()) out += sse(writer->chunk(p.text, logprobs));
        }
        if (finished) {
          const Outcome& outcome = job->outcome();
          finish(outcome);
          if (!outcome.error.empty()) {
            out += sse(error_json(ApiError(400, "invalid_request_error", outcome.error)));
          } else {
            ojson last = writer->final_chunk(outcome);
            if (!note.is_null()) last["tandem"] = note;
            out += sse(last);
            if (include_usage) out += sse(writer->usage_chunk(outcome));
          }
          out += "data: [DONE]\n\n";
        }
        // A failed write means the client went away: stop generating at once.
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          job->cancel();
          return false;
        }
        if (finished) sink.done();
        return true;
      },
      [job](bool) { job->cancel(); });  // no-op after a normal end
}

}  // namespace tandem::server
