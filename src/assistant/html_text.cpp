// HTML -> text with libxml2's HTML parser (the tolerant one browsers' rules inspired):
// it decodes entities and the declared charset and repairs bad markup; we walk the
// tree, drop what is not content, and lay the text out as a browser would read it.
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "assistant/document.h"
#include "assistant/text.h"
#include "core/error.h"

namespace tandem::assistant {
namespace {

bool name_is(const xmlNode* node, std::initializer_list<const char*> names) {
  if (!node->name) return false;
  for (const char* n : names) {
    if (xmlStrcasecmp(node->name, reinterpret_cast<const xmlChar*>(n)) == 0) return true;
  }
  return false;
}

// Elements whose text is not part of what a reader sees.
bool skipped(const xmlNode* node) {
  return name_is(node, {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
                        "canvas", "head", "select", "option", "button", "input", "textarea", "audio", "video"});
}

// Elements that start and end a paragraph of their own.
bool block(const xmlNode* node) {
  return name_is(node, {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "h1", "h2",
                        "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody",
                        "tfoot", "tr", "caption", "blockquote", "pre", "hr", "figure", "figcaption", "address",
                        "form", "fieldset", "legend", "details", "summary", "body", "title", "center"});
}

// Collects text with HTML's whitespace rules: runs of whitespace become one space,
// except inside <pre>; breaks are kept as the strongest one asked for.
class Layout {
 public:
  void text(std::string_view s, bool preformatted) {
    for (size_t at = 0, length = 0; at < s.size(); at += length) {
      const uint32_t cp = codepoint_at(s, at, &length);
      const bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f';
      if (preformatted && cp == '\n') {
        line_break();
      } else if (space && !preformatted) {
        pending_space_ = true;
      } else {
        flush_breaks();
        if (pending_space_ && !out_.empty() && out_.back() != '\n') out_ += ' ';
        pending_space_ = false;
        out_.append(s.substr(at, length));
      }
    }
  }
  void line_break() { pending_break_ = std::max(pending_break_, 1); }
  void paragraph_break() { pending_break_ = 2; }
  std::string finish() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n')) out_.pop_back();
    return out_;
  }

 private:
  void flush_breaks() {
    if (pending_break_ > 0 && !out_.empty()) {
      while (!out_.empty() && out_.back() == ' ') out_.pop_back();
      out_ += pending_break_ == 2 ? "\n\n" : "\n";
      pending_space_ = false;
    }
    pending_break_ = 0;
  }

  std::string out_;
  bool pending_space_ = false;
  int pending_break_ = 0;
};

// Where the page declares its charset; libxml2 honours a <meta> declaration itself.
bool declares_charset(std::string_view html) {
  std::string head(html.substr(0, 4096));
  for (char& c : head) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return head.find("charset") != std::string::npos || head.find("<?xml") != std::string::npos;
}

}  // namespace

std::string html_text(std::string_view html) {
  // Without a declaration, valid UTF-8 is read as UTF-8 (libxml2 would guess Latin-1).
  const char* encoding = declares_charset(html) ? nullptr : "UTF-8";
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                      HTML_PARSE_NOBLANKS | HTML_PARSE_NOIMPLIED;
  if (html.size() > size_t(INT32_MAX)) fail("the HTML document is larger than 2 GiB");
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      htmlReadMemory(html.data(), int(html.size()), nullptr, encoding, options), xmlFreeDoc);
  if (!doc) fail("not a readable HTML document");

  // An explicit stack rather than recursion: a hostile page may nest elements deeply.
  Layout layout;
  struct Frame {
    xmlNode* node;
    bool leaving;
    bool preformatted;
  };
  std::vector<Frame> stack;
  // Children are pushed in reverse so that they are visited in document order.
  auto push_children = [&](xmlNode* first, bool preformatted) {
    std::vector<xmlNode*> children;
    for (xmlNode* child = first; child; child = child->next) children.push_back(child);
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back({*it, false, preformatted});
  };
  push_children(doc->children, false);
  while (!stack.empty()) {
    const Frame frame = stack.back();
    stack.pop_back();
    xmlNode* node = frame.node;
    if (frame.leaving) {
      if (block(node)) layout.paragraph_break();
      continue;
    }
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (node->content) layout.text(reinterpret_cast<const char*>(node->content), frame.preformatted);
      continue;
    }
    if (node->type != XML_ELEMENT_NODE) continue;
    if (name_is(node, {"head"})) {
      // The page's title is its first paragraph; the rest of <head> is not content.
      for (xmlNode* child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE && name_is(child, {"title"}) && child->children) {
          stack.push_back({child, false, false});
          break;
        }
      }
      continue;
    }
    if (skipped(node)) continue;
    if (name_is(node, {"br"})) {
      layout.line_break();
      continue;
    }
    if (block(node)) layout.paragraph_break();
    if (name_is(node, {"td", "th"})) layout.text(" ", false);
    if (name_is(node, {"li"})) layout.text("- ", true);
    stack.push_back({node, true, frame.preformatted});
    push_children(node->children, frame.preformatted || name_is(node, {"pre", "textarea"}));
  }
  return layout.finish();
}

}  // namespace tandem::assistant
