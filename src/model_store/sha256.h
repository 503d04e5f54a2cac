// Streaming SHA-256 (OpenSSL EVP): models are hashed while they are copied or
// downloaded, so a multi-gigabyte file is read once.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tandem::model_store {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  void update_from_file(const std::string& path);  // the whole file; tandem::Error when unreadable
  std::string hex_digest();  // lowercase hex; the hasher then starts over
  void reset();

 private:
  struct Context;
  Context* context_;
};

std::string sha256_hex(std::string_view bytes);
std::string sha256_file(const std::string& path);  // tandem::Error when unreadable

// Lowercases and checks a user-given digest: 64 hex digits.
std::string normalize_sha256(const std::string& hex);

}  // namespace tandem::model_store
