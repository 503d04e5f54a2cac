// Cutting a document into pieces that each fit a token budget, on the most natural
// boundary available: paragraphs first, then sentences (. ! ? and Chinese 。！？, with
// closing quotes), then lines, then spaces, and only for a run of text with none of
// those, between characters. Consecutive pieces are packed into chunks as long as the
// chunk still fits. The chunks cover the text exactly and in order: chunk i ends where
// chunk i+1 begins, the first begins at 0 and the last ends at the text's end.
#pragma once
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace tandem::assistant {

// Tokens of a piece of text, as the model will read it (no BOS).
using TokenCounter = std::function<int(std::string_view text)>;

struct Chunk {
  size_t begin = 0, end = 0;  // byte range of the text; whitespace between chunks belongs to the earlier one
  int tokens = 0;             // count(trim(text[begin, end))) <= the budget
};

// The chunk's text without the whitespace around it (what a prompt gets).
std::string_view chunk_text(std::string_view text, const Chunk& chunk);

// Error when `budget` < 1 or a single character needs more tokens than `budget`.
// A text of only whitespace has no chunks.
std::vector<Chunk> split_into_chunks(std::string_view text, int budget, const TokenCounter& count);

}  // namespace tandem::assistant
