// Real data: llama.cpp quantized the conformance llama model's F32 weights to Q8_0,
// Q4_0 and Q4_K_M (no importance matrix). Every quantized matrix must dequantize
// close to its F32 original, with bounds derived from how llama.cpp quantizes, and
// our Q8_0 / Q4_0 quantizers must reproduce llama.cpp's bytes exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/half.h"
#include "gguf/file.h"
#include "quant/quantize.h"
#include "quant/reference.h"
#include "support/test_paths.h"

namespace tandem::quant {
namespace {

const std::string kDir = "conformance/llama/";
const float kHalfUlp = std::ldexp(1.0f, -11);  // relative rounding of an fp16 scale

struct Pair {
  const gguf::TensorInfo* quantized;
  const gguf::TensorInfo* original;
};

const float* row_of(const gguf::TensorInfo& t, uint64_t r) {
  return reinterpret_cast<const float*>(t.data) + r * t.dims[0];
}

std::vector<float> dequantized_row(const gguf::TensorInfo& t, uint64_t r) {
  std::vector<float> out(t.dims[0]);
  dequantize_row(t.type, t.data + r * row_bytes(traits(t.type), t.dims[0]), out.data(), int64_t(t.dims[0]));
  return out;
}

class RealWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = std::make_unique<gguf::File>(gguf::File::open(test::shared_path(kDir + "model-F32.gguf")));
  }

  // Quantized tensors of `file`, counted per type, each with its F32 original.
  std::vector<Pair> pairs(const gguf::File& file, std::map<Type, int>& counts) {
    std::vector<Pair> out;
    for (const auto& t : file.tensors()) {
      counts[t.type]++;
      if (t.type == Type::F32) continue;
      const gguf::TensorInfo* f32 = original_->find_tensor(t.name);
      EXPECT_NE(f32, nullptr) << t.name;
      if (!f32) continue;
      EXPECT_EQ(f32->type, Type::F32);
      EXPECT_EQ(f32->dims, t.dims) << t.name;
      out.push_back({&t, f32});
    }
    return out;
  }

  std::unique_ptr<gguf::File> original_;
};

// Q8_0: d = amax/127 and q = round(w/d) with |q| <= 127, so |w - q*d| <= d/2; storing d
// as fp16 moves each value by at most |q| * d * 2^-11 <= 127 * d * 2^-11.
void check_q8_0(const float* w, const float* deq, int64_t n) {
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0;
    for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(w[b + i]));
    const float d = amax / 127;
    const float bound = d * (0.5f + 127 * kHalfUlp) + 1e-6f * amax;
    for (int i = 0; i < 32; i++) ASSERT_LE(std::fabs(w[b + i] - deq[b + i]), bound) << "element " << b + i;
  }
}

// Q4_0: d = m / -8 where m is the signed extreme, q = min(15, trunc(w/d + 8.5)). With t = w/d
// in [-8, 8], rounding costs |d|/2, except that t > 7.5 clamps to 7 and costs (t - 7)|d|
// (up to one step); the fp16 scale adds at most 8 * |d| * 2^-11.
void check_q4_0(const float* w, const float* deq, int64_t n) {
  for (int64_t b = 0; b < n; b += 32) {
    float amax = 0, extreme = 0;
    for (int i = 0; i < 32; i++)
      if (std::fabs(w[b + i]) > amax) amax = std::fabs(w[b + i]), extreme = w[b + i];
    const float d = extreme / -8;
    for (int i = 0; i < 32; i++) {
      const float t = d != 0 ? w[b + i] / d : 0.0f;
      const float bound = std::fabs(d) * (std::max(0.5f, t - 7.0f) + 8 * kHalfUlp) + 1e-6f * amax;
      ASSERT_LE(std::fabs(w[b + i] - deq[b + i]), bound) << "element " << b + i;
    }
  }
}

// K-quants: llama.cpp first searches the group scales, packs them (6-bit for Q4_K, int8 for
// Q6_K), and then requantizes every weight by rounding to the nearest point of the grid the
// stored scales define: Q4_K {d*sc*q - dmin*m : q = 0..15}, Q6_K {d*sc*(q-32) : q = 0..63}.
// So each decoded weight must be a nearest grid point to its original. The grid is read here
// straight from the block bytes; the slack covers float rounding of the division.
float distance_to_grid(float w, float scale, float offset, int q_min, int q_max) {
  if (scale == 0) return std::fabs(w - offset);
  const float q = std::clamp(std::nearbyint((w - offset) / scale), float(q_min), float(q_max));
  float best = std::fabs(w - (scale * q + offset));
  for (float neighbour : {q - 1, q + 1})  // guards against rounding of the division
    if (neighbour >= q_min && neighbour <= q_max) best = std::min(best, std::fabs(w - (scale * neighbour + offset)));
  return best;
}

void check_q4_k(const uint8_t* blocks, const float* w, const float* deq, int64_t n) {
  for (int64_t b = 0; b < n / 256; b++) {
    const uint8_t* block = blocks + b * 144;
    const float d = fp16_to_fp32(load_u16(block)), dmin = fp16_to_fp32(load_u16(block + 2));
    const uint8_t* s = block + 4;
    for (int g = 0; g < 8; g++) {
      const int sc = g < 4 ? s[g] & 63 : (s[g + 4] & 15) | ((s[g - 4] >> 6) << 4);
      const int m = g < 4 ? s[g + 4] & 63 : (s[g + 4] >> 4) | ((s[g] >> 6) << 4);
      const float scale = d * sc, offset = -(dmin * m);
      for (int i = 256 * b + 32 * g; i < 256 * b + 32 * g + 32; i++) {
        const float best = distance_to_grid(w[i], scale, offset, 0, 15);
        ASSERT_LE(std::fabs(w[i] - deq[i]), best + 1e-5f * (std::fabs(scale) * 16 + std::fabs(offset)) + 1e-7f)
            << "element " << i;
      }
    }
  }
}

void check_q6_k(const uint8_t* blocks, const float* w, const float* deq, int64_t n) {
  for (int64_t b = 0; b < n / 256; b++) {
    const uint8_t* block = blocks + b * 210;
    const float d = fp16_to_fp32(load_u16(block + 208));
    for (int g = 0; g < 16; g++) {
      const float scale = d * int8_t(block[192 + g]);
      for (int i = 256 * b + 16 * g; i < 256 * b + 16 * g + 16; i++) {
        const float best = distance_to_grid(w[i], scale, 0.0f, -32, 31);
        ASSERT_LE(std::fabs(w[i] - deq[i]), best + 1e-5f * std::fabs(scale) * 32 + 1e-7f) << "element " << i;
      }
    }
  }
}

// Root-mean-square error over a whole matrix, relative to the weights' RMS: a second,
// coarser guard that the grid itself is sane (uniform rounding error is step/sqrt(12)).
double relative_rms_error(const Pair& p) {
  double err = 0, norm = 0;
  for (uint64_t r = 0; r < p.quantized->rows(); r++) {
    const auto deq = dequantized_row(*p.quantized, r);
    const float* w = row_of(*p.original, r);
    for (uint64_t i = 0; i < deq.size(); i++) {
      err += double(w[i] - deq[i]) * (w[i] - deq[i]);
      norm += double(w[i]) * w[i];
    }
  }
  return std::sqrt(err / norm);
}

void check_tensor(const Pair& p) {
  const auto& q = *p.quantized;
  const size_t stride = row_bytes(traits(q.type), q.dims[0]);
  for (uint64_t r = 0; r < q.rows(); r++) {
    const auto deq = dequantized_row(q, r);
    const float* w = row_of(*p.original, r);
    const int64_t n = int64_t(q.dims[0]);
    SCOPED_TRACE(q.name + " row " + std::to_string(r));
    switch (q.type) {
      case Type::Q8_0: check_q8_0(w, deq.data(), n); break;
      case Type::Q4_0: check_q4_0(w, deq.data(), n); break;
      case Type::Q4_K: check_q4_k(q.data + r * stride, w, deq.data(), n); break;
      case Type::Q6_K: check_q6_k(q.data + r * stride, w, deq.data(), n); break;
      default: FAIL() << "unexpected type " << type_name(q.type);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Our round-to-nearest quantizer is ggml's reference one, which llama-quantize uses
// for Q8_0 and (without an importance matrix) Q4_0: the bytes must be identical.
void expect_same_bytes_as_llama_cpp(const Pair& p) {
  const auto& q = *p.quantized;
  const size_t stride = row_bytes(traits(q.type), q.dims[0]);
  std::vector<uint8_t> ours(stride);
  for (uint64_t r = 0; r < q.rows(); r++) {
    quantize_row(q.type, row_of(*p.original, r), ours.data(), int64_t(q.dims[0]));
    ASSERT_EQ(std::memcmp(ours.data(), q.data + r * stride, stride), 0) << q.name << " row " << r;
  }
}

TEST_F(RealWeights, Q8_0) {
  const auto file = gguf::File::open(test::shared_path(kDir + "model-Q8_0.gguf"));
  std::map<Type, int> counts;
  const auto all = pairs(file, counts);
  EXPECT_EQ(counts[Type::Q8_0], 16);
  for (const Pair& p : all) {
    check_tensor(p);
    expect_same_bytes_as_llama_cpp(p);
    EXPECT_LT(relative_rms_error(p), 0.01) << p.quantized->name;  // step/sqrt(12) ~ 2.5/127/3.5
  }
}

TEST_F(RealWeights, Q4_0) {
  const auto file = gguf::File::open(test::shared_path(kDir + "model-Q4_0.gguf"));
  std::map<Type, int> counts;
  const auto all = pairs(file, counts);
  EXPECT_EQ(counts[Type::Q4_0], 15);
  EXPECT_EQ(counts[Type::Q6_K], 1);
  for (const Pair& p : all) {
    check_tensor(p);
    if (p.quantized->type == Type::Q4_0) {
      expect_same_bytes_as_llama_cpp(p);
      EXPECT_LT(relative_rms_error(p), 0.15) << p.quantized->name;  // step ~ 2.5 sigma / 8
    } else {
      EXPECT_LT(relative_rms_error(p), 0.03) << p.quantized->name;  // step ~ 2 sigma / 32
    }
  }
}

TEST_F(RealWeights, Q4_K_M) {
  const auto file = gguf::File::open(test::shared_path(kDir + "model-Q4_K_M.gguf"));
  std::map<Type, int> counts;
  const auto all = pairs(file, counts);
  EXPECT_EQ(counts[Type::Q4_K], 13);
  EXPECT_EQ(counts[Type::Q6_K], 3);
  for (const Pair& p : all) {
    check_tensor(p);
    EXPECT_LT(relative_rms_error(p), p.quantized->type == Type::Q4_K ? 0.12 : 0.03) << p.quantized->name;
  }
}

}  // namespace
}  // namespace tandem::quant
