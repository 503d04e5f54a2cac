// The lookup tables of ggml's i-quant formats (IQ1_S .. IQ4_XS): which values an index
// in a block stands for. They are data, not code, and are taken verbatim from llama.cpp
// (ggml/src/ggml-common.h, the GGML_TABLE_BEGIN .. GGML_TABLE_END blocks named beside each
// table), as shipped in node-llama-cpp 3.21.1's llama/gitRelease.bundle (llama.cpp commit
// 80fb11a, 2026-09-12). llama.cpp is MIT-licensed: Copyright (c) 2023-2026 The ggml authors;
// the licence text is in LICENSE-llama-cpp.txt beside this file.
//
// Every index field of every i-quant block is exactly as wide as its table is long
// (reference_iquants.cpp static_asserts it), so no bit pattern in a file can index past a table.
#pragma once
#include <cstdint>

namespace tandem::quant::grids {

// sign patterns: entry i is i (7 bits) with bit 7 set when i has an odd number of ones (even parity over 8 signs).
extern const uint8_t kSignsIq2xs[128];  // ggml: ksigns_iq2xs
// IQ2_XXS: 8 magnitudes per entry, one byte each (8, 25 or 43).
extern const uint64_t kGridIq2xxs[256];  // ggml: iq2xxs_grid
// IQ2_XS: as IQ2_XXS, 512 entries.
extern const uint64_t kGridIq2xs[512];  // ggml: iq2xs_grid
// IQ2_S: as IQ2_XXS, 1024 entries.
extern const uint64_t kGridIq2s[1024];  // ggml: iq2s_grid
// IQ3_XXS: 4 magnitudes per entry, one byte each (4 .. 62).
extern const uint32_t kGridIq3xxs[256];  // ggml: iq3xxs_grid
// IQ3_S: 4 magnitudes per entry, one byte each (1, 3, .. 15).
extern const uint32_t kGridIq3s[512];  // ggml: iq3s_grid
// IQ4_NL / IQ4_XS: the 16 non-linear levels.
extern const int8_t kValuesIq4nl[16];  // ggml: kvalues_iq4nl
// IQ1_S / IQ1_M: 8 signed values per entry, one byte each (-1, 0 or 1).
extern const uint64_t kGridIq1s[2048];  // ggml: iq1s_grid

}  // namespace tandem::quant::grids
