// The message of the tandem::Error an action throws ("" when it throws none): bad-input tests
// compare what the user would read.
#pragma once
#include <functional>
#include <string>

#include "core/error.h"

namespace tandem::test {

inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace tandem::test
