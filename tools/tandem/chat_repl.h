// The conversation loop of `tandem chat`, on the device or routed (--router): a banner,
// line editing and history on a terminal (libedit), commands (/help, /clear, /system,
// /save, /load, /exit), Ctrl-C cancelling the reply being written (not the chat),
// Ctrl-D ending it cleanly, and a full context dropping the oldest turns instead of
// ending the chat. Piped input gets the same loop without banner or editing.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template.h"

namespace tandem::cli {

struct ChatReply {
  std::string text;
  bool cancelled = false;     // the user pressed Ctrl-C (on_text returned false)
  bool context_full = false;  // the answer stopped because the context was full
  std::string note;           // printed after the reply on stderr ("" : none), e.g. the route
};

struct ChatEngine {
  // Answers `messages` (they end with the user's turn). on_text gets each piece as it
  // comes and returns false to cancel. A tandem::Error fails this turn only.
  std::function<ChatReply(const std::vector<tokenizer::ChatMessage>& messages,
                          const std::function<bool(std::string_view)>& on_text)>
      reply;
  // The prompt tokens `messages` take with the generation prompt, and the most a prompt
  // may take so that the answer has room; unset: no device context to fit (the cloud's).
  std::function<int(const std::vector<tokenizer::ChatMessage>& messages)> prompt_tokens;
  int prompt_budget = 0;
  std::vector<std::string> banner;  // lines about the model, template and context
};

// Runs the loop on stdin/stdout until Ctrl-D, /exit or the end of piped input.
void run_chat_repl(const ChatEngine& engine, const std::string& system_prompt);

// The prompt budget of a device chat: the context minus room for the answer (-n when
// given, else a quarter of the context), at least one token.
int chat_prompt_budget(int n_ctx, int n_predict);

}  // namespace tandem::cli
