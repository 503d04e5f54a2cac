#include "generate/session.h"

namespace tandem::generate {

// Steps the session's generation inside wait(), until a piece is ready or it finished.
class Session::Stream : public PieceStream {
 public:
  Stream(Sequence& sequence, const tokenizer::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
         GenerateOptions options, const TokenTexts* texts, Sequence* draft)
      : generation_(sequence, tokenizer, prompt, std::move(options), texts, draft) {}

  bool wait(std::vector<Piece>& out, std::chrono::milliseconds) override {
    const size_t before = out.size();
    while (!generation_.finished() && out.size() == before) {
      Piece piece = generation_.choose();
      if (generation_.waiting_for_evaluation()) generation_.evaluate();
      if (!piece.empty()) out.push_back(std::move(piece));
    }
    return generation_.finished();
  }
  const Outcome& outcome() const override { return generation_.outcome(); }
  void cancel() override { generation_.cancel(); }
  const std::vector<int32_t>& tokens() const { return generation_.tokens(); }

 private:
  Generation generation_;
};

Session::Session(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
                 const model::ContextOptions& options)
    : tokenizer_(&tokenizer), options_(options), sequence_(std::move(model), options) {}

void Session::set_draft(std::shared_ptr<const model::Model> draft) {
  if (auto stream = active_.lock()) stream->cancel();
  if (!draft) {
    draft_.reset();
    return;
  }
  check_draft_model(sequence_.context().model(), *draft);
  model::ContextOptions options = options_;
  options.n_ctx = sequence_.n_ctx();
  draft_ = std::make_unique<Sequence>(std::move(draft), options);
}

Session::~Session() {
  // A stream that outlives the session must not touch its context again.
  if (auto stream = active_.lock()) stream->cancel();
}

std::shared_ptr<Session::Stream> Session::open(const std::vector<int32_t>& prompt, GenerateOptions options) {
  if (auto previous = active_.lock()) previous->cancel();
  if (options.constraint && !texts_) texts_ = std::make_unique<TokenTexts>(TokenTexts::from(*tokenizer_));
  auto stream = std::make_shared<Stream>(sequence_, *tokenizer_, prompt, std::move(options), texts_.get(), draft_.get());
  active_ = stream;
  return stream;
}

std::shared_ptr<PieceStream> Session::start(GenerationRequest request) {
  return open(request.prompt, std::move(request.options));
}

GenerateResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                 const OnPiece& on_piece) {
  const std::shared_ptr<Stream> stream = open(prompt, options);
  GenerateResult result;
  std::vector<Piece> pieces;
  bool finished = false;
  while (!finished) {
    finished = stream->wait(pieces, {});
    for (Piece& piece : pieces) {
      result.text += piece.text;
      if (piece.logprob) result.logprobs.push_back(*piece.logprob);
      if (on_piece && !on_piece(piece)) stream->cancel();
    }
    pieces.clear();
  }
  static_cast<Outcome&>(result) = stream->outcome();
  result.tokens = stream->tokens();
  return result;
}

GenerateResult Session::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                 const OnText& on_text) {
  if (!on_text) return generate(prompt, options, OnPiece());
  return generate(prompt, options, OnPiece([&](const Piece& piece) { return piece.text.empty() || on_text(piece.text); }));
}

}  // namespace tandem::generate
