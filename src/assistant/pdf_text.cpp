// PDF -> text with poppler's C++ library (Debian's libpoppler-cpp). Poppler gives the
// words of each page in reading order with their boxes; lines and paragraphs are
// rebuilt from the boxes, because its plain-text modes either pad columns with spaces
// (physical layout) or lose the paragraph gaps (reading order).
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "assistant/document.h"
#include "assistant/text.h"
#include "core/error.h"

namespace tandem::assistant {
namespace {

// Poppler reports damage it repairs on stderr; a document's problems are ours to report.
void quiet_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

std::string utf8(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

struct Line {
  std::string text;
  double top = 0, height = 0, left = 0, right = 0;
};

// The last and first characters decide how two lines of one paragraph join.
uint32_t last_codepoint(const std::string& s) {
  size_t start = s.size();
  if (start == 0) return 0;
  --start;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t length = 0;
  return codepoint_at(s, start, &length);
}

bool wide(uint32_t cp) { return is_han(cp) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF); }

bool ends_sentence(uint32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == ':' || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F ||
         cp == 0xFF1A || cp == '"' || cp == 0x201D;
}

std::vector<Line> page_lines(const poppler::page& page) {
  std::vector<Line> lines;
  bool space_before = false;
  for (const poppler::text_box& box : page.text_list()) {
    const poppler::rectf r = box.bbox();
    const std::string word = utf8(box.text());
    if (word.empty()) continue;
    const double height = std::max(1.0, r.height());
    const bool same_line = !lines.empty() && std::abs(r.y() - lines.back().top) < 0.5 * std::max(height, lines.back().height) &&
                           r.x() >= lines.back().left;
    if (!same_line) {
      lines.push_back({word, r.y(), height, r.x(), r.x() + r.width()});
    } else {
      Line& line = lines.back();
      if (space_before) line.text += ' ';
      line.text += word;
      line.right = std::max(line.right, r.x() + r.width());
      line.height = std::max(line.height, height);
    }
    space_before = box.has_space_after();
  }
  return lines;
}

// Lines -> paragraphs: a paragraph ends where the gap to the next line is clearly larger
// than the page's usual line pitch, where the text jumps up (a new column), or after a
// short line that ends a sentence.
std::string page_text(const std::vector<Line>& lines) {
  std::vector<double> pitches;
  double widest = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    widest = std::max(widest, lines[i].right - lines[i].left);
    if (i > 0 && lines[i].top > lines[i - 1].top) pitches.push_back(lines[i].top - lines[i - 1].top);
  }
  double pitch = 0;
  if (!pitches.empty()) {
    std::nth_element(pitches.begin(), pitches.begin() + pitches.size() / 2, pitches.end());
    pitch = pitches[pitches.size() / 2];
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string text(trim(lines[i].text));
    if (text.empty()) continue;
    if (!out.empty()) {
      const Line& previous = lines[i - 1];
      const double gap = lines[i].top - previous.top;
      const bool short_end =
          previous.right - previous.left < 0.7 * widest && ends_sentence(last_codepoint(std::string(trim(previous.text))));
      if (gap <= 0 || (pitch > 0 && gap > 1.4 * pitch) || short_end) {
        out += "\n\n";
      } else {
        const uint32_t before = last_codepoint(out);
        size_t length = 0;
        const uint32_t after = codepoint_at(text, 0, &length);
        // Chinese lines join without a space; a hyphen at a line end is kept, joined.
        if (!(wide(before) && wide(after)) && before != '-') out += ' ';
      }
    }
    out += text;
  }
  return out;
}

}  // namespace

std::string pdf_text(std::string_view pdf) {
  quiet_poppler();
  if (pdf.substr(0, 1024).find("%PDF-") == std::string_view::npos) fail("not a PDF file (no %PDF- header)");
  if (pdf.size() > size_t(INT_MAX)) fail("the PDF is larger than 2 GiB");
  std::unique_ptr<poppler::document> document(poppler::document::load_from_raw_data(pdf.data(), int(pdf.size())));
  if (!document) fail("a corrupt PDF (poppler cannot open it)");
  if (document->is_locked()) fail("an encrypted PDF (it needs a password)");
  const int pages = document->pages();
  if (pages <= 0) fail("a corrupt PDF (no pages)");
  std::string out;
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(document->create_page(i));
    if (!page) continue;
    const std::string text = page_text(page_lines(*page));
    if (text.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += text;
  }
  return out;
}

}  // namespace tandem::assistant
