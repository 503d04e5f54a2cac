#include "tokenizer/chat_template.h"

#include <functional>
#include <string_view>

#include "core/error.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace tandem::tokenizer {
namespace {

struct SpecialText {
  std::string bos;
  std::string eos;
};

using Messages = std::vector<ChatMessage>;
using Renderer = std::function<std::string(const Messages&, bool add_generation_prompt, const SpecialText&)>;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

// Families that frame every turn the same way: open + role + close + content + end.
// The generation prompt is the frame of an assistant turn with nothing in it yet.
struct HeaderedStyle {
  std::string_view role_open;
  std::string_view role_close;
  std::string_view turn_end;  // empty: the model's EOS text
  std::string_view after_turn;
  bool trim_content;
};

std::string render_headered(const HeaderedStyle& style, const Messages& messages, bool add_generation_prompt,
                            const SpecialText& special) {
  std::string out;
  for (const ChatMessage& message : messages) {
    out.append(style.role_open).append(message.role).append(style.role_close);
    out += style.trim_content ? trim(message.content) : message.content;
    out += style.turn_end.empty() ? special.eos : std::string(style.turn_end);
    out.append(style.after_turn);
  }
  if (add_generation_prompt) out.append(style.role_open).append("assistant").append(style.role_close);
  return out;
}

// Llama-2 [INST] variants (Mistral v0.1/v0.2 too). The first turn's [INST] is
// written up front so that a system message lands inside it. These formats
// always end on [/INST], so add_generation_prompt changes nothing.
struct Llama2Style {
  bool system_block;       // <<SYS>> ... <</SYS>>, else the system text plus a newline
  bool bos_between_turns;  // every turn after the first starts with BOS
  bool trim_content;
};

std::string render_llama2(const Llama2Style& style, const Messages& messages, bool,
                          const SpecialText& special) {
  std::string out = "[INST] ";
  bool inside_turn = true;
  for (const ChatMessage& message : messages) {
    const std::string content = style.trim_content ? trim(message.content) : message.content;
    if (!inside_turn) {
      inside_turn = true;
      if (style.bos_between_turns) out += special.bos;
      out += "[INST] ";
    }
    if (message.role == "system") {
      out += style.system_block ? "<<SYS>>\n" + content + "\n<</SYS>>\n\n" : content + "\n";
    } else if (message.role == "user") {
      out += content + " [/INST]";
    } else {
      out += content + special.eos;
      inside_turn = false;
    }
  }
  return out;
}

// Mistral's official v1 / v3 / v3-tekken formats differ only in spacing and
// in trimming the assistant's text.
struct MistralStyle {
  std::string_view before_brackets;  // before [INST] and [/INST]
  std::string_view after_inst;       // after [INST] and before an assistant reply
  bool trim_assistant;
};

std::string render_mistral(const MistralStyle& style, const Messages& messages, bool,
                           const SpecialText& special) {
  std::string out;
  bool inside_turn = false;
  for (const ChatMessage& message : messages) {
    if (!inside_turn) {
      out.append(style.before_brackets).append("[INST]").append(style.after_inst);
      inside_turn = true;
    }
    if (message.role == "system") {
      out += message.content + "\n\n";
    } else if (message.role == "user") {
      out.append(message.content).append(style.before_brackets).append("[/INST]");
    } else {
      out.append(style.after_inst);
      out += (style.trim_assistant ? trim(message.content) : message.content) + special.eos;
      inside_turn = false;
    }
  }
  return out;
}

// Mistral v7: the system prompt has its own brackets; `space` follows each opening tag.
std::string render_mistral_v7(std::string_view space, const Messages& messages, bool,
                              const SpecialText& special) {
  std::string out;
  for (const ChatMessage& message : messages) {
    if (message.role == "system") {
      out.append("[SYSTEM_PROMPT]").append(space).append(message.content).append("[/SYSTEM_PROMPT]");
    } else if (message.role == "user") {
      out.append("[INST]").append(space).append(message.content).append("[/INST]");
    } else {
      out.append(space).append(message.content).append(special.eos);
    }
  }
  return out;
}

// Gemma has no system role: system text is held and prepended to the next user
// turn. The assistant is called "model" and every content is trimmed.
std::string render_gemma(const Messages& messages, bool add_generation_prompt, const SpecialText&) {
  std::string out, pending_system;
  for (const ChatMessage& message : messages) {
    if (message.role == "system") {
      pending_system += trim(message.content);
      continue;
    }
    const bool is_model = message.role == "assistant";
    out += "<start_of_turn>" + std::string(is_model ? "model" : message.role) + "\n";
    if (!pending_system.empty() && !is_model) {
      out += pending_system + "\n\n";
      pending_system.clear();
    }
    out += trim(message.content) + "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// ChatGLM: a fixed prefix, then "<|role|>" + separator + content per turn.
struct GlmStyle {
  std::string_view prefix;     // "[gMASK]<sop>" (GLM-4) or "[gMASK]sop" (ChatGLM3)
  std::string_view separator;  // between the role tag and the content
  std::string_view generation_prompt;
};

std::string render_glm(const GlmStyle& style, const Messages& messages, bool add_generation_prompt,
                       const SpecialText&) {
  std::string out(style.prefix);
  for (const ChatMessage& message : messages)
    out.append("<|").append(message.role).append("|>").append(style.separator).append(message.content);
  if (add_generation_prompt) out.append(style.generation_prompt);
  return out;
}

// MiniCPM: user turns are wrapped as <用户>...<AI>; other turns are their trimmed text.
// The format always ends on <AI>, so add_generation_prompt changes nothing.
std::string render_minicpm(const Messages& messages, bool, const SpecialText&) {
  std::string out;
  for (const ChatMessage& message : messages) {
    if (message.role == "user") out += "<\u7528\u6237>" + trim(message.content) + "<AI>";
    else out += trim(message.content);
  }
  return out;
}

struct Family {
  std::string name;
  Renderer render;
};

template <class Style, class Render>
Renderer bind_style(Style style, Render render) {
  return [style, render](const Messages& messages, bool add_generation_prompt, const SpecialText& special) {
    return render(style, messages, add_generation_prompt, special);
  };
}

const std::vector<Family>& families() {
  static const std::vector<Family> table = [] {
    const Renderer mistral_v3 = bind_style(MistralStyle{"", " ", true}, render_mistral);
    return std::vector<Family>{
        {"chatglm3", bind_style(GlmStyle{"[gMASK]sop", "\n ", "<|assistant|>"}, render_glm)},
        {"chatglm4", bind_style(GlmStyle{"[gMASK]<sop>", "\n", "<|assistant|>\n"}, render_glm)},
        {"chatml", bind_style(HeaderedStyle{"<|im_start|>", "\n", "<|im_end|>", "\n", false}, render_headered)},
        {"gemma", render_gemma},
        {"llama2", bind_style(Llama2Style{false, false, false}, render_llama2)},
        {"llama2-sys", bind_style(Llama2Style{true, false, false}, render_llama2)},
        {"llama2-sys-bos", bind_style(Llama2Style{true, true, false}, render_llama2)},
        {"llama2-sys-strip", bind_style(Llama2Style{true, false, true}, render_llama2)},
        {"llama3", bind_style(HeaderedStyle{"<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>", "", true},
                              render_headered)},
        {"minicpm", render_minicpm},
        {"mistral", mistral_v3},
        {"mistral-v1", bind_style(MistralStyle{" ", " ", false}, render_mistral)},
        {"mistral-v3", mistral_v3},
        {"mistral-v3-tekken", bind_style(MistralStyle{"", "", false}, render_mistral)},
        {"mistral-v7", bind_style(std::string_view(" "), render_mistral_v7)},
        {"mistral-v7-tekken", bind_style(std::string_view(""), render_mistral_v7)},
        {"phi3", bind_style(HeaderedStyle{"<|", "|>\n", "<|end|>", "\n", false}, render_headered)},
        {"zephyr", bind_style(HeaderedStyle{"<|", "|>\n", "", "\n", false}, render_headered)},
    };
  }();
  return table;
}

const Family* find_family(const std::string& name) {
  for (const Family& family : families()) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

std::string joined_names() {
  std::string out;
  for (const Family& family : families()) out += (out.empty() ? "" : ", ") + family.name;
  return out;
}

// Which of the [INST] families a template is, by the same signatures llama.cpp uses.
std::string detect_inst_family(const std::string& text) {
  auto contains = [&text](std::string_view part) { return text.find(part) != std::string::npos; };
  if (contains("[SYSTEM_PROMPT]")) return "mistral-v7";
  // Mistral's official v1 and v3 templates, as published in their cookbook.
  if (contains("' [INST] ' + system_message") || contains("[AVAILABLE_TOOLS]")) {
    if (contains(" [INST]")) return "mistral-v1";
    if (contains("\"[INST]\"")) return "mistral-v3-tekken";
    return "mistral-v3";
  }
  if (contains("content.strip()")) return "llama2-sys-strip";
  if (contains("bos_token + '[INST]")) return "llama2-sys-bos";
  if (contains("<<SYS>>")) return "llama2-sys";
  return "llama2";
}

void check_roles(const Messages& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      fail("chat message ", i, " has role '", role, "'; a role must be system, user or assistant");
    }
  }
}

}  // namespace

std::vector<std::string> chat_template_names() {
  std::vector<std::string> names;
  for (const Family& family : families()) names.push_back(family.name);
  return names;
}

std::string detect_chat_template(const std::string& template_text) {
  if (find_family(template_text)) return template_text;
  auto contains = [&template_text](std::string_view part) { return template_text.find(part) != std::string::npos; };
  if (contains("<|im_start|>")) {
    // Phi-4 (<|im_sep|>) and SmolVLM (<end_of_utterance>) borrow ChatML's tokens
    // but not its layout; rendering them as ChatML would be silently wrong.
    if (contains("<|im_sep|>") || contains("<end_of_utterance>")) return "";
    return "chatml";
  }
  if (contains("[INST]")) return detect_inst_family(template_text);
  if (contains("<|assistant|>") && contains("<|end|>")) return "phi3";
  // GLM-4 and ChatGLM3 also use <|user|>/<|assistant|> but no EOS after a turn.
  if (contains("[gMASK]<sop>")) return "chatglm4";
  if (contains("[gMASK]sop")) return "chatglm3";
  if (contains("[gMASK]")) return "";
  if (contains("<|user|>") && contains("<|assistant|>") &&
      (contains("eos_token") || contains("</s>") || contains("<|endoftext|>"))) {
    return "zephyr";
  }
  if (contains("<start_of_turn>")) return "gemma";
  if (contains("<|start_header_id|>") && contains("<|end_header_id|>")) return "llama3";
  if (contains("<\u7528\u6237>")) return "minicpm";  // <用户>, MiniCPM
  return "";
}

std::string apply_chat_template(const std::string& template_text, const std::string& forced_name,
                                const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                const std::string& bos_text, const std::string& eos_text) {
  const Family* family = nullptr;
  if (!forced_name.empty()) {
    family = find_family(forced_name);
    if (!family) fail("unknown chat template '", forced_name, "' in --chat-template; known names: ", joined_names());
  } else if (template_text.empty()) {
    fail("the model has no chat template (tokenizer.chat_template is empty); pass --chat-template NAME, "
         "where NAME is one of: ", joined_names());
  } else {
    family = find_family(detect_chat_template(template_text));
    if (!family) {
      fail("the model's chat template (tokenizer.chat_template) was not recognised; pass --chat-template NAME, "
           "where NAME is one of: ", joined_names());
    }
  }
  check_roles(messages);
  const SpecialText special{bos_text.empty() ? "<s>" : bos_text, eos_text.empty() ? "</s>" : eos_text};
  return family->render(messages, add_generation_prompt, special);
}

ChatFormat ChatFormat::of(const gguf::File& file, const Tokenizer& tokenizer, const std::string& forced_name) {
  ChatFormat format;
  format.template_text = file.find_string("tokenizer.chat_template").value_or("");
  format.template_name = forced_name;
  if (!forced_name.empty()) {
    format.origin = "--chat-template";
  } else if (format.template_text.empty()) {
    format.template_name = "chatml";
    format.origin = "the model has no chat template; --chat-template picks another";
  } else if (detect_chat_template(format.template_text).empty()) {
    format.template_name = "chatml";
    format.origin = "the model's chat template is not one tandem knows; --chat-template picks another";
  } else {
    format.origin = "the model's";
  }
  format.bos_text = tokenizer.bos() >= 0 ? tokenizer.text(tokenizer.bos()) : "";
  format.eos_text = tokenizer.eos() >= 0 ? tokenizer.text(tokenizer.eos()) : "";
  format.render({{"user", "x"}});  // an unusable template fails here, before the first request
  return format;
}

std::string ChatFormat::name() const {
  return template_name.empty() ? detect_chat_template(template_text) : template_name;
}

std::string ChatFormat::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  return apply_chat_template(template_text, template_name, messages, add_generation_prompt, bos_text, eos_text);
}

std::vector<int32_t> ChatFormat::prompt(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages) const {
  return tokenizer.encode(render(messages), true, true);
}

}  // namespace tandem::tokenizer
