// Writes small PDFs for tests, deterministically and without any tool: pages of text
// lines in a Type0 font (Identity-H, 2-byte codes) whose ToUnicode CMap maps each code to
// its character, so any Unicode text (Chinese included) is extractable. No glyphs are
// embedded: text extraction needs only the codes, the CMap and the widths. Paragraphs are
// separated by an empty line's worth of vertical space.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace tandem::test {

struct PdfPage {
  std::vector<std::string> lines;  // UTF-8; an empty line is a paragraph gap
};

inline std::vector<uint32_t> pdf_codepoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

inline std::string make_pdf(const std::vector<PdfPage>& pages) {
  // One code per distinct character, in order of first use.
  std::map<uint32_t, unsigned> codes;
  std::vector<uint32_t> by_code{0};
  for (const PdfPage& page : pages) {
    for (const std::string& line : page.lines) {
      for (uint32_t cp : pdf_codepoints(line)) {
        if (codes.emplace(cp, unsigned(by_code.size())).second) by_code.push_back(cp);
      }
    }
  }
  auto hex4 = [](unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "%04X", v & 0xFFFF);
    return std::string(b);
  };
  auto utf16 = [&](uint32_t cp) {
    if (cp < 0x10000) return hex4(cp);
    cp -= 0x10000;
    return hex4(0xD800 + (cp >> 10)) + hex4(0xDC00 + (cp & 0x3FF));
  };

  std::vector<std::string> objects;  // object i+1
  auto add = [&](std::string body) {
    objects.push_back(std::move(body));
    return unsigned(objects.size());
  };
  auto stream = [](const std::string& data, const std::string& dict = "") {
    return "<< /Length " + std::to_string(data.size()) + dict + " >>\nstream\n" + data + "\nendstream";
  };

  const unsigned catalog = add("");  // filled in below
  const unsigned pages_obj = add("");
  std::string cmap =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  for (size_t first = 1; first < by_code.size(); first += 100) {
    const size_t last = std::min(by_code.size(), first + 100);
    cmap += std::to_string(last - first) + " beginbfchar\n";
    for (size_t c = first; c < last; ++c) cmap.append("<").append(hex4(unsigned(c))).append("> <").append(utf16(by_code[c])).append(">\n");
    cmap += "endbfchar\n";
  }
  cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend";
  const unsigned to_unicode = add(stream(cmap));
  std::string widths = "[1 [";
  for (size_t c = 1; c < by_code.size(); ++c) {
    const uint32_t cp = by_code[c];
    widths += std::to_string(cp == ' ' ? 250 : cp < 0x2E80 ? 500 : 1000) + " ";
  }
  widths += "]]";
  const unsigned descriptor = add(
      "<< /Type /FontDescriptor /FontName /TandemTest /Flags 4 /FontBBox [0 -200 1000 800] /ItalicAngle 0 "
      "/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>");
  const unsigned cid_font = add(
      "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TandemTest /CIDSystemInfo << /Registry (Adobe) "
      "/Ordering (Identity) /Supplement 0 >> /FontDescriptor " +
      std::to_string(descriptor) + " 0 R /DW 1000 /W " + widths + " /CIDToGIDMap /Identity >>");
  const unsigned font = add("<< /Type /Font /Subtype /Type0 /BaseFont /TandemTest /Encoding /Identity-H /DescendantFonts [" +
                            std::to_string(cid_font) + " 0 R] /ToUnicode " + std::to_string(to_unicode) + " 0 R >>");

  std::string kids;
  for (const PdfPage& page : pages) {
    std::string content;
    double y = 780;
    for (const std::string& line : page.lines) {
      if (!line.empty()) {
        content += "BT /F1 12 Tf 1 0 0 1 72 " + std::to_string(int(y)) + " Tm <";
        for (uint32_t cp : pdf_codepoints(line)) content += hex4(codes[cp]);
        content += "> Tj ET\n";
      }
      y -= 16;
    }
    const unsigned contents = add(stream(content));
    const unsigned page_obj = add("<< /Type /Page /Parent " + std::to_string(pages_obj) +
                                  " 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 " + std::to_string(font) +
                                  " 0 R >> >> /Contents " + std::to_string(contents) + " 0 R >>");
    kids += std::to_string(page_obj) + " 0 R ";
  }
  objects[catalog - 1] = "<< /Type /Catalog /Pages " + std::to_string(pages_obj) + " 0 R >>";
  objects[pages_obj - 1] = "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>";

  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t offset : offsets) {
    char line[32];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", offset);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root " + std::to_string(catalog) +
         " 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace tandem::test
