// What the router reads from, and changes in, an OpenAI request body: the text to
// inspect, tool use, app data tags and preference, and the body sent to a cloud
// (own fields removed, model replaced, PII redacted when asked).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "generate/generation.h"
#include "router/policy.h"
#include "router/redaction.h"
#include "tokenizer/chat_template.h"

namespace tandem::router {

using ojson = nlohmann::ordered_json;

// All text the model would read: every message's content (text parts), or the prompt.
std::string request_text(const ojson& body);
// What the request asks for now: the last user message of a chat (text parts joined);
// "" for a completion, whose prompt is the whole of it.
std::string request_task_text(const ojson& body);
// tools / functions / a tool_choice other than "none".
bool request_wants_tools(const ojson& body);

// The request's own routing fields, from the body's "tandem" object
// ({"preference": "device-only", "data_tags": ["photos"], "privacy": "strict"}) and the
// headers X-Tandem-Preference / X-Tandem-Data-Tags (comma-separated) / X-Tandem-Privacy;
// the body wins. tandem::Error for an unknown preference or privacy setting.
struct RequestRouting {
  std::optional<Preference> preference;
  std::vector<std::string> data_tags;
  std::optional<Strictness> strictness;  // applies only where stricter than the configured one
};
RequestRouting request_routing(const ojson& body, const std::string& preference_header, const std::string& tags_header,
                               const std::string& privacy_header = "");

// The body for the cloud: "tandem" removed, "model" set; with a redactor, every
// message content and the prompt redacted: the scanners' values, and the classifier's
// semantic spans only where what the values' placeholders leave still reads private
// at `strictness` (so the cloud keeps the task's wording whenever that is safe).
ojson cloud_body(const ojson& body, const std::string& model, Redactor* redactor,
                 Strictness strictness = Strictness::Balanced);

// A chat request in OpenAI form for surfaces that do not receive one (the CLI, the C
// API): the messages and the sampling settings an OpenAI-compatible cloud understands;
// with `schema`, response_format json_schema.
ojson chat_body(const std::vector<tokenizer::ChatMessage>& messages, const generate::GenerateOptions& options,
                const ojson* schema = nullptr);

// JSON text for the wire: never throws on invalid UTF-8 (it becomes U+FFFD).
std::string to_wire(const ojson& value);

}  // namespace tandem::router
