#include "assistant/document.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "assistant/text.h"
#include "core/error.h"

namespace tandem::assistant {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string extension(const std::string& name) { return lower(std::filesystem::path(name).extension().string()); }

bool looks_like_pdf(std::string_view bytes) {
  // The header may follow a little junk (the PDF specification's implementations allow 1 KiB).
  return bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

bool looks_like_html(std::string_view bytes) {
  const std::string head = lower(bytes.substr(0, 2048));
  const size_t start = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (start == std::string::npos || head[start] != '<') return false;
  for (const char* tag : {"<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<p>", "<div", "<h1", "<article"}) {
    if (head.find(tag) != std::string::npos) return true;
  }
  return false;
}

// Bytes that no text editor writes: NUL, or more than a few control characters.
bool looks_binary(std::string_view bytes) {
  size_t control = 0;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b == 0) return true;
    if (b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != '\v' && b != 0x1B) ++control;
  }
  return control * 100 > bytes.size();
}

// GB18030 (a superset of GBK and GB2312) to UTF-8; nullopt when the bytes are not valid GB18030.
std::optional<std::string> from_gb18030(std::string_view bytes) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == iconv_t(-1)) return std::nullopt;
  std::string out(bytes.size() * 2 + 16, '\0');
  char* in_ptr = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  bool ok = true;
  while (in_left > 0) {
    if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) == size_t(-1)) {
      if (errno == E2BIG) {
        const size_t used = size_t(out_ptr - out.data());
        out.resize(out.size() * 2);
        out_ptr = out.data() + used;
        out_left = out.size() - used;
        continue;
      }
      ok = false;  // EILSEQ / EINVAL: not GB18030, or cut inside a character
      break;
    }
  }
  iconv_close(cd);
  if (!ok) return std::nullopt;
  out.resize(size_t(out_ptr - out.data()));
  return out;
}

// Line ends to "\n", the UTF-8 byte order mark dropped, form feeds as paragraph breaks.
std::string normalize_text(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\f') {
      out += "\n\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string text_of(std::string_view bytes, const std::string& name) {
  if (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF") {
    fail("'", name, "' is UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)");
  }
  if (looks_binary(bytes)) fail("'", name, "' is a binary file, not text, HTML or PDF");
  if (valid_utf8(bytes)) return normalize_text(bytes);
  if (auto converted = from_gb18030(bytes)) return normalize_text(*converted);
  fail("'", name, "' is neither UTF-8 nor GB18030 text");
}

}  // namespace

std::optional<Format> parse_format(std::string_view name) {
  const std::string n = lower(name);
  if (n == "auto") return Format::Auto;
  if (n == "text" || n == "txt" || n == "plain") return Format::Text;
  if (n == "markdown" || n == "md") return Format::Markdown;
  if (n == "html" || n == "htm") return Format::Html;
  if (n == "pdf") return Format::Pdf;
  return std::nullopt;
}

const char* format_name(Format format) {
  switch (format) {
    case Format::Auto: return "auto";
    case Format::Text: return "text";
    case Format::Markdown: return "markdown";
    case Format::Html: return "html";
    case Format::Pdf: return "pdf";
  }
  return "text";
}

Document read_document(std::string_view bytes, Format format, const std::string& name) {
  Document document;
  document.name = name;
  if (bytes.empty()) fail("'", name, "' is empty");
  if (format == Format::Auto) {
    const std::string ext = extension(name);
    if (looks_like_pdf(bytes) || ext == ".pdf") {
      format = Format::Pdf;
    } else if (ext == ".html" || ext == ".htm" || ext == ".xhtml" || looks_like_html(bytes)) {
      format = Format::Html;
    } else if (ext == ".md" || ext == ".markdown") {
      format = Format::Markdown;
    } else {
      format = Format::Text;
    }
  }
  document.format = format;
  try {
    switch (format) {
      case Format::Pdf: document.text = pdf_text(bytes); break;
      case Format::Html: document.text = html_text(text_of(bytes, name)); break;
      default: document.text = text_of(bytes, name); break;  // Markdown is read as it is written
    }
  } catch (const Error& error) {
    const std::string message = error.what();
    if (message.rfind("'" + name + "'", 0) == 0) throw;
    fail("'", name, "': ", message);
  }
  if (is_blank(document.text)) {
    if (format == Format::Pdf) fail("'", name, "' has no text (a scanned PDF needs OCR first)");
    if (format == Format::Html) fail("'", name, "' has no text outside scripts, styles and markup");
    fail("'", name, "' has no text (only whitespace)");
  }
  return document;
}

Document read_document_file(const std::string& path, Format format) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("'", path, "': no such file");
  if (std::filesystem::is_directory(path, ec)) fail("'", path, "' is a directory, not a document");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '", path, "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return read_document(bytes.str(), format, path);
}

}  // namespace tandem::assistant
