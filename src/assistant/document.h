// Documents the apps read: plain text, Markdown, HTML and PDF, turned into UTF-8 text
// whose paragraphs are separated by blank lines (the chunker cuts there first). The
// bytes are untrusted: every failure is a tandem::Error that names the document and
// says what is wrong with it (empty, binary, a corrupt or encrypted PDF, no text).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace tandem::assistant {

enum class Format { Auto, Text, Markdown, Html, Pdf };

// "auto", "text" (or "txt"), "markdown" (or "md"), "html", "pdf"; nullopt otherwise.
std::optional<Format> parse_format(std::string_view name);
const char* format_name(Format format);

struct Document {
  std::string name;  // for messages: the file name, "-" for standard input, or "text"
  Format format = Format::Text;  // what it was read as (never Auto)
  std::string text;  // UTF-8, "\n" line ends, paragraphs separated by "\n\n", not empty
};

// Format::Auto decides from the bytes (%PDF-, an HTML start tag) and then the name's
// extension (.pdf, .html/.htm/.xhtml, .md/.markdown). Text that is not UTF-8 is
// accepted when it is valid GB18030 (converted), as Chinese text files often are.
Document read_document(std::string_view bytes, Format format, const std::string& name);
// The same from a file; a missing or unreadable file is an Error naming the path.
Document read_document_file(const std::string& path, Format format);

// The parsers behind read_document, for tests and callers that know the format.
// html_text: scripts, styles and other non-content elements dropped, block elements
// become paragraph breaks, entities decoded, whitespace collapsed as a browser does.
std::string html_text(std::string_view html);
// pdf_text: the pages' text in reading order; lines of a paragraph are joined (with a
// space, or without one between Chinese characters), paragraphs and pages separated by
// blank lines. Error for bytes that are not a readable PDF or are encrypted.
std::string pdf_text(std::string_view pdf);

}  // namespace tandem::assistant
