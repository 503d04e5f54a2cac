#include "server/openai.h"

#include <climits>

#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace tandem::server {
namespace {

const ojson* find_field(const ojson& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number_field(const ojson& body, const char* name, double low, double high, double fallback) {
  const ojson* v = find_field(body, name);
  if (!v) return fallback;
  if (!v->is_number() || v->get<double>() < low || v->get<double>() > high) {
    invalid_request("'" + std::string(name) + "' must be a number from " + ojson(low).dump() + " to " +
                        ojson(high).dump() + ", got " + v->dump(),
                    name);
  }
  return v->get<double>();
}

int64_t integer_field(const ojson& body, const char* name, int64_t low, int64_t high, int64_t fallback) {
  const ojson* v = find_field(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer() || v->get<int64_t>() < low || (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(high)) ||
      v->get<int64_t>() > high) {
    invalid_request("'" + std::string(name) + "' must be an integer from " + std::to_string(low) + " to " +
                        std::to_string(high) + ", got " + v->dump(),
                    name);
  }
  return v->get<int64_t>();
}

bool bool_field(const ojson& body, const char* name, bool fallback) {
  const ojson* v = find_field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) invalid_request("'" + std::string(name) + "' must be true or false, got " + v->dump(), name);
  return v->get<bool>();
}

// Speculative decoding (a Tandem extension): with a draft model loaded, requests draft
// with it unless "speculative" says otherwise: {"method": "draft" | "lookup" | "none",
// "k": tokens per pass, "ngram": lookup's longest match}.
void parse_speculative(const ojson& body, const ModelInfo& model, generate::SpeculativeOptions& out) {
  using Method = generate::SpeculativeOptions::Method;
  if (model.draft_k > 0) {
    out.method = Method::DraftModel;
    out.k = model.draft_k;
  }
  const ojson* spec = find_field(body, "speculative");
  if (!spec) return;
  if (!spec->is_object()) invalid_request("'speculative' must be an object", "speculative");
  const ojson* method = find_field(*spec, "method");
  const std::string name = method && method->is_string() ? method->get<std::string>() : "";
  if (name == "none") {
    out.method = Method::None;
    return;
  }
  if (name == "draft") {
    if (model.draft_k <= 0)
      invalid_request("speculative.method 'draft': the server has no draft model (start it with --draft)",
                      "speculative.method");
    out.method = Method::DraftModel;
  } else if (name == "lookup") {
    out.method = Method::Lookup;
    out.k = 8;
  } else {
    invalid_request("speculative.method must be draft, lookup or none", "speculative.method");
  }
  auto bounded = [&](const char* field, int low, int high, int fallback) {
    const ojson* v = find_field(*spec, field);
    if (!v) return fallback;
    if (!v->is_number_integer() || v->get<int64_t>() < low || v->get<int64_t>() > high)
      invalid_request("'speculative." + std::string(field) + "' must be an integer from " + std::to_string(low) +
                          " to " + std::to_string(high) + ", got " + v->dump(),
                      "speculative." + std::string(field));
    return int(v->get<int64_t>());
  };
  out.k = bounded("k", 1, generate::kMaxDraftTokens, out.k);
  out.ngram = bounded("ngram", 1, 16, out.ngram);
}

// Fields shared by both endpoints: sampling, length, stop, streaming, format.
void parse_common(const ojson& body, const ModelInfo& model, ApiRequest& out) {
  generate::GenerateOptions& options = out.generation.options;
  for (const generate::SamplerSetting& s : generate::sampler_settings()) {
    options.sampling.*s.member = float(number_field(body, s.field, s.low, s.high, options.sampling.*s.member));
  }
  options.sampling.top_k = int(integer_field(body, "top_k", 0, INT_MAX, options.sampling.top_k));
  if (const ojson* seed = find_field(body, "seed")) {
    if (!seed->is_number_integer()) invalid_request("'seed' must be an integer, got " + seed->dump(), "seed");
    options.sampling.seed = seed->get<uint64_t>();
  }
  // Absent: until the end of text or a full context. Larger than the context is
  // allowed; generation then ends with "length" when the context is full.
  int64_t max_tokens = integer_field(body, "max_tokens", 0, INT64_MAX, -1);
  max_tokens = integer_field(body, "max_completion_tokens", 0, INT64_MAX, max_tokens);
  options.max_tokens = int(std::min<int64_t>(max_tokens, INT_MAX));

  if (const ojson* stop = find_field(body, "stop")) {
    if (stop->is_string()) {
      options.stop = {stop->get<std::string>()};
    } else if (stop->is_array() && stop->size() <= 16 &&
               std::all_of(stop->begin(), stop->end(), [](const ojson& s) { return s.is_string(); })) {
      for (const auto& s : *stop) options.stop.push_back(s.get<std::string>());
    } else {
      invalid_request("'stop' must be a string or an array of at most 16 strings", "stop");
    }
  }
  options.ignore_eos = bool_field(body, "ignore_eos", false);  // llama.cpp extension
  if (integer_field(body, "n", 1, 1, 1) != 1) invalid_request("only n = 1 is supported", "n");

  out.stream = bool_field(body, "stream", false);
  if (const ojson* so = find_field(body, "stream_options")) {
    if (!so->is_object()) invalid_request("'stream_options' must be an object", "stream_options");
    out.include_usage = bool_field(*so, "include_usage", false);
  }

  if (const ojson* format = find_field(body, "response_format")) {
    const ojson* type = format->is_object() ? find_field(*format, "type") : nullptr;
    const std::string kind = type && type->is_string() ? type->get<std::string>() : "";
    try {
      const generate::JsonLimits limits = generate::JsonLimits::for_requests();
      if (kind == "json_object") {
        out.generation.options.constraint = generate::JsonConstraint::any_object(limits);
      } else if (kind == "json_schema") {
        const ojson* spec = find_field(*format, "json_schema");
        const ojson* schema = spec && spec->is_object() ? find_field(*spec, "schema") : nullptr;
        if (!schema) invalid_request("response_format json_schema needs json_schema.schema", "response_format");
        out.generation.options.constraint = generate::JsonConstraint::from_schema(*schema, limits);
      } else if (kind != "text") {
        invalid_request("response_format.type must be text, json_object or json_schema", "response_format");
      }
    } catch (const Error& error) {
      invalid_request(std::string("response_format: ") + error.what(), "response_format");
    }
  }

  parse_speculative(body, model, options.speculative);
}

// The length rule is generate's (max_prompt_tokens); checked here too so that the answer
// is a 400 naming the field before the request is queued.
void check_prompt(const std::vector<int32_t>& prompt, const ModelInfo& model) {
  if (prompt.empty()) invalid_request("the prompt is empty", "prompt");
  if (prompt.size() > size_t(generate::max_prompt_tokens(model.n_ctx))) {
    invalid_request("the prompt is " + std::to_string(prompt.size()) + " tokens but the context holds " +
                        std::to_string(model.n_ctx) +
                        " and must keep one position for the answer (shorten it or start the server with a larger -c)",
                    "messages", "context_length_exceeded");
  }
}

std::string message_content(const ojson& message, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "].content";
  const ojson* content = find_field(message, "content");
  if (!content) return "";
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) invalid_request("'" + where + "' must be a string or an array of text parts", where);
  std::string text;
  for (const auto& part : *content) {
    const ojson* type = part.is_object() ? find_field(part, "type") : nullptr;
    const ojson* part_text = part.is_object() ? find_field(part, "text") : nullptr;
    if (!type || *type != "text" || !part_text || !part_text->is_string()) {
      invalid_request("'" + where + "': only parts of type text are supported", where);
    }
    text += part_text->get<std::string>();
  }
  return text;
}

}  // namespace

void invalid_request(const std::string& message, const std::string& param, const std::string& code) {
  throw ApiError(400, "invalid_request_error", message, param, code);
}

ojson error_json(const ApiError& error) {
  ojson e;
  e["message"] = error.what();
  e["type"] = error.type;
  e["param"] = error.param.empty() ? ojson(nullptr) : ojson(error.param);
  e["code"] = error.code.empty() ? ojson(nullptr) : ojson(error.code);
  return {{"error", e}};
}

ojson parse_body(const std::string& body) {
  ojson parsed = ojson::parse(body, nullptr, false);
  if (parsed.is_discarded()) invalid_request("the request body is not valid JSON (or not valid UTF-8)");
  if (!parsed.is_object()) invalid_request("the request body must be a JSON object");
  return parsed;
}

ApiRequest parse_chat_request(const ojson& body, const ModelInfo& model) {
  ApiRequest out;
  out.endpoint = Endpoint::ChatCompletions;
  const ojson* messages = find_field(body, "messages");
  if (!messages || !messages->is_array() || messages->empty()) {
    invalid_request("'messages' must be a non-empty array", "messages");
  }
  std::vector<tokenizer::ChatMessage> chat;
  for (size_t i = 0; i < messages->size(); ++i) {
    const ojson& m = (*messages)[i];
    const ojson* role = m.is_object() ? find_field(m, "role") : nullptr;
    if (!role || !role->is_string()) invalid_request("messages[" + std::to_string(i) + "].role must be a string", "messages");
    std::string name = role->get<std::string>();
    if (name == "developer") name = "system";
    if (name != "system" && name != "user" && name != "assistant") {
      invalid_request("messages[" + std::to_string(i) + "].role '" + name + "' is not supported (system, developer, user, assistant)",
                      "messages");
    }
    chat.push_back({name, message_content(m, i)});
  }
  parse_common(body, model, out);
  if (const ojson* lp = find_field(body, "logprobs"); lp && !lp->is_boolean()) {
    invalid_request("'logprobs' must be true or false", "logprobs");
  }
  const bool logprobs = bool_field(body, "logprobs", false);
  const int top = int(integer_field(body, "top_logprobs", 0, 20, 0));
  if (find_field(body, "top_logprobs") && !logprobs) invalid_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
  out.generation.options.top_logprobs = logprobs ? top : -1;

  std::string rendered;
  try {
    rendered = tokenizer::apply_chat_template(model.template_text, model.template_name, chat, true, model.bos_text,
                                              model.eos_text);
  } catch (const Error& error) {
    invalid_request(std::string("cannot apply the chat template: ") + error.what(), "messages");
  }
  out.generation.prompt = model.tokenizer->encode(rendered, true, true);
  check_prompt(out.generation.prompt, model);
  return out;
}

ApiRequest parse_completion_request(const ojson& body, const ModelInfo& model) {
  ApiRequest out;
  out.endpoint = Endpoint::Completions;
  const ojson* prompt = find_field(body, "prompt");
  if (prompt && prompt->is_array() && prompt->size() == 1 && !(*prompt)[0].is_number()) prompt = &(*prompt)[0];
  if (!prompt) invalid_request("'prompt' is required", "prompt");
  const bool echo = bool_field(body, "echo", false);
  if (prompt->is_string()) {
    out.generation.prompt = model.tokenizer->encode(prompt->get<std::string>(), true, false);
    if (echo) out.echo = prompt->get<std::string>();
  } else if (prompt->is_array() && !prompt->empty() &&
             std::all_of(prompt->begin(), prompt->end(), [](const ojson& t) { return t.is_number_integer(); })) {
    for (const auto& t : *prompt) {
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id >= model.tokenizer->n_vocab()) invalid_request("prompt token id " + t.dump() + " is outside the vocabulary", "prompt");
      out.generation.prompt.push_back(int32_t(id));
    }
  } else {
    invalid_request("'prompt' must be a string, one string in an array, or an array of token ids", "prompt");
  }
  if (echo && !prompt->is_string()) invalid_request("'echo' needs the prompt as a string", "echo");
  if (const ojson* suffix = find_field(body, "suffix"); suffix && *suffix != "") invalid_request("'suffix' is not supported", "suffix");
  parse_common(body, model, out);
  out.generation.options.top_logprobs = int(integer_field(body, "logprobs", 0, 20, -1));
  check_prompt(out.generation.prompt, model);
  return out;
}

const char* finish_reason(generate::FinishReason reason) {
  return reason == generate::FinishReason::Stop ? "stop" : "length";
}

ojson usage_json(const Outcome& outcome) {
  return {{"prompt_tokens", outcome.n_prompt},
          {"completion_tokens", outcome.n_generated},
          {"total_tokens", outcome.n_prompt + outcome.n_generated},
          {"prompt_tokens_details", {{"cached_tokens", outcome.n_cached}}}};
}

ResponseWriter::ResponseWriter(const ApiRequest& request, const ModelInfo& model, std::string id, int64_t created)
    : endpoint_(request.endpoint), top_logprobs_(request.generation.options.top_logprobs), model_(model), id_(std::move(id)),
      created_(created) {}

ojson ResponseWriter::envelope(const char* object) const {
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_.id}, {"system_fingerprint", "tandem"}};
}

ojson ResponseWriter::logprobs_json(const std::vector<TokenLogprob>& logprobs, size_t text_offset) const {
  if (top_logprobs_ < 0) return nullptr;
  const tokenizer::Tokenizer& tok = *model_.tokenizer;
  auto entry = [&](int32_t id, float logprob) {
    const std::string piece = tok.token_to_piece(id, false);
    ojson bytes = ojson::array();
    for (unsigned char c : piece) bytes.push_back(int(c));
    return ojson{{"token", piece}, {"logprob", logprob}, {"bytes", bytes}};
  };
  if (endpoint_ == Endpoint::ChatCompletions) {
    ojson content = ojson::array();
    for (const TokenLogprob& lp : logprobs) {
      ojson e = entry(lp.id, lp.logprob);
      e["top_logprobs"] = ojson::array();
      for (const TopLogprob& t : lp.top) e["top_logprobs"].push_back(entry(t.id, t.logprob));
      content.push_back(std::move(e));
    }
    return {{"content", content}};
  }
  ojson tokens = ojson::array(), token_logprobs = ojson::array(), tops = ojson::array(), offsets = ojson::array();
  for (const TokenLogprob& lp : logprobs) {
    const std::string piece = tok.token_to_piece(lp.id, false);
    tokens.push_back(piece);
    token_logprobs.push_back(lp.logprob);
    ojson top = ojson::object();
    for (const TopLogprob& t : lp.top) top[tok.token_to_piece(t.id, false)] = t.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(text_offset);
    text_offset += piece.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

ojson ResponseWriter::complete(const std::string& text, const std::vector<TokenLogprob>& logprobs,
                               const Outcome& outcome) const {
  const bool chat = endpoint_ == Endpoint::ChatCompletions;
  ojson r = envelope(chat ? "chat.completion" : "text_completion");
  ojson choice{{"index", 0}};
  if (chat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = logprobs_json(logprobs, 0);
  choice["finish_reason"] = finish_reason(outcome.finish);
  r["choices"] = ojson::array({choice});
  r["usage"] = usage_json(outcome);
  return r;
}

ojson ResponseWriter::chunk(const std::string& text, const std::vector<TokenLogprob>& logprobs) {
  const bool chat = endpoint_ == Endpoint::ChatCompletions;
  ojson r = envelope(chat ? "chat.completion.chunk" : "text_completion");
  ojson choice{{"index", 0}};
  if (chat) {
    ojson delta = ojson::object();
    if (!role_sent_) delta["role"] = "assistant";
    delta["content"] = text;
    choice["delta"] = delta;
    role_sent_ = true;
  } else {
    choice["text"] = text;
  }
  choice["logprobs"] = logprobs_json(logprobs, text_offset_);
  choice["finish_reason"] = nullptr;
  text_offset_ += text.size();
  r["choices"] = ojson::array({choice});
  return r;
}

ojson ResponseWriter::final_chunk(const Outcome& outcome) const {
  const bool chat = endpoint_ == Endpoint::ChatCompletions;
  ojson r = envelope(chat ? "chat.completion.chunk" : "text_completion");
  ojson choice{{"index", 0}};
  if (chat) {
    choice["delta"] = ojson::object();
  } else {
    choice["text"] = "";
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason(outcome.finish);
  r["choices"] = ojson::array({choice});
  return r;
}

ojson ResponseWriter::usage_chunk(const Outcome& outcome) const {
  ojson r = envelope(endpoint_ == Endpoint::ChatCompletions ? "chat.completion.chunk" : "text_completion");
  r["choices"] = ojson::array();
  r["usage"] = usage_json(outcome);
  return r;
}

}  // namespace tandem::server
