// One error type for the whole library: every failure that a user can cause
// (bad file, bad argument, prompt too long) is a tandem::Error with a message
// that names what was wrong, so the CLI and the C API can report it verbatim.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}

}  // namespace tandem
