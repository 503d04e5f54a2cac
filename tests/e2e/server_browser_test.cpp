// The chat page of `tandem serve` in headless Chromium: tests/e2e/node/chat_page.cjs
// (playwright-core) types a prompt, watches the answer stream in, checks the route badge
// and switch, tokens/s, the model and the memory in use, Markdown, the cut marker, a failed
// send, the API key flow, the tools menu and a 390 px phone layout, and saves desktop and
// phone screenshots that this test checks.
// Skips where Debian's chromium is not installed or npm cannot install playwright-core.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <regex>
#include <thread>

#include "support/server_process.h"
#include "support/test_paths.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

struct CommandOutput {
  int status;
  std::string text;  // stdout and stderr
};

CommandOutput run_shell(const std::string& cmd) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  return {pclose(pipe), text};
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t big_endian_u32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

TEST(ServerChatPage, StreamsAnAnswerInHeadlessChromiumAndShowsStatus) {
  const std::string chromium = env_or("TANDEM_CHROMIUM", "/usr/bin/chromium");
  // Both are part of every setup (scripts/packages.sh, the npm registry): missing is a failure.
  ASSERT_TRUE(fs::exists(chromium)) << chromium << " is not installed (scripts/setup.sh installs chromium)";
  const std::string modules = tandem::test::node_modules("browser", "playwright-core");
  ASSERT_FALSE(modules.empty()) << "npm install of playwright-core failed (no registry access?)";

  // The cloud behind the router is down (nothing listens on port 1), so answers run on the
  // device with a network reason and the route switch is live; 2048 tokens hold a few turns of
  // the page's 256-token answers. A second server wants a key.
  const std::string model = tandem::test::shared_path("models/stories260K.gguf");
  const std::string ledger = tandem::test::temp_path("browser-ledger.sqlite");
  tandem::test::ServerProcess server({"-m", model, "-t", "1", "-c", "2048", "--cloud-url", "http://127.0.0.1:1/v1",
                                      "--cloud-model", "big", "--ledger", ledger});
  const std::string key = "browser-key";
  tandem::test::ServerProcess keyed({"-m", model, "-t", "1", "-c", "128", "--api-key", key}, key);
  const std::string screenshot =
      (fs::absolute(env_or("TANDEM_SCREENSHOT_DIR", fs::current_path().string())) / "chat_page.png").string();
  fs::remove(screenshot);
  fs::remove(screenshot.substr(0, screenshot.size() - 4) + "_phone.png");
  const std::string script = std::string(TANDEM_SOURCE_DIR) + "/tests/e2e/node/chat_page.cjs";
  const CommandOutput run = run_shell("NODE_PATH='" + modules + "' node '" + script + "' '" + server.page_url() +
                                      "' '" + screenshot + "' stories260K.gguf '" + chromium + "' '" + keyed.page_url() + "' '" + key + "'");
  std::cout << run.text;
  ASSERT_EQ(run.status, 0) << run.text;
  EXPECT_NE(run.text.find("ALL OK"), std::string::npos) << run.text;

  const std::string png = read_bytes(screenshot);
  ASSERT_GT(png.size(), 10000u) << screenshot << " is missing or nearly empty";
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << screenshot << " is not a PNG";
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian_u32(png, 16), 1000u) << "width of the viewport chat_page.cjs sets";
  EXPECT_EQ(big_endian_u32(png, 20), 640u) << "height of the viewport chat_page.cjs sets";
  const std::string phone = read_bytes(screenshot.substr(0, screenshot.size() - 4) + "_phone.png");
  ASSERT_GT(phone.size(), 10000u) << "the phone screenshot is missing or nearly empty";
  EXPECT_EQ(big_endian_u32(phone, 16), 390u) << "width of the phone viewport chat_page.cjs sets";
  std::cout << "chat page screenshots: " << screenshot << ", chat_page_phone.png\n";
  RecordProperty("screenshot", screenshot);
}

}  // namespace
