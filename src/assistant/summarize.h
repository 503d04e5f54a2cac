// Document summaries, map-reduce when the document is longer than the device's context.
//
// A job is routed once, as a whole (start()): each chunk and the whole document go
// through the router's policy; one private chunk keeps the job on the device. A long
// public document may go to the cloud in one request; a cloud that fails before it
// answers hands the job to the device. On the device:
//   single   the document fits one prompt with room for the answer: one call
//   map      else it is cut into chunks (chunker.h) of at most the map budget; each
//            chunk becomes notes of at most notes_max tokens
//   reduce   while the notes do not fit the final prompt, consecutive notes are merged
//            in groups of two or more (every note is clipped to half a group's budget,
//            so any two fit): each level has at most half as many notes, rounded up,
//            so the tree is at most ceil(log2(chunks)) levels deep (and kMaxLevels is a
//            hard stop)
//   final    the summary itself, from the last notes, streamed
// Only the answer is streamed; progress events count the calls.
#pragma once
#include <memory>
#include <string>

#include "assistant/app.h"
#include "assistant/chunker.h"

namespace tandem::assistant {

struct SummaryOptions {
  std::string length;         // "" : the tasks file's default ("medium")
  std::string lang = "auto";  // "auto" (the document's), "zh", "en"
  std::string focus;          // a question the summary should answer ("" : none)
  SamplingOverrides sampling; // max_tokens caps the final summary
};

// The device-side budgets of a job (all in tokens), for tests and diagnostics.
struct SummaryPlan {
  int n_ctx = 0;
  int document_tokens = 0;
  int single_budget = 0;   // the whole document fits one call when document_tokens <= this
  int map_budget = 0;      // a chunk's tokens
  int reduce_budget = 0;   // the joined notes of one reduce call
  int final_budget = 0;    // the joined notes of the final call
  int note_limit = 0;      // a note is clipped to this (at most half of the smaller of the two above)
  int notes_max_tokens = 0, final_max_tokens = 0;
  bool single = false;
  std::vector<Chunk> chunks;  // map-reduce: the chunks; single: one chunk, the whole document
};

constexpr int kMaxLevels = 40;  // unreachable (levels <= log2 of the chunks); a hard stop

class SummaryJob {
 public:
  // Checks the options (AppError invalid_value) and plans the device side.
  SummaryJob(const Engine& engine, std::string document, SummaryOptions options, Routing routing = {});
  ~SummaryJob();

  // Routes the job. AppError route_refused / cloud_failed / queue_full.
  const router::RouteNote& start();
  // Runs it, streaming the summary; returns when done, cancelled or failed (AppError).
  Result run(const Events& events);
  void cancel();  // from any thread

  const SummaryPlan& plan() const { return plan_; }  // device side; empty without a device
  const std::string& language() const { return language_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SummaryPlan plan_;
  std::string language_;
};

}  // namespace tandem::assistant
