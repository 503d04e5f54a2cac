// A GGUF file written again with some metadata replaced or removed and some tensors left
// out: bad-input and fuzz tests derive variants of real files with it.
#pragma once
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gguf/file.h"
#include "gguf/writer.h"

namespace tandem::test {

struct GgufEdit {
  std::vector<std::pair<std::string, gguf::Value>> set = {};  // replaces a key in place, or appends it
  std::set<std::string> drop_keys = {};
  std::set<std::string> drop_tensors = {};
};

inline void rewrite_gguf(const gguf::File& source, const GgufEdit& edit, const std::string& out_path) {
  gguf::Writer writer;
  for (const auto& [key, value] : source.metadata())
    if (!edit.drop_keys.count(key)) writer.set(key, value);
  for (const auto& [key, value] : edit.set) writer.set(key, value);
  for (const auto& t : source.tensors()) {
    if (edit.drop_tensors.count(t.name)) continue;
    writer.add_tensor(t.name, t.type, t.dims, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  writer.write(out_path);
}

}  // namespace tandem::test
