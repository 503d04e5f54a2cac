#include "model_store/sha256.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"

namespace tandem::model_store {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
};

Sha256::Sha256() : context_(new Context) {
  context_->md = EVP_MD_CTX_new();
  if (!context_->md) {
    delete context_;
    fail("SHA-256: out of memory");
  }
  reset();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(context_->md);
  delete context_;
}

void Sha256::reset() {
  if (EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr) != 1) fail("SHA-256: OpenSSL could not initialize");
}

void Sha256::update(const void* data, size_t size) {
  if (size > 0 && EVP_DigestUpdate(context_->md, data, size) != 1) fail("SHA-256: OpenSSL update failed");
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->md, digest, &length) != 1) fail("SHA-256: OpenSSL finalize failed");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  reset();
  return hex;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 hasher;
  hasher.update(bytes);
  return hasher.hex_digest();
}

void Sha256::update_from_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail("cannot read '", path, "' to hash it");
  std::vector<char> buffer(1 << 20);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) update(buffer.data(), n);
  if (std::ferror(file.get())) fail("read error while hashing '", path, "'");
}

std::string sha256_file(const std::string& path) {
  Sha256 hasher;
  hasher.update_from_file(path);
  return hasher.hex_digest();
}

std::string normalize_sha256(const std::string& hex) {
  std::string lower;
  for (char c : hex) {
    if (!std::isxdigit((unsigned char)c)) fail("'", hex, "' is not a SHA-256 digest (64 hex digits expected)");
    lower += char(std::tolower((unsigned char)c));
  }
  if (lower.size() != 64) fail("'", hex, "' is not a SHA-256 digest (64 hex digits expected, got ", lower.size(), ")");
  return lower;
}

}  // namespace tandem::model_store
