#include "generate/stop_matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace tandem::generate {
namespace {

struct StreamCase {
  const char* name;
  std::vector<std::string> stops;
  std::vector<std::string> chunks;
  std::vector<std::string> emitted;  // what each push returns, then what flush returns
  bool stopped;
};

TEST(StopMatcher, StreamsTable) {
  const StreamCase cases[] = {
      {"no stops passes through", {}, {"Once", " upon"}, {"Once", " upon", ""}, false},
      {"unrelated text passes through", {"Lily"}, {"Once", " upon"}, {"Once", " upon", ""}, false},
      {"stop inside one chunk", {"Lily"}, {"named Lily."}, {"named ", ""}, true},
      {"stop split across chunks", {"Lily"}, {"named L", "il", "y."}, {"named ", "", "", ""}, true},
      {"false start is released", {"Lily"}, {"named L", "ucy"}, {"named ", "Lucy", ""}, false},
      {"held prefix released at flush", {"Lily"}, {"a Li"}, {"a ", "Li"}, false},
      {"earliest of several stops", {"dog", "cat"}, {"a cat and a dog"}, {"a ", ""}, true},
      {"longest possible hold", {"abc", "bcd"}, {"xab", "c"}, {"x", "", ""}, true},
      {"overlapping prefix re-aligns", {"aab"}, {"aa", "aab"}, {"", "aa", ""}, true},
      {"stop at the very start", {"\n\n"}, {"\n", "\nrest"}, {"", "", ""}, true},
      {"empty stop string is ignored", {""}, {"text"}, {"text", ""}, false},
      {"input after stop is ignored", {"x"}, {"ax", "more"}, {"a", "", ""}, true},
      {"multibyte stop", {"é!"}, {"caf\xC3\xA9", "!"}, {"caf", "", ""}, true},
  };
  for (const StreamCase& c : cases) {
    StopMatcher matcher(c.stops);
    std::vector<std::string> emitted;
    for (const std::string& chunk : c.chunks) emitted.push_back(matcher.push(chunk));
    emitted.push_back(matcher.flush());
    EXPECT_EQ(emitted, c.emitted) << c.name;
    EXPECT_EQ(matcher.stopped(), c.stopped) << c.name;
  }
}

TEST(StopMatcher, ConcatenationEqualsTextBeforeFirstStop) {
  // Byte-by-byte streaming gives the same total as one push.
  const std::string text = "She said, \"Lily, let's go.\" Lily smiled.";
  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{"Lily"}, {"go.\"", "smiled"}, {"zzz"}, {"\"", "Lil"}}) {
    StopMatcher whole(stops), bytes(stops);
    const std::string expected = whole.push(text) + whole.flush();
    std::string streamed;
    for (char byte : text) streamed += bytes.push(std::string(1, byte));
    streamed += bytes.flush();
    EXPECT_EQ(streamed, expected) << stops[0];
    size_t first = std::string::npos;
    for (const std::string& stop : stops) first = std::min(first, text.find(stop));
    EXPECT_EQ(expected, text.substr(0, first)) << stops[0];
  }
}

}  // namespace
}  // namespace tandem::generate
