// libFuzzer: chat-template detection on arbitrary template text, and rendering of
// arbitrary messages with every family. Input: TEMPLATE '\0' ROLE_BYTE CONTENT '\0' ...
#include <vector>

#include "fuzz_support.h"
#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::tokenizer;
  const std::string_view input = tandem::fuzz::as_text(data, size);
  size_t at = input.find('\0');
  const std::string template_text(input.substr(0, at));
  std::vector<ChatMessage> messages;
  static const char* const kRoles[] = {"system", "user", "assistant", "tool"};  // "tool" must be refused
  while (at != std::string_view::npos && at + 1 < input.size()) {
    const size_t next = input.find('\0', at + 1);
    const std::string_view part = input.substr(at + 2, next == std::string_view::npos ? std::string_view::npos : next - at - 2);
    messages.push_back({kRoles[uint8_t(input[at + 1]) % 4], std::string(part)});
    at = next;
  }
  const std::string detected = detect_chat_template(template_text);
  tandem::fuzz::expect_clean([&] { apply_chat_template(template_text, "", messages, true, "<s>", "</s>"); });
  static const std::vector<std::string> names = chat_template_names();
  const std::string& forced = names[size % names.size()];
  tandem::fuzz::expect_clean([&] { apply_chat_template(template_text, forced, messages, size % 2 == 0, "", ""); });
  return detected.size() > 1000 ? -1 : 0;
}
