// Where generations run, seen from whoever consumes their pieces: a Session runs
// them in the consumer's own thread (each wait() takes steps), the server's scheduler
// on its thread next to other requests (server::Scheduler). The routed generation
// (router/routed_generation.h) drives the device tier through this interface.
#pragma once
#include <chrono>
#include <memory>
#include <vector>

#include "generate/generation.h"

namespace tandem::generate {

// One generation in progress.
class PieceStream {
 public:
  virtual ~PieceStream() = default;
  // Moves new pieces into `out`, waiting up to `timeout` when there are none; true
  // once the generation finished and every piece was taken.
  virtual bool wait(std::vector<Piece>& out, std::chrono::milliseconds timeout) = 0;
  virtual const Outcome& outcome() const = 0;  // valid once wait() returned true
  // Ends the generation as cancelled; wait() then returns true soon. From the
  // consumer's thread (Session) or any thread (server jobs).
  virtual void cancel() = 0;
};

class Generator {
 public:
  virtual ~Generator() = default;
  // tandem::Error for a prompt the context cannot take; the server's queue may refuse too.
  virtual std::shared_ptr<PieceStream> start(GenerationRequest request) = 0;
  virtual const tokenizer::Tokenizer& tokenizer() const = 0;
  virtual int n_ctx() const = 0;
};

}  // namespace tandem::generate
