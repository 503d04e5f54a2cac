// K-quant reference quantizers: byte-identical to what llama-quantize wrote for the
// conformance models (no importance matrix), and a round-trip error on random Gaussian
// rows no larger than llama.cpp's own (the peer's ggml; every type's bytes against it:
// quantize_peer_test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/file.h"
#include "quant/quantize.h"
#include "quant/reference.h"
#include "support/ggml_peer.h"
#include "support/test_paths.h"

namespace tandem::quant {
namespace {

std::vector<float> gaussian_rows(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

double relative_rms_error(Type type, const std::vector<float>& x) {
  const int64_t n = int64_t(x.size());
  std::vector<uint8_t> q(row_bytes(traits(type), n));
  quantize_row_to(type, x.data(), q.data(), n);
  std::vector<float> back(n);
  dequantize_row(type, q.data(), back.data(), n);
  double err = 0, norm = 0;
  for (int64_t i = 0; i < n; i++) {
    err += double(x[i] - back[i]) * (x[i] - back[i]);
    norm += double(x[i]) * x[i];
  }
  return std::sqrt(err / norm);
}

// The round-trip error of each type on 16384 N(0,1) values is bounded by llama.cpp's own
// quantizer and decoder on the same values (the peer's libggml-base: what llama-quantize
// writes), not by a figure fitted to ours. Measured: Q2_K 0.297, Q3_K 0.152, Q4_K 0.071,
// Q5_K 0.036, Q6_K 0.018, Q4_0 0.087, Q4_1 0.078, Q5_0 0.043, Q5_1 0.038, Q8_0 0.0054.
TEST(KQuantRoundTrip, GaussianRowsAreNoWorseThanLlamaQuantize) {
  const auto x = gaussian_rows(256 * 64, 1234);
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  for (Type type : {Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q4_0, Type::Q4_1, Type::Q5_0,
                    Type::Q5_1, Type::Q8_0}) {
    const double e = relative_rms_error(type, x);
    const auto theirs = peer.quantize(type, x.data(), 1, int64_t(x.size()));
    std::vector<float> back(x.size());
    peer.dequantize_row(type, theirs.data(), back.data(), int64_t(x.size()));
    double err = 0, norm = 0;
    for (size_t i = 0; i < x.size(); i++) err += double(x[i] - back[i]) * (x[i] - back[i]), norm += double(x[i]) * x[i];
    const double bound = std::sqrt(err / norm);
    EXPECT_LE(e, bound * (1 + 1e-9)) << type_name(type);
    EXPECT_GT(e, 0.0) << type_name(type);
    std::printf("  %-5s relative RMS error %.4f (llama.cpp's %.4f)\n", std::string(type_name(type)).c_str(), e, bound);
  }
}

TEST(KQuantRoundTrip, MoreBitsNeverWorse) {
  const auto x = gaussian_rows(256 * 16, 99);
  const Type order[] = {Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K};
  for (int i = 1; i < 5; i++) EXPECT_LT(relative_rms_error(order[i], x), relative_rms_error(order[i - 1], x));
}

TEST(KQuantRoundTrip, ZeroAndConstantRowsAreExact) {
  for (Type t : {Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K}) {
    std::vector<float> zeros(256, 0.0f), back(256, 1.0f);
    std::vector<uint8_t> q(row_bytes(traits(t), 256));
    quantize_row_kquant(t, zeros.data(), q.data(), 256);
    dequantize_row(t, q.data(), back.data(), 256);
    for (float v : back) ASSERT_EQ(v, 0.0f) << type_name(t);
  }
}

TEST(KQuantRoundTrip, RejectsBadLengthAndType) {
  std::vector<float> x(300);
  std::vector<uint8_t> q(1024);
  EXPECT_THROW(quantize_row_kquant(Type::Q4_K, x.data(), q.data(), 300), Error);
  EXPECT_THROW(quantize_row_kquant(Type::Q4_0, x.data(), q.data(), 256), Error);
  EXPECT_FALSE(has_kquant_quantizer(Type::Q8_0));
  EXPECT_TRUE(can_quantize_to(Type::Q8_0));
  EXPECT_TRUE(can_quantize_to(Type::Q5_K));
}

// Every K-quant tensor llama.cpp wrote for a conformance model, requantized from the F32 file.
struct Compared {
  int tensors = 0;
  int identical = 0;
  std::string first_mismatch;
};

Compared compare_with_llama_cpp(const std::string& arch, const std::string& quant_file) {
  Compared c;
  const auto original = gguf::File::open(test::shared_path("conformance/" + arch + "/model-F32.gguf"));
  const auto quantized = gguf::File::open(test::shared_path("conformance/" + arch + "/" + quant_file));
  for (const auto& t : quantized.tensors()) {
    if (!has_kquant_quantizer(t.type)) continue;
    const gguf::TensorInfo* f32 = original.find_tensor(t.name);
    if (!f32 || f32->type != Type::F32) continue;
    c.tensors++;
    std::vector<uint8_t> ours(t.n_bytes);
    const int64_t n = int64_t(t.dims[0]);
    const size_t stride = row_bytes(traits(t.type), n);
    for (uint64_t r = 0; r < t.rows(); r++)
      quantize_row_kquant(t.type, reinterpret_cast<const float*>(f32->data) + r * n, ours.data() + r * stride, n);
    if (std::memcmp(ours.data(), t.data, t.n_bytes) == 0) c.identical++;
    else if (c.first_mismatch.empty()) c.first_mismatch = t.name + " (" + std::string(type_name(t.type)) + ")";
  }
  return c;
}

class LlamaCppBytes : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppBytes, Q4_K_M_TensorsAreByteIdentical) {
  const std::string arch = GetParam();
  const Compared c = compare_with_llama_cpp(arch, "model-Q4_K_M.gguf");
  EXPECT_GT(c.tensors, 0);
  EXPECT_EQ(c.identical, c.tensors) << "first mismatch: " << c.first_mismatch;
}

TEST_P(LlamaCppBytes, Q4_0_OutputQ6_K_IsByteIdentical) {
  const std::string arch = GetParam();
  const Compared c = compare_with_llama_cpp(arch, "model-Q4_0.gguf");
  EXPECT_EQ(c.tensors, 1);  // the output matrix (or the tied embedding)
  EXPECT_EQ(c.identical, c.tensors) << "first mismatch: " << c.first_mismatch;
}

// llama (untied output, Q4_K + Q6_K), llama3 and qwen2 (tied), phi3 (fused qkv in Q5_K).
INSTANTIATE_TEST_SUITE_P(Conformance, LlamaCppBytes, ::testing::Values("llama", "llama3", "qwen2", "phi3"));

}  // namespace
}  // namespace tandem::quant
