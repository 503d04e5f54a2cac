// What the C API's files share: the handles behind the opaque C types, error
// reporting, and the conversion of C options into generate's.
#pragma once
#include <memory>
#include <string>

#include "core/error.h"
#include "generate/session.h"
#include "model/context.h"
#include "tandem/tandem.h"
#include "tokenizer/chat_template.h"

struct tandem_model {
  std::shared_ptr<tandem::model::Model> model;
  std::shared_ptr<tandem::tokenizer::Tokenizer> tokenizer;
  tandem_model_options options;
  tandem::model::ContextOptions context;  // what sessions get (the budget may have shrunk it)
  tandem::tokenizer::ChatFormat chat;     // the model's template, chatml when it has none
  std::string name;                       // the file name, as the router's ledger records it
};

struct tandem_session {
  std::shared_ptr<tandem::model::Model> model;  // keeps weights alive after tandem_model_free
  std::shared_ptr<tandem::tokenizer::Tokenizer> tokenizer;
  tandem::tokenizer::ChatFormat chat;
  std::unique_ptr<tandem::generate::Session> session;
};

namespace tandem::capi {

// Records the failure as this thread's last error and returns its status.
tandem_status failure(tandem_status status, const std::string& message);

// Runs fn, turning every exception into a status: no C++ exception crosses into C.
template <class Fn>
tandem_status guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    return failure(TANDEM_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return failure(TANDEM_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return failure(TANDEM_ERROR_INTERNAL, e.what());
  }
}

bool reserved_zero(const void* reserved, size_t bytes);
// NULL options are the defaults. Checks every field (reserved zero, stop strings, the
// JSON schema compiles, logprob range).
tandem_status to_generate_options(const tandem_generate_options* in, generate::GenerateOptions& out);
tandem_status to_messages(const tandem_chat_message* messages, size_t n_messages,
                          std::vector<tokenizer::ChatMessage>& out);
tandem_finish_reason to_c(generate::FinishReason reason);

// The C callbacks of one call as a generate::OnPiece: on_text for text, the options'
// on_logprob for logprobs; false when either cancels.
class PieceSink {
 public:
  PieceSink(const tandem_generate_options* options, tandem_text_callback on_text, void* user_data);
  bool operator()(const generate::Piece& piece) const;

 private:
  tandem_text_callback on_text_;
  void* user_data_;
  tandem_logprob_callback on_logprob_ = nullptr;
  void* logprob_user_data_ = nullptr;
};

}  // namespace tandem::capi
