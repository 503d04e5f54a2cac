// The OpenAI wire format: request bodies -> GenerationRequest (validated, with
// errors that name the offending field), and results -> response / stream chunk JSON.
// Supported and unsupported fields are listed in docs/api.md.
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "router/openai_body.h"
#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace tandem::server {

using ojson = nlohmann::ordered_json;

// An error with its HTTP status and OpenAI error type, e.g. 400 invalid_request_error.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = "", std::string code = "")
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}
  int status;
  std::string type, param, code;
};

[[noreturn]] void invalid_request(const std::string& message, const std::string& param = "",
                                  const std::string& code = "");
ojson error_json(const ApiError& error);  // {"error": {"message", "type", "param", "code"}}
using router::to_wire;  // JSON text for the wire: invalid UTF-8 becomes U+FFFD

// What request handling needs to know about the loaded model.
struct ModelInfo {
  const tokenizer::Tokenizer* tokenizer = nullptr;
  std::string id;             // reported as "model"
  std::string template_text;  // tokenizer.chat_template
  std::string template_name;  // forced or fallback family ("" to detect from template_text)
  std::string bos_text, eos_text;
  int n_ctx = 0;
  int draft_k = 0;  // > 0: a draft model is loaded, and requests draft this many tokens by default
};

enum class Endpoint { ChatCompletions, Completions };

struct ApiRequest {
  Endpoint endpoint = Endpoint::ChatCompletions;
  GenerationRequest generation;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string echo;            // completions with "echo": the prompt text, returned before the answer
};

ojson parse_body(const std::string& body);  // 400 for malformed JSON or a non-object
ApiRequest parse_chat_request(const ojson& body, const ModelInfo& model);
ApiRequest parse_completion_request(const ojson& body, const ModelInfo& model);

const char* finish_reason(generate::FinishReason reason);  // "stop" or "length"

// Builds the JSON of one response (or its stream chunks).
class ResponseWriter {
 public:
  ResponseWriter(const ApiRequest& request, const ModelInfo& model, std::string id, int64_t created);

  // A whole (non-streamed) response.
  ojson complete(const std::string& text, const std::vector<TokenLogprob>& logprobs, const Outcome& outcome) const;
  // One stream chunk: the first chat chunk also carries the assistant role.
  ojson chunk(const std::string& text, const std::vector<TokenLogprob>& logprobs);
  ojson final_chunk(const Outcome& outcome) const;
  ojson usage_chunk(const Outcome& outcome) const;  // choices: [] with usage

 private:
  ojson envelope(const char* object) const;
  ojson logprobs_json(const std::vector<TokenLogprob>& logprobs, size_t text_offset) const;

  Endpoint endpoint_;
  int top_logprobs_;
  const ModelInfo& model_;
  std::string id_;
  int64_t created_;
  bool role_sent_ = false;
  size_t text_offset_ = 0;
};

ojson usage_json(const Outcome& outcome);

}  // namespace tandem::server
