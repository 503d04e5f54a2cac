// A public article for routed tests: bench/summarize's en-sleep.txt (a made-up health study,
// written for the project) repeated to `bytes`. Every request-sized piece of it reads public
// to the privacy check, unlike TinyStories, whose dialogue reads as a quoted chat log.
#pragma once
#include <fstream>
#include <sstream>
#include <string>

namespace tandem::test {

inline std::string public_text(size_t bytes) {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/bench/summarize/set/en-sleep.txt");
  std::stringstream s;
  s << in.rdbuf();
  const std::string article = s.str();
  if (article.empty()) return "";
  std::string text;
  while (text.size() < bytes) text += article + "\n\n";
  text.resize(bytes);
  // Cut at a character boundary (the article is ASCII today; this keeps it true if it is not).
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  return text;
}

}  // namespace tandem::test
