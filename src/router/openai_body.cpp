#include "router/openai_body.h"

#include <algorithm>

#include "router/config.h"
#include "router/privacy_check.h"

#include "core/error.h"

namespace tandem::router {
namespace {

// Applies `edit` to every text a request carries (message contents, text parts, the prompt);
// with a const body it only reads (every key is checked with contains() before operator[]).
template <typename Json, typename Edit>
void for_each_text(Json& body, Edit&& edit) {
  auto visit_content = [&](auto& content) {
    if (content.is_string()) {
      edit(content);
    } else if (content.is_array()) {
      for (auto& part : content) {
        if (part.is_object() && part.contains("text") && part["text"].is_string()) edit(part["text"]);
      }
    }
  };
  if (body.contains("messages") && body["messages"].is_array()) {
    for (auto& message : body["messages"]) {
      if (message.is_object() && message.contains("content")) visit_content(message["content"]);
    }
  }
  if (body.contains("prompt")) {
    auto& prompt = body["prompt"];
    if (prompt.is_string()) {
      edit(prompt);
    } else if (prompt.is_array()) {
      for (auto& p : prompt) {
        if (p.is_string()) edit(p);
      }
    }
  }
}

std::vector<std::string> split_tags(const std::string& text) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string tag = text.substr(start, end - start);
    tag.erase(0, tag.find_first_not_of(" \t"));
    tag.erase(tag.find_last_not_of(" \t") + 1);
    if (!tag.empty()) tags.push_back(tag);
    start = end + 1;
  }
  return tags;
}

}  // namespace

std::string request_text(const ojson& body) {
  std::string text;
  for_each_text(body, [&](const ojson& value) {
    if (!text.empty()) text += '\n';
    text += value.get<std::string>();
  });
  return text;
}

std::string request_task_text(const ojson& body) {
  if (!body.contains("messages") || !body["messages"].is_array()) return "";
  const ojson& messages = body["messages"];
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (!it->is_object() || !it->contains("role") || (*it)["role"] != "user" || !it->contains("content")) continue;
    ojson last = {{"messages", ojson::array({*it})}};
    return request_text(last);
  }
  return "";
}

bool request_wants_tools(const ojson& body) {
  auto non_empty = [&](const char* key) {
    return body.contains(key) && !body[key].is_null() && !(body[key].is_array() && body[key].empty());
  };
  if (non_empty("tools") || non_empty("functions")) return true;
  return body.contains("tool_choice") && body["tool_choice"].is_object();
}

RequestRouting request_routing(const ojson& body, const std::string& preference_header, const std::string& tags_header,
                               const std::string& privacy_header) {
  RequestRouting routing;
  std::string preference = preference_header, strictness = privacy_header;
  routing.data_tags = split_tags(tags_header);
  if (body.contains("tandem")) {
    const ojson& own = body["tandem"];
    if (!own.is_object()) fail("'tandem' must be an object like {\"preference\": \"device-only\"}");
    if (own.contains("preference")) {
      if (!own["preference"].is_string()) fail("'tandem.preference' must be a string");
      preference = own["preference"].get<std::string>();
    }
    if (own.contains("data_tags")) {
      const ojson& tags = own["data_tags"];
      if (!tags.is_array()) fail("'tandem.data_tags' must be an array of strings");
      for (const auto& tag : tags) {
        if (!tag.is_string()) fail("'tandem.data_tags' must be an array of strings");
        routing.data_tags.push_back(tag.get<std::string>());
      }
    }
    if (own.contains("private") && own["private"] == true) routing.data_tags.push_back("private");
    if (own.contains("privacy")) {
      if (!own["privacy"].is_string()) fail("'tandem.privacy' must be a string");
      strictness = own["privacy"].get<std::string>();
    }
  }
  if (!strictness.empty()) routing.strictness = parse_strictness_setting(strictness, "privacy setting");
  if (!preference.empty()) {
    routing.preference = parse_preference(preference);
    if (!routing.preference) fail("route preference '", preference, "' is not device-only, auto or cloud-preferred");
  }
  return routing;
}

ojson cloud_body(const ojson& body, const std::string& model, Redactor* redactor, Strictness strictness) {
  ojson out = body;
  out.erase("tandem");
  out["model"] = model;
  if (redactor) {
    for_each_text(out, [&](ojson& value) {
      const std::string text = value.get<std::string>();
      Redactor values_only;
      if (!check_redacted(values_only.redact(text), strictness).is_private) {
        value = redactor->redact(text);
      } else {
        // The classifier's semantic spans become placeholders too ([HEALTH_1]).
        value = redactor->redact(text, semantic_spans(text));
      }
    });
  }
  return out;
}

ojson chat_body(const std::vector<tokenizer::ChatMessage>& messages, const generate::GenerateOptions& options,
                const ojson* schema) {
  ojson body;
  body["messages"] = ojson::array();
  for (const tokenizer::ChatMessage& m : messages) body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  if (options.max_tokens >= 0) body["max_tokens"] = options.max_tokens;
  const generate::SamplerOptions& s = options.sampling;
  body["temperature"] = std::max(0.0f, s.temperature);
  if (s.top_p < 1) body["top_p"] = s.top_p;
  if (s.presence_penalty != 0) body["presence_penalty"] = s.presence_penalty;
  if (s.frequency_penalty != 0) body["frequency_penalty"] = s.frequency_penalty;
  if (s.seed != generate::SamplerOptions::kRandomSeed) body["seed"] = s.seed;
  if (!options.stop.empty()) body["stop"] = options.stop;
  if (schema) body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "answer"}, {"schema", *schema}}}};
  return body;
}

std::string to_wire(const ojson& value) { return value.dump(-1, ' ', false, ojson::error_handler_t::replace); }

}  // namespace tandem::router
