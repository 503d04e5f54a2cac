#include "quant/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"

namespace tandem::quant {
namespace {

// ggml computes the inverse scale from the float scale, not from its fp16 rounding,
// and truncates (x * id + offset) toward zero; both matter for bit-identical output.
float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// The value with the largest magnitude, keeping its sign (first one on ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; j++) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < n; j++) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

// Symmetric formats store (x / d + offset), d = signed absmax / -offset, so the extreme
// value lands exactly on quant 0 and the other side may clamp at 2*offset - 1.
int symmetric_quant(float x, float id, int offset) {
  return std::min(2 * offset - 1, int(int8_t(x * id + (float(offset) + 0.5f))));
}

// Asymmetric formats store (x - min) / d, d = (max - min) / levels.
int asymmetric_quant(float x, float min, float id, int levels) {
  return std::min(levels, int(uint8_t((x - min) * id + 0.5f)));
}

void pack_nibbles(const int* q, uint8_t* qs) {
  for (int j = 0; j < 16; j++) qs[j] = uint8_t((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
}

void pack_high_bits(const int* q, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < 32; j++) bits |= uint32_t((q[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, 4);
}

void encode(const float* x, BlockQ4_0& block) {
  const float d = signed_absmax(x, 32) / -8;
  const float id = inverse(d);
  block.d = fp32_to_fp16(d);
  int q[32];
  for (int j = 0; j < 32; j++) q[j] = symmetric_quant(x[j], id, 8);
  pack_nibbles(q, block.qs);
}

void encode(const float* x, BlockQ5_0& block) {
  const float d = signed_absmax(x, 32) / -16;
  const float id = inverse(d);
  block.d = fp32_to_fp16(d);
  int q[32];
  for (int j = 0; j < 32; j++) q[j] = symmetric_quant(x[j], id, 16);
  pack_nibbles(q, block.qs);
  pack_high_bits(q, block.qh);
}

void encode(const float* x, BlockQ4_1& block) {
  float min, max;
  min_max(x, 32, min, max);
  const float d = (max - min) / 15;
  const float id = inverse(d);
  block.d = fp32_to_fp16(d);
  block.m = fp32_to_fp16(min);
  int q[32];
  for (int j = 0; j < 32; j++) q[j] = asymmetric_quant(x[j], min, id, 15);
  pack_nibbles(q, block.qs);
}

void encode(const float* x, BlockQ5_1& block) {
  float min, max;
  min_max(x, 32, min, max);
  const float d = (max - min) / 31;
  const float id = inverse(d);
  block.d = fp32_to_fp16(d);
  block.m = fp32_to_fp16(min);
  int q[32];
  for (int j = 0; j < 32; j++) q[j] = asymmetric_quant(x[j], min, id, 31);
  pack_nibbles(q, block.qs);
  pack_high_bits(q, block.qh);
}

void encode(const float* x, BlockQ8_0& block) {
  float amax = 0.0f;
  for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = inverse(d);
  block.d = fp32_to_fp16(d);
  for (int j = 0; j < 32; j++) block.qs[j] = int8_t(std::round(x[j] * id));
}

using EncodeBlocks = void (*)(const float* src, uint8_t* dst, int64_t n_blocks);

template <class Block>
void encode_blocks(const float* src, uint8_t* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; i++) {
    Block block;
    encode(src + i * Block::kElems, block);
    std::memcpy(dst + i * sizeof(Block), &block, sizeof(Block));
  }
}

void encode_f32(const float* src, uint8_t* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

template <uint16_t (*convert)(float)>
void encode_half(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const uint16_t bits = convert(src[i]);
    std::memcpy(dst + 2 * i, &bits, 2);
  }
}

struct Encoder {
  Type type;
  int elems_per_block;
  EncodeBlocks encode;
};

template <class Block>
constexpr Encoder block_encoder() {
  return {Block::kType, Block::kElems, &encode_blocks<Block>};
}

constexpr Encoder kEncoders[] = {
    {Type::F32, 1, &encode_f32},
    {Type::F16, 1, &encode_half<fp32_to_fp16>},
    {Type::BF16, 1, &encode_half<fp32_to_bf16>},
    block_encoder<BlockQ4_0>(),
    block_encoder<BlockQ4_1>(),
    block_encoder<BlockQ5_0>(),
    block_encoder<BlockQ5_1>(),
    block_encoder<BlockQ8_0>(),
};

const Encoder* find_encoder(Type type) {
  for (const Encoder& encoder : kEncoders)
    if (encoder.type == type) return &encoder;
  return nullptr;
}

}  // namespace

bool has_quantizer(Type type) { return find_encoder(type) != nullptr; }

void quantize_row(Type type, const float* src, void* dst, int64_t n) {
  const Encoder* encoder = find_encoder(type);
  if (!encoder) {
    const auto known = traits_of(uint32_t(type));
    fail("quantize_row: no reference quantizer for tensor type ", known ? known->name : "<unknown>", " (id ",
         uint32_t(type), ")");
  }
  if (n < 0 || n % encoder->elems_per_block != 0)
    fail("quantize_row: row length ", n, " is not a multiple of the ", type_name(type), " block size ",
         encoder->elems_per_block);
  encoder->encode(src, static_cast<uint8_t*>(dst), n / encoder->elems_per_block);
}

}  // namespace tandem::quant
