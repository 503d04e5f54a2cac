// libFuzzer: the JSON-schema compiler (response_format / --json-schema) on arbitrary
// schema text, then the compiled constraint fed the rest of the input as output bytes.
// Input: SCHEMA '\0' OUTPUT (no '\0': the whole input is the schema).
#include "fuzz_support.h"
#include "generate/json_constraint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = tandem::fuzz::as_text(data, size);
  const size_t split = input.find('\0');
  const std::string_view schema = input.substr(0, split);
  const std::string_view output = split == std::string_view::npos ? "" : input.substr(split + 1);
  tandem::fuzz::expect_clean([&] {
    auto constraint = tandem::generate::JsonConstraint::from_schema_text(schema);
    // Byte by byte, as tokens arrive; a refused byte ends the document's prefix.
    for (size_t i = 0; i < output.size(); ++i)
      if (!constraint.accept(output.substr(i, 1))) break;
  });
  return 0;
}
