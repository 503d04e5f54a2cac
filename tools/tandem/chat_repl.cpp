#include "chat_repl.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>
// clang-format off
#include <cstdio>  // before editline/readline.h, which uses FILE
#include <editline/readline.h>
// clang-format on

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/data_dir.h"
#include "core/error.h"

namespace tandem::cli {
namespace {

using tokenizer::ChatMessage;

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// SIGINT sets a flag while the chat runs (the reply being written checks it), and the
// previous handler comes back afterwards.
class InterruptFlag {
 public:
  InterruptFlag() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a read at the prompt returns, so Ctrl-C clears the line
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptFlag() { sigaction(SIGINT, &previous_, nullptr); }
  static bool take() {
    const bool was = g_interrupted != 0;
    g_interrupted = 0;
    return was;
  }
  static bool raised() { return g_interrupted != 0; }

 private:
  struct sigaction previous_ {};
};

const char kHelp[] =
    "  /help            this list\n"
    "  /clear           forget the conversation (the system prompt stays)\n"
    "  /system [TEXT]   set the system prompt (without TEXT: show it; /system - removes it)\n"
    "  /save FILE       write the conversation as JSON ({\"messages\": [...]}, OpenAI's form)\n"
    "  /load FILE       continue a conversation saved with /save\n"
    "  /exit            leave (so does Ctrl-D); Ctrl-C stops a reply, not the chat\n";

// Lines from libedit on a terminal (editing, history kept across chats), else from stdin.
class LineReader {
 public:
  explicit LineReader(bool terminal) : terminal_(terminal) {
    if (!terminal_) return;
    tcgetattr(STDIN_FILENO, &cooked_);
    rl_readline_name = "tandem";
    using_history();
    stifle_history(1000);
    history_path_ = (std::filesystem::path(tandem_home()) / "chat_history").string();
    read_history(history_path_.c_str());  // absent on the first chat
  }
  ~LineReader() {
    if (!terminal_) return;
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(history_path_).parent_path(), ignored);
    write_history(history_path_.c_str());
  }

  enum class Status { Line, Interrupted, End };
  Status read(std::string& line) {
    if (!terminal_) return std::getline(std::cin, line) ? Status::Line : Status::End;
    char* text = readline("> ");
    // A Ctrl-C that interrupts readline can leave the terminal in libedit's raw mode (no
    // ISIG), and then Ctrl-C during the next reply is a byte, not SIGINT: the reply runs
    // in the mode the chat started in.
    tcsetattr(STDIN_FILENO, TCSADRAIN, &cooked_);
    if (!text) return InterruptFlag::take() ? Status::Interrupted : Status::End;
    line = text;
    std::free(text);
    if (InterruptFlag::take()) return Status::Interrupted;
    if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
    return Status::Line;
  }

 private:
  bool terminal_;
  termios cooked_{};
  std::string history_path_;
};

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

void save_conversation(const std::vector<ChatMessage>& messages, const std::string& path) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << nlohmann::ordered_json{{"messages", list}}.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  if (!out.flush()) fail("cannot write '", path, "'");
}

// {"messages": [...]} (what /save writes) or a bare array of messages.
std::vector<ChatMessage> load_conversation(const std::string& path) {
  const auto json = nlohmann::json::parse(read_text_file(path, "conversation"), nullptr, false);
  const nlohmann::json* list = &json;
  if (json.is_object() && json.contains("messages")) list = &json["messages"];
  if (json.is_discarded() || !list->is_array())
    fail("'", path, "' is not a saved conversation (JSON {\"messages\": [{\"role\", \"content\"}, ...]})");
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& m = (*list)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string())
      fail("'", path, "': message ", i, " needs a string \"role\" and a string \"content\"");
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant")
      fail("'", path, "': message ", i, " has role '", role, "' (system, user or assistant)");
    if (role == "system" && i != 0) fail("'", path, "': only the first message may be the system prompt");
    messages.push_back({role, m["content"]});
  }
  return messages;
}

size_t first_turn(const std::vector<ChatMessage>& messages) {
  return !messages.empty() && messages[0].role == "system" ? 1 : 0;
}

// Drops the oldest turns (a user message and the replies after it) until the prompt
// fits; the newest user message always stays. Returns how many turns went.
int drop_old_turns(const ChatEngine& engine, std::vector<ChatMessage>& messages) {
  if (!engine.prompt_tokens) return 0;
  int dropped = 0;
  int tokens = engine.prompt_tokens(messages);
  while (tokens > engine.prompt_budget && messages.size() - first_turn(messages) > 1) {
    const auto first = messages.begin() + ptrdiff_t(first_turn(messages));
    auto end = first + 1;
    while (end != messages.end() - 1 && end->role != "user") ++end;
    messages.erase(first, end);
    ++dropped;
    tokens = engine.prompt_tokens(messages);
  }
  if (tokens > engine.prompt_budget) {
    fail("this message (with the system prompt) takes ", tokens, " tokens, more than the ", engine.prompt_budget,
         " the context leaves for a prompt: shorten it, or raise -c");
  }
  return dropped;
}

}  // namespace

int chat_prompt_budget(int n_ctx, int n_predict) {
  const int room = n_predict > 0 ? std::min(n_predict, n_ctx / 2) : n_ctx / 4;
  return std::max(1, n_ctx - 1 - room);
}

void run_chat_repl(const ChatEngine& engine, const std::string& system_prompt) {
  const bool terminal = isatty(STDIN_FILENO) != 0;
  for (const std::string& line : engine.banner) std::fprintf(stderr, "%s\n", line.c_str());
  if (terminal)
    std::fprintf(stderr, "Type a message and press Enter. /help lists the commands; Ctrl-C stops a reply; Ctrl-D leaves.\n");

  std::vector<ChatMessage> messages;
  if (!system_prompt.empty()) messages.push_back({"system", system_prompt});
  InterruptFlag interrupt;
  LineReader reader(terminal);
  std::string line;
  for (;;) {
    const LineReader::Status status = reader.read(line);
    if (status == LineReader::Status::End) {
      if (terminal) std::fputs("\n", stdout);  // the shell's prompt starts on a line of its own
      break;
    }
    if (status == LineReader::Status::Interrupted) {
      std::fputs("\n(Ctrl-D or /exit leaves the chat)\n", stdout);
      continue;
    }
    const std::string text = trim(line);
    if (text.empty()) continue;
    try {
      if (text[0] == '/') {
        const size_t space = text.find(' ');
        const std::string command = text.substr(0, space);
        const std::string argument = space == std::string::npos ? "" : trim(text.substr(space + 1));
        if (command == "/exit" || command == "/quit" || command == "/bye") break;
        if (command == "/help") {
          std::fputs(kHelp, stdout);
        } else if (command == "/clear") {
          messages.erase(messages.begin() + ptrdiff_t(first_turn(messages)), messages.end());
          std::fputs("(conversation cleared)\n", stdout);
        } else if (command == "/system") {
          const bool has = first_turn(messages) == 1;
          if (argument.empty()) {
            std::printf("%s\n", has ? messages[0].content.c_str() : "(no system prompt)");
          } else if (argument == "-") {
            if (has) messages.erase(messages.begin());
            std::fputs("(system prompt removed)\n", stdout);
          } else {
            if (has) messages[0].content = argument;
            else messages.insert(messages.begin(), {"system", argument});
            std::fputs("(system prompt set)\n", stdout);
          }
        } else if (command == "/save") {
          if (argument.empty()) fail("/save needs a file name");
          save_conversation(messages, argument);
          std::printf("(saved %zu messages to %s)\n", messages.size(), argument.c_str());
        } else if (command == "/load") {
          if (argument.empty()) fail("/load needs a file name");
          messages = load_conversation(argument);
          std::printf("(loaded %zu messages from %s)\n", messages.size(), argument.c_str());
        } else {
          fail("unknown command ", command, " (/help lists the commands)");
        }
        std::fflush(stdout);
        continue;
      }

      messages.push_back({"user", text});
      try {
        if (const int dropped = drop_old_turns(engine, messages))
          std::fprintf(stderr, "[context full: dropped the %d oldest turn%s]\n", dropped, dropped == 1 ? "" : "s");
        InterruptFlag::take();
        const ChatReply reply = engine.reply(messages, [](std::string_view piece) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
          return !InterruptFlag::raised();
        });
        InterruptFlag::take();
        std::fputs("\n", stdout);
        std::fflush(stdout);
        if (reply.cancelled) std::fputs("[reply stopped]\n", stderr);
        if (reply.context_full) std::fputs("[the context is full: the next turn drops the oldest ones]\n", stderr);
        if (!reply.note.empty()) std::fprintf(stderr, "%s\n", reply.note.c_str());
        messages.push_back({"assistant", reply.text});
      } catch (...) {
        messages.pop_back();  // a failed turn is not kept in the conversation
        throw;
      }
    } catch (const Error& error) {
      std::fflush(stdout);
      std::fprintf(stderr, "error: %s\n", error.what());
    }
  }
}

}  // namespace tandem::cli
