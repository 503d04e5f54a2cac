// Shared by the libFuzzer harnesses (tests/fuzz/*_fuzzer.cpp, scripts/fuzz.sh): the
// rule every harness checks. Untrusted input may be refused with tandem::Error (or, for
// JSON text, nlohmann's parse error); anything else escaping is a finding, and so is
// every crash, leak or undefined behaviour the sanitizers report.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "core/error.h"

namespace tandem::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; a tandem::Error is a clean refusal, any other exception aborts (a finding).
template <class Body>
void expect_clean(Body&& body) {
  try {
    body();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: an exception other than tandem::Error escaped: %s\n", e.what());
    std::abort();
  }
}

}  // namespace tandem::fuzz
