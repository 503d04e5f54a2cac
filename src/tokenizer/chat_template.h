// Chat messages -> one prompt string, in the format a model was fine-tuned on.
// Not a Jinja interpreter: the GGUF's tokenizer.chat_template is recognised by
// signature substrings (as llama.cpp's llm_chat_detect_template does) and the
// matching family is rendered by a fixed renderer whose output equals
// llama.cpp's llama_chat_apply_template for the same family.
//
// The prompt never starts with BOS: the tokenizer adds it (encode with
// add_special), so BOS text appears only where a family repeats it inside the
// history (llama2-sys-bos). EOS text ends assistant turns where the family
// marks them with EOS (llama2, mistral, zephyr).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::gguf {
class File;
}

namespace tandem::tokenizer {

class Tokenizer;

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

// template_text: the GGUF's tokenizer.chat_template (may be empty).
// forced_name: "" to detect from template_text, else one of chat_template_names().
// bos_text / eos_text: the model's BOS/EOS token text (e.g. "<s>", "</s>");
// empty falls back to "<s>" / "</s>".
// Unknown or empty template with no forced_name, unknown forced_name, or a role
// other than system/user/assistant -> tandem::Error.
std::string apply_chat_template(const std::string& template_text, const std::string& forced_name,
                                const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                const std::string& bos_text, const std::string& eos_text);

// Every name --chat-template accepts. Besides llama.cpp's variant names,
// "mistral" is an alias of "mistral-v3" (Mistral-7B-Instruct-v0.3's format).
std::vector<std::string> chat_template_names();

// The name detected from a template text, or "" when not recognised. A text
// that is itself one of chat_template_names() detects as that name.
std::string detect_chat_template(const std::string& template_text);

// A model's chat format: its template (or a forced family) and its BOS/EOS texts,
// so that every surface renders chat messages the same way.
struct ChatFormat {
  std::string template_text;  // tokenizer.chat_template
  std::string template_name;  // forced or fallback family ("" : detect from template_text)
  std::string bos_text, eos_text;
  std::string origin;  // why this template: "--chat-template", "the model's", or why chatml

  // The one rule of every surface (server, chat, C API): forced_name when given (an
  // unknown name is a tandem::Error), else the model's own template, else chatml
  // when the model has none or one that is not recognised, as llama.cpp's server does.
  static ChatFormat of(const gguf::File& file, const Tokenizer& tokenizer, const std::string& forced_name);
  // The family rendered ("llama3", "chatml", ...).
  std::string name() const;
  // The family and why, for the user: "chatml (the model has no chat template)".
  std::string description() const { return name() + " (" + origin + ")"; }
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;
  // The rendered messages as prompt tokens (BOS as the model wants it, special tokens parsed).
  std::vector<int32_t> prompt(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages) const;
};

}  // namespace tandem::tokenizer
