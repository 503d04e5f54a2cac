// `tandem chat` as a user meets it: the template rule (a model without one gets chatml,
// and the chat says so), the commands (/help, /system, /save, /load, /clear, /exit), a
// full context dropping old turns instead of ending the chat, and on a terminal (a
// pseudo-terminal here): line editing and history (libedit), Ctrl-C stopping a reply
// but not the chat, Ctrl-D leaving cleanly.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/test_paths.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::test::run_cli_with_input;
using tandem::test::shared_path;

const std::string kStories = shared_path("models/stories260K.gguf");
const std::string kQwen = shared_path("conformance/qwen2/model-Q8_0.gguf");

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CliChat, AModelWithoutATemplateGetsChatmlAndTheChatSaysSo) {
  const auto r = run_cli_with_input("chat -m " + kStories + " -n 4 --temp 0 -t 1", "hi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("chat template: chatml (the model has no chat template"), std::string::npos) << r.err;
  EXPECT_FALSE(r.out.empty()) << "no reply";
  const auto own = run_cli_with_input("chat -m " + kQwen + " -n 2 --temp 0 -t 1", "hi\n");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(own.err.find("chat template: chatml (the model's)"), std::string::npos) << own.err;
  const auto forced = run_cli_with_input("chat -m " + kQwen + " --chat-template llama3 -n 2 --temp 0 -t 1", "hi\n");
  EXPECT_NE(forced.err.find("chat template: llama3 (--chat-template)"), std::string::npos) << forced.err;
}

TEST(CliChat, CommandsSaveLoadClearAndSystem) {
  const std::string saved = tandem::test::temp_path("conversation.json");
  fs::remove(saved);
  const std::string input = "/help\n/system Be brief.\n/system\nhello\n/save " + saved +
                            "\n/clear\n/frobnicate\n/load " + saved + "\nand again\n/exit\nnever answered\n";
  const auto r = run_cli_with_input("chat -m " + kQwen + " -n 3 --temp 0 -t 1", input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("/save FILE"), std::string::npos) << r.out;  // the help
  EXPECT_NE(r.out.find("(system prompt set)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Be brief.\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(saved 3 messages to " + saved + ")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(conversation cleared)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("unknown command /frobnicate"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("(loaded 3 messages from " + saved + ")"), std::string::npos) << r.out;

  const auto conversation = nlohmann::json::parse(slurp(saved));
  ASSERT_EQ(conversation["messages"].size(), 3u) << conversation.dump();
  EXPECT_EQ(conversation["messages"][0], (nlohmann::json{{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(conversation["messages"][1], (nlohmann::json{{"role", "user"}, {"content", "hello"}}));
  EXPECT_EQ(conversation["messages"][2]["role"], "assistant");

  // A file that is not a conversation is an error of that command only.
  const std::string bad = tandem::test::temp_path("not-a-conversation.json");
  std::ofstream(bad) << R"({"messages":[{"role":"wizard","content":"x"}]})";
  const std::string after = tandem::test::temp_path("after-refused-load.json");
  const auto refused =
      run_cli_with_input("chat -m " + kQwen + " -n 2 --temp 0 -t 1", "/load " + bad + "\nhi\n/save " + after + "\n");
  EXPECT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_NE(refused.err.find("role 'wizard'"), std::string::npos) << refused.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(after))["messages"].size(), 2u) << "the chat did not go on";
}

TEST(CliChat, AFullContextDropsTheOldestTurnsAndTheChatGoesOn) {
  const std::string saved = tandem::test::temp_path("trimmed.json");
  std::string input;
  for (int i = 0; i < 8; ++i) input += "tell me a story number " + std::to_string(i) + "\n";
  input += "/save " + saved + "\n";
  // 96 tokens of context with 16-token answers: a few turns fill it.
  const auto r = run_cli_with_input("chat -m " + kQwen + " -c 96 -n 16 --ignore-eos --temp 0 -t 1 --system 'Be kind.'", input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("[context full: dropped the"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("error:"), std::string::npos) << r.err;
  // The last turn was answered, old ones are gone, the system prompt stayed.
  const auto messages = nlohmann::json::parse(slurp(saved))["messages"];
  ASSERT_GE(messages.size(), 3u);
  EXPECT_LT(messages.size(), 17u) << messages.dump();
  EXPECT_EQ(messages[0]["content"], "Be kind.");
  EXPECT_EQ(messages[messages.size() - 2]["content"], "tell me a story number 7");
  EXPECT_EQ(messages.back()["role"], "assistant");
}

// ---- on a terminal -----------------------------------------------------------------

// `tandem chat` on a pseudo-terminal: what it writes, and keys typed into it.
class Terminal {
 public:
  Terminal(std::vector<std::string> args, const std::string& home) {
    args.insert(args.begin(), tandem::test::cli_path());
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {  // the CLI itself, no shell between (Ctrl-C reaches the whole foreground group)
      setenv("TANDEM_HOME", home.c_str(), 1);
      setenv("TERM", "xterm", 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0) kill(pid_, SIGKILL), waitpid(pid_, nullptr, 0);
    close(fd_);
  }
  void type(const std::string& keys) { (void)!write(fd_, keys.data(), keys.size()); }
  // Keys typed ahead of the line editor are echoed by the terminal and then again by
  // libedit, and a Ctrl-C typed before a reply has the terminal is a byte, not SIGINT:
  // waits (reading the output) until the terminal is in the line editor's raw mode
  // (editing = true) or back in canonical mode for a reply (false).
  bool wait_for_mode(bool editing) {
    for (int i = 0; i < 1200; ++i) {
      termios mode{};
      if (tcgetattr(fd_, &mode) == 0 && ((mode.c_lflag & ICANON) == 0) == editing) return true;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {  // keeps reading, so a chat that writes does not block
        char buffer[4096];
        const ssize_t n = read(fd_, buffer, sizeof buffer);
        if (n <= 0) return false;
        screen_.append(buffer, size_t(n));
      }
    }
    return false;
  }
  // Reads until `needle` appears after `from` (or 60 s, a guard against a hung chat).
  bool wait_for(const std::string& needle, size_t from = 0) {
    for (int i = 0; i < 1200; ++i) {
      if (screen_.find(needle, from) != std::string::npos) return true;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        char buffer[4096];
        const ssize_t n = read(fd_, buffer, sizeof buffer);
        if (n <= 0) return screen_.find(needle, from) != std::string::npos;
        screen_.append(buffer, size_t(n));
      }
    }
    return false;
  }
  // Waits until the screen holds `needle` after `from`, then `bytes` more after it
  // (the start of a reply); returns false on the hang guard.
  bool wait_for_reply(const std::string& needle, size_t from, size_t bytes) {
    if (!wait_for(needle, from)) return false;
    const size_t start = screen_.find(needle, from) + needle.size();
    for (int i = 0; i < 1200 && screen_.size() < start + bytes; ++i) wait_for("\x01", screen_.size());
    return screen_.size() >= start + bytes;
  }
  int wait_exit() {
    for (int i = 0; i < 1200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        // What it wrote last may still sit in the terminal: read it before judging the screen.
        char rest[4096];
        for (pollfd p{fd_, POLLIN, 0}; poll(&p, 1, 0) > 0;) {
          const ssize_t n = read(fd_, rest, sizeof rest);
          if (n <= 0) break;
          screen_.append(rest, size_t(n));
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // Drains the output while it runs. Once the terminal is closed (EIO) the process
      // may not be reapable yet: wait a poll interval instead of spinning.
      pollfd p{fd_, POLLIN, 0};
      char buffer[4096];
      const ssize_t n = poll(&p, 1, 50) > 0 ? read(fd_, buffer, sizeof buffer) : 0;
      if (n > 0) screen_.append(buffer, size_t(n));
      else if (n < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  const std::string& screen() const { return screen_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string screen_;
};

TEST(CliChatTerminal, CtrlCStopsTheReplyHistoryRecallsAndCtrlDLeaves) {
  const std::string home = tandem::test::temp_path("chat-home");
  fs::remove_all(home);
  // Replies run to a 4096-token context: long enough to be stopped by Ctrl-C.
  Terminal chat({"chat", "-m", kStories, "-c", "4096", "-n", "-1", "--ignore-eos", "--temp", "0", "-t", "1"}, home);
  ASSERT_TRUE(chat.wait_for("> ")) << chat.screen();
  EXPECT_NE(chat.screen().find("/help lists the commands"), std::string::npos) << chat.screen();

  // Line editing: a typo fixed with backspace.
  size_t mark = chat.screen().size();
  ASSERT_TRUE(chat.wait_for_mode(true)) << chat.screen();
  chat.type("Once upom\x7fn a time\r");
  ASSERT_TRUE(chat.wait_for_reply("a time\r\n", mark, 20)) << chat.screen();  // the reply is streaming
  ASSERT_TRUE(chat.wait_for_mode(false)) << chat.screen();
  chat.type("\x03");  // Ctrl-C: the reply stops, the chat stays
  ASSERT_TRUE(chat.wait_for("[reply stopped]", mark)) << chat.screen();
  ASSERT_TRUE(chat.wait_for("> ", chat.screen().find("[reply stopped]", mark))) << chat.screen();

  // History: Up recalls the first message. (Not sent: after a reply stopped with Ctrl-C, a
  // second Ctrl-C, during the next reply or at the prompt, is sometimes not delivered as
  // SIGINT; a known bug, not fixed yet.)
  mark = chat.screen().size();
  ASSERT_TRUE(chat.wait_for_mode(true)) << chat.screen();
  chat.type("\x1b[A");
  ASSERT_TRUE(chat.wait_for("Once upon a time", mark)) << chat.screen();

  chat.type("\x15");  // Ctrl-U: the line is empty again
  ASSERT_TRUE(chat.wait_for_mode(true)) << chat.screen();
  chat.type("\x04");  // Ctrl-D on an empty line
  EXPECT_EQ(chat.wait_exit(), 0) << chat.screen();
  EXPECT_EQ(chat.screen().back(), '\n') << "the shell's prompt would start mid-line";
  // libedit writes spaces as \040.
  EXPECT_NE(slurp(home + "/chat_history").find("Once\\040upon\\040a\\040time"), std::string::npos) << "history not kept";
}

}  // namespace
