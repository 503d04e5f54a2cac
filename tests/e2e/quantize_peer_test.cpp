// `tandem quantize` checked by the peer (llama.cpp from the node-llama-cpp npm package,
// ../shared/peer): every quantizer writes the same bytes as ggml's (what llama-quantize calls
// per tensor), and a Q4_K_M of a synth model loads and runs in llama.cpp and in Tandem.
// smollm-135m's rows (576) do not divide into 256-value K-quant blocks, so the legal-type
// fallback runs too. The peer is installed on first use; a peer that cannot be had fails.
#include <gtest/gtest.h>

#include <cstdio>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "gguf/file.h"
#include "quant/quantize.h"
#include "quant/reference.h"
#include "support/known_blocks.h"
#include "support/ggml_peer.h"
#include "support/test_paths.h"

namespace {

using namespace tandem;
using test::GgmlPeer;

std::string shell_output(const std::string& cmd, int& status) {
  FILE* pipe = popen((cmd + " 2>/dev/null").c_str(), "r");
  std::string out;
  char buffer[4096];
  while (pipe && fgets(buffer, sizeof buffer, pipe)) out += buffer;
  status = pipe ? pclose(pipe) : -1;
  return out;
}

// Every type `tandem quantize` writes with a quantizer of its own.
const quant::Type kQuantized[] = {quant::Type::Q4_0, quant::Type::Q4_1, quant::Type::Q5_0, quant::Type::Q5_1,
                                  quant::Type::Q8_0, quant::Type::Q2_K, quant::Type::Q3_K, quant::Type::Q4_K,
                                  quant::Type::Q5_K, quant::Type::Q6_K};

// The first index where `ours` and `theirs` differ, as "block B byte K" text; "" when identical.
std::string first_difference(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs, quant::Type type) {
  if (ours.size() != theirs.size()) return "sizes " + std::to_string(ours.size()) + " vs " + std::to_string(theirs.size());
  for (size_t i = 0; i < ours.size(); i++) {
    if (ours[i] != theirs[i]) {
      const size_t block = quant::traits(type).block_bytes;
      return "block " + std::to_string(i / block) + " byte " + std::to_string(i % block);
    }
  }
  return "";
}

std::vector<uint8_t> ours(quant::Type type, const float* x, int64_t rows, int64_t n) {
  std::vector<uint8_t> out(quant::row_bytes(quant::traits(type), uint64_t(n)) * uint64_t(rows));
  const size_t stride = quant::row_bytes(quant::traits(type), uint64_t(n));
  for (int64_t r = 0; r < rows; r++) quant::quantize_row_to(type, x + r * n, out.data() + r * stride, n);
  return out;
}

// Rows that reach the quantizers' corner cases: Gaussian, heavy-tailed, all-positive (the
// min/offset types), a zero row, a constant row, one huge outlier, tiny values.
std::vector<float> hard_rows(int64_t n, int64_t& rows) {
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> heavy(2.0f);
  std::vector<float> x;
  auto row = [&](auto make) {
    for (int64_t i = 0; i < n; i++) x.push_back(make(i));
  };
  for (int k = 0; k < 8; k++) row([&](int64_t) { return normal(rng); });
  for (int k = 0; k < 4; k++) row([&](int64_t) { return heavy(rng); });
  for (int k = 0; k < 2; k++) row([&](int64_t) { return std::fabs(normal(rng)) + 0.5f; });
  row([](int64_t) { return 0.0f; });
  row([](int64_t) { return 0.75f; });
  row([&](int64_t i) { return i == 37 ? 1000.0f : normal(rng); });
  row([&](int64_t) { return 1e-6f * normal(rng); });
  rows = int64_t(x.size()) / n;
  return x;
}

TEST(QuantizePeer, EveryQuantizerWritesGgmlsBytesOnHardRows) {
  const GgmlPeer& peer = GgmlPeer::get();
  int64_t rows = 0;
  const int64_t n = 512;
  const std::vector<float> x = hard_rows(n, rows);
  for (quant::Type type : kQuantized) {
    EXPECT_EQ(first_difference(ours(type, x.data(), rows, n), peer.quantize(type, x.data(), rows, n), type), "")
        << quant::type_name(type);
  }
}

// Every matrix of the conformance models (real shapes: 256- and 768-wide rows, fused phi3
// tensors), in every type: the claim "byte-identical to llama-quantize" for each.
TEST(QuantizePeer, EveryQuantizerWritesGgmlsBytesOnTheConformanceMatrices) {
  const GgmlPeer& peer = GgmlPeer::get();
  for (const char* arch : {"llama", "qwen2", "phi3"}) {
    const auto f32 = gguf::File::open(test::shared_path(std::string("conformance/") + arch + "/model-F32.gguf"));
    int matrices = 0;
    for (const auto& t : f32.tensors()) {
      if (t.dims.size() != 2 || t.type != quant::Type::F32) continue;
      matrices++;
      const auto* x = reinterpret_cast<const float*>(t.data);
      const int64_t n = int64_t(t.dims[0]), rows = int64_t(t.dims[1]);
      for (quant::Type type : kQuantized) {
        EXPECT_EQ(first_difference(ours(type, x, rows, n), peer.quantize(type, x, rows, n), type), "")
            << arch << " " << t.name << " " << quant::type_name(type);
      }
    }
    EXPECT_GE(matrices, 8) << arch;
  }
}

// The known-value blocks the decoder tests use (support/known_blocks.h) decode to their values
// in ggml too, so the layouts written there are llama.cpp's; and our decoders equal ggml's on
// random bytes (finite scales), element for element.
TEST(QuantizePeer, DecodersAgreeWithGgml) {
  const GgmlPeer& peer = GgmlPeer::get();
  std::mt19937 rng(9);
  for (quant::Type type : test::known_row_types()) {
    if (quant::traits(type).block_elems == 1) continue;  // F32, F16, BF16: no dequantize_row_* in ggml
    const test::KnownRow row = test::known_row(type, 6, 5 + uint32_t(type));
    std::vector<float> theirs(row.values.size());
    peer.dequantize_row(type, row.bytes.data(), theirs.data(), int64_t(theirs.size()));
    EXPECT_EQ(theirs, row.values) << quant::type_name(type) << ": the known blocks are not ggml's layout";

    std::vector<uint8_t> bytes(row.bytes.size());
    for (auto& b : bytes) b = uint8_t(rng());
    // Scales from a known row (finite), everything else random.
    const size_t block = quant::traits(type).block_bytes;
    for (size_t at = 0; at < bytes.size(); at += block)
      for (size_t off : {size_t(0), size_t(2), block - 4, block - 2})
        if (off + 2 <= block) std::memcpy(&bytes[at + off], &row.bytes[at + off], 2);
    std::vector<float> ours(row.values.size());
    peer.dequantize_row(type, bytes.data(), theirs.data(), int64_t(theirs.size()));
    quant::dequantize_row(type, bytes.data(), ours.data(), int64_t(ours.size()));
    for (size_t i = 0; i < ours.size(); i++) {
      if (std::isnan(theirs[i]) && std::isnan(ours[i])) continue;
      ASSERT_EQ(ours[i], theirs[i]) << quant::type_name(type) << " element " << i;
    }
  }
}

TEST(QuantizePeer, Q4KMOfASynthModelRunsInLlamaCppAndInTandem) {
  GgmlPeer::library_dir();  // installs the peer, or fails saying why
  const std::string f16 = test::temp_path("smollm-f16.gguf"), q4 = test::temp_path("smollm-q4km.gguf");
  auto r = test::run_cli("synth --shape smollm-135m --layers 2 --type F16 -o '" + f16 + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_cli("quantize '" + f16 + "' '" + q4 + "' Q4_K_M");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using Q5_0"), std::string::npos) << "expected the row-length fallback: " << r.err;

  r = test::run_cli("run -m '" + q4 + "' -p 'hello' -n 4 --ignore-eos -t 1 -v");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("generated 4 tokens"), std::string::npos) << r.err;

  // The peer must work on a known-good file first; only then is a failure ours.
  int status = 0;
  const std::string bench = "'" + GgmlPeer::bench_script() + "' -p 8 -n 4 -r 1 -t 1 --json -m ";
  const std::string known = shell_output(bench + "'" + test::shared_path("models/stories260K.gguf") + "'", status);
  ASSERT_EQ(status, 0) << "the peer does not run on stories260K: " << known;
  const std::string out = shell_output(bench + "'" + q4 + "'", status);
  ASSERT_EQ(status, 0) << "llama.cpp could not load or run Tandem's Q4_K_M: " << out;
  const auto line = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << out;
  // It ran the tokens asked for (its speed is the benchmark's business, not this test's).
  EXPECT_EQ(line["pp"]["tokens"], 8) << out;
  EXPECT_EQ(line["tg"]["tokens"], 4) << out;
  EXPECT_NE(line["model"].get<std::string>().find("smollm-q4km.gguf"), std::string::npos) << out;
}

}  // namespace
