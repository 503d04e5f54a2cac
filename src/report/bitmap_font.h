// A 5x7 pixel font for printable ASCII, so charts carry text without a font library.
#pragma once

namespace tandem::report {

constexpr int kGlyphWidth = 5, kGlyphHeight = 7;

// The glyph's rows, top first, as kGlyphHeight groups of kGlyphWidth '#'/'.' characters
// separated by spaces; a character outside ' '..'~' gets the '?' glyph.
const char* glyph_rows(char c);

// Whether pixel (column, row) of the glyph is ink.
inline bool glyph_pixel(const char* rows, int column, int row) { return rows[row * (kGlyphWidth + 1) + column] == '#'; }

}  // namespace tandem::report
