// Reading documents: plain text (UTF-8, GB18030), Markdown, HTML (libxml2) and PDF
// (poppler-cpp), Chinese included, and every kind of bad input as a clear error.
// The PDFs are made here by tests/support/mini_pdf.h (a Type0 font with a ToUnicode
// map, no embedded glyphs), so they are deterministic and need no tool. Runs under
// ASan/UBSan (scripts/test.sh): the parsers take untrusted bytes.
#include "assistant/document.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "support/mini_pdf.h"
#include "support/error_of.h"
#include "support/test_paths.h"

namespace tandem::assistant {
namespace {

using test::error_of;

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(DocumentText, PlainTextIsNormalizedNotChanged) {
  const Document d = read_document("\xEF\xBB\xBFLine one.\r\nLine two.\r\n\r\n第二段。\f第三段", Format::Auto, "a.txt");
  EXPECT_EQ(d.format, Format::Text);
  EXPECT_EQ(d.text, "Line one.\nLine two.\n\n第二段。\n\n第三段");
}

TEST(DocumentText, MarkdownIsReadAsWritten) {
  const Document d = read_document("# Title\n\nSome *text*.\n", Format::Auto, "notes.md");
  EXPECT_EQ(d.format, Format::Markdown);
  EXPECT_EQ(d.text, "# Title\n\nSome *text*.\n");
}

TEST(DocumentText, Gb18030TextIsConverted) {
  // "中文文本。" in GBK (a subset of GB18030), as Windows in China saves it.
  const Document d = read_document("\xD6\xD0\xCE\xC4\xCE\xC4\xB1\xBE\xA1\xA3", Format::Auto, "gbk.txt");
  EXPECT_EQ(d.text, "中文文本。");
}

TEST(DocumentText, BadInputIsAClearError) {
  EXPECT_TRUE(contains(error_of([] { read_document("", Format::Auto, "e.txt"); }), "'e.txt' is empty"));
  EXPECT_TRUE(contains(error_of([] { read_document(" \n\t\n", Format::Auto, "w.txt"); }), "no text"));
  EXPECT_TRUE(contains(error_of([] { read_document(std::string("ab\0cd", 5), Format::Auto, "b.bin"); }), "binary"));
  EXPECT_TRUE(contains(error_of([] { read_document("\x89PNG\r\n\x1a\n\x01\x02\x03\x04\x05\x06", Format::Auto, "i.png"); }),
                       "binary"));
  EXPECT_TRUE(contains(error_of([] { read_document("\xFF\xFEh\0i\0", Format::Auto, "u.txt"); }), "UTF-16"));
  EXPECT_TRUE(contains(error_of([] { read_document("caf\xE9 \x80\x80", Format::Auto, "l.txt"); }), "neither UTF-8"));
  EXPECT_TRUE(contains(error_of([] { read_document_file("/nonexistent/x.txt", Format::Auto); }), "no such file"));
  EXPECT_TRUE(contains(error_of([] { read_document_file(std::filesystem::temp_directory_path().string(), Format::Auto); }),
                       "directory"));
}

TEST(DocumentFormat, NamesAndSniffing) {
  EXPECT_EQ(parse_format("PDF"), Format::Pdf);
  EXPECT_EQ(parse_format("md"), Format::Markdown);
  EXPECT_FALSE(parse_format("docx"));
  EXPECT_EQ(read_document("<!DOCTYPE html><p>Hi</p>", Format::Auto, "-").format, Format::Html);
  EXPECT_EQ(read_document("<p>not sniffed as HTML</p> but given", Format::Text, "-").format, Format::Text);
  EXPECT_EQ(read_document("a < b and c > d", Format::Auto, "-").format, Format::Text);
}

TEST(Html, ContentOnlyWithBlocksAsParagraphsAndEntitiesDecoded) {
  const std::string html =
      "<html><head><title>The &amp; Title</title><style>p{color:red}</style>"
      "<script>var x = '<p>not text</p>';</script></head>"
      "<body><h1>Heading</h1><p>First   paragraph with <b>bold</b>\n and <a href='#'>a link</a>.</p>"
      "<div>Second&nbsp;block &lt;3 &#20013;&#x6587;</div><p>Line<br>break</p>"
      "<ul><li>one</li><li>two</li></ul><noscript>enable JS</noscript>"
      "<pre>keep\n  this</pre><!-- a comment --><template><p>hidden</p></template></body></html>";
  EXPECT_EQ(html_text(html),
            "The & Title\n\nHeading\n\nFirst paragraph with bold and a link.\n\nSecond\u00A0block <3 中文\n\n"
            "Line\nbreak\n\n- one\n\n- two\n\nkeep\n  this");
}

TEST(Html, ChineseWithAndWithoutACharsetDeclaration) {
  // No declaration: UTF-8, not libxml2's Latin-1 guess.
  EXPECT_EQ(read_document("<html><body><p>你好，世界。</p><p>第二段</p></body></html>", Format::Auto, "-").text,
            "你好，世界。\n\n第二段");
  // Declared GBK: decoded from GBK.
  const std::string gbk = "<html><head><meta charset=\"gbk\"></head><body><p>\xD6\xD0\xCE\xC4</p></body></html>";
  EXPECT_EQ(html_text(gbk), "中文");
}

TEST(Html, HostileMarkupDoesNotCrash) {
  // libxml2 stops at its depth limit (256 elements); below it the text is kept.
  std::string nested, deep;
  for (int i = 0; i < 100; ++i) nested += "<div><span>";
  EXPECT_EQ(html_text(nested + "nested"), "nested");
  for (int i = 0; i < 20000; ++i) deep += "<div><span>";
  (void)html_text(deep + "deep");
  EXPECT_EQ(html_text("<p>unclosed <b>bold <i>both"), "unclosed bold both");
  EXPECT_TRUE(contains(error_of([] { read_document("<html><script>only()</script></html>", Format::Auto, "s.html"); }),
                       "no text"));
}

std::string sample_pdf() {
  return test::make_pdf({{{"The first paragraph has a line that wraps", "onto a second line here.", "",
                           "第二段是中文，共两行。这一行写到", "这里结束。", "", "Third paragraph."}},
                         {{"Page two: 第二页。"}}});
}

TEST(Pdf, TextWithParagraphsLinesJoinedAndChineseIntact) {
  const Document d = read_document(sample_pdf(), Format::Auto, "sample");  // sniffed: no extension
  EXPECT_EQ(d.format, Format::Pdf);
  EXPECT_EQ(d.text,
            "The first paragraph has a line that wraps onto a second line here.\n\n"
            "第二段是中文，共两行。这一行写到这里结束。\n\nThird paragraph.\n\nPage two: 第二页。");
}

TEST(Pdf, FromAFile) {
  const std::string path = write_temp("doc.pdf", sample_pdf());
  EXPECT_TRUE(contains(read_document_file(path, Format::Auto).text, "第二页"));
}

TEST(Pdf, CorruptEncryptedOrEmptyPdfsAreClearErrors) {
  EXPECT_TRUE(contains(error_of([] { read_document("%PDF-1.7\n\x01garbage\xff\xfe", Format::Auto, "c.pdf"); }),
                       "corrupt PDF"));
  EXPECT_TRUE(contains(error_of([] { read_document("plain words", Format::Auto, "x.pdf"); }), "not a PDF"));
  EXPECT_TRUE(contains(error_of([] { read_document(test::make_pdf({{{}}}), Format::Auto, "blank.pdf"); }), "no text"));
}

// Random damage to a PDF and an HTML page: an error or some text, never a crash (ASan watches).
TEST(Pdf, MutatedPdfsAndHtmlNeverCrash) {
  const std::string pdf = sample_pdf();
  const std::string html = "<html><body><p>Hello &amp; 你好</p><div>more <b>text</b></div></body></html>";
  std::mt19937 rng(7);
  int errors = 0, texts = 0;
  for (int round = 0; round < 60; ++round) {
    for (const std::string* original : {&pdf, &html}) {
      std::string bytes = *original;
      const int edits = 1 + int(rng() % 8);
      for (int e = 0; e < edits; ++e) {
        const size_t at = rng() % bytes.size();
        switch (rng() % 3) {
          case 0: bytes[at] = char(rng()); break;
          case 1: bytes.erase(at, 1 + rng() % 16); break;
          default: bytes.insert(at, std::string(1 + rng() % 4, char(rng()))); break;
        }
        if (bytes.empty()) bytes.push_back('x');
      }
      if (round % 5 == 0) bytes.resize(bytes.size() / 2);  // truncated
      try {
        const Document d = read_document(bytes, original == &pdf ? Format::Pdf : Format::Html, "fuzz");
        EXPECT_FALSE(d.text.empty());
        ++texts;
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors + texts, 0);
}

}  // namespace
}  // namespace tandem::assistant
