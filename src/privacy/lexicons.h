// Curated word lists that tell the classifier what a request is about and whose data
// it is, so that it carries over to phrasings it was never trained on: every condition
// or drug suffix in a list is evidence, not only the sentences of the corpus.
#pragma once
#include <string_view>
#include <vector>

namespace tandem::privacy {

// One list: the feature it fires and its terms. Terms are matched on the normalized
// text (lowercase, full-width folded). Latin terms match whole words; "term*" matches
// a word prefix and "*term" a word ending (drug suffixes: *pril, *statin); terms with
// Chinese characters match anywhere.
struct Lexicon {
  std::string_view name;
  std::vector<std::string_view> terms;
};

const std::vector<Lexicon>& lexicons();

// Names of the context lists, which also shape the lexicon features of their sentence.
inline constexpr std::string_view kPersonalLexicon = "personal";  // my, I, 我的, 我家
inline constexpr std::string_view kGenericLexicon = "generic";    // what is, in general, 一般, 什么是
inline constexpr std::string_view kPublicLexicon = "public";      // official, example, test card, 客服

}  // namespace tandem::privacy
