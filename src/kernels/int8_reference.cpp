#include "kernels/int8_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/iquant_grids.h"
#include "quant/repack.h"

namespace tandem::kernels {
namespace {

using quant::Type;

// Shared by both activation quantizers: d = amax / 127, q = nearest-even(x / d).
float quantize_block(const float* x, int n, int8_t* q) {
  float amax = 0;
  for (int i = 0; i < n; i++) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  for (int i = 0; i < n; i++) q[i] = (int8_t)std::clamp((int)std::nearbyint(x[i] * id), -127, 127);
  return d;
}

// One 32-block as integers q with w = dw * q + mm.
struct LegacyInts {
  int q[32];
  float dw, mm;
};

template <class Block>
Block load(const uint8_t* p) {
  Block b;
  std::memcpy(&b, p, sizeof b);
  return b;
}

int nibble(const uint8_t* qs, int e) { return e < 16 ? qs[e] & 15 : qs[e - 16] >> 4; }

LegacyInts legacy_ints(Type type, const uint8_t* p) {
  LegacyInts out;
  switch (type) {
    case Type::Q4_0: {
      auto b = load<quant::BlockQ4_0>(p);
      for (int e = 0; e < 32; e++) out.q[e] = nibble(b.qs, e);
      out.dw = fp16_to_fp32(b.d), out.mm = -8 * out.dw;
      break;
    }
    case Type::Q4_1: {
      auto b = load<quant::BlockQ4_1>(p);
      for (int e = 0; e < 32; e++) out.q[e] = nibble(b.qs, e);
      out.dw = fp16_to_fp32(b.d), out.mm = fp16_to_fp32(b.m);
      break;
    }
    case Type::Q5_0: {
      auto b = load<quant::BlockQ5_0>(p);
      uint32_t qh;
      std::memcpy(&qh, b.qh, 4);
      for (int e = 0; e < 32; e++) out.q[e] = nibble(b.qs, e) | (((qh >> e) & 1) << 4);
      out.dw = fp16_to_fp32(b.d), out.mm = -16 * out.dw;
      break;
    }
    case Type::Q5_1: {
      auto b = load<quant::BlockQ5_1>(p);
      uint32_t qh;
      std::memcpy(&qh, b.qh, 4);
      for (int e = 0; e < 32; e++) out.q[e] = nibble(b.qs, e) | (((qh >> e) & 1) << 4);
      out.dw = fp16_to_fp32(b.d), out.mm = fp16_to_fp32(b.m);
      break;
    }
    case Type::IQ4_NL: {  // signed levels, like Q8_0
      auto b = load<quant::BlockIQ4_NL>(p);
      for (int e = 0; e < 32; e++) out.q[e] = quant::grids::kValuesIq4nl[nibble(b.qs, e)];
      out.dw = fp16_to_fp32(b.d), out.mm = 0;
      break;
    }
    default: {  // Q8_0
      auto b = load<quant::BlockQ8_0>(p);
      for (int e = 0; e < 32; e++) out.q[e] = b.qs[e];
      out.dw = fp16_to_fp32(b.d), out.mm = 0;
      break;
    }
  }
  return out;
}

// One 256-superblock as integers with w = d * sc[e/16] * q[e] - dmin * mn[e/16].
struct SuperInts {
  int q[256];
  int sc[16], mn[16];
  float d, dmin;
};

// The signed i-quants with Q8_K activations: q the signed level, sc the group multiplier, no mins.
// IQ4_XS: w = d * (ls - 32) * kValuesIq4nl[q]; IQ3_S: w = d * (2s + 1) * (±grid); IQ2_S:
// w = d / 8 * (2s + 1) * (±grid), s per 16 elements.
bool iquant_ints(Type type, const uint8_t* p, SuperInts& out) {
  using namespace quant::grids;
  std::fill(out.mn, out.mn + 16, 0);
  out.dmin = 0;
  const auto sign = [](uint8_t signs, int j) { return (signs >> j) & 1 ? -1 : 1; };
  if (type == Type::IQ4_XS) {
    auto b = load<quant::BlockIQ4_XS>(p);
    for (int e = 0; e < 256; e++) out.q[e] = kValuesIq4nl[nibble(b.qs + 16 * (e / 32), e % 32)];
    for (int g = 0; g < 16; g++) out.sc[g] = quant::iq4xs_scale(b, g / 2) - 32;
    out.d = fp16_to_fp32(b.d);
    return true;
  }
  if (type == Type::IQ3_S) {
    auto b = load<quant::BlockIQ3_S>(p);
    for (int e = 0; e < 256; e++) {
      const int g = e / 32, i = (e % 32) / 4;  // entry i of group g: 4 elements
      const uint32_t entry = kGridIq3s[b.qs[8 * g + i] | (((b.qh[g] >> i) & 1) << 8)];
      out.q[e] = int((entry >> (8 * (e % 4))) & 0xff) * sign(b.signs[e / 8], e % 8);
    }
    for (int g = 0; g < 16; g++) out.sc[g] = 1 + 2 * ((b.scales[g / 4] >> (4 * ((g / 2) % 2))) & 0xf);
    out.d = fp16_to_fp32(b.d);
    return true;
  }
  if (type == Type::IQ2_S) {
    auto b = load<quant::BlockIQ2_S>(p);
    for (int e = 0; e < 256; e++) {
      const int run = e / 8, g = run / 4, l = run % 4;
      const uint64_t entry = kGridIq2s[b.qs[run] | (((b.qh[g] >> (2 * l)) & 3) << 8)];
      out.q[e] = int((entry >> (8 * (e % 8))) & 0xff) * sign(b.qs[32 + run], e % 8);
    }
    for (int g = 0; g < 16; g++) out.sc[g] = 1 + 2 * ((b.scales[g / 2] >> (4 * (g % 2))) & 0xf);
    out.d = fp16_to_fp32(b.d) * 0.125f;
    return true;
  }
  return false;
}

SuperInts super_ints(Type type, const uint8_t* p) {
  SuperInts out;
  if (iquant_ints(type, p, out)) return out;
  if (type == Type::Q6_K) {
    auto b = load<quant::BlockQ6_K>(p);
    for (int e = 0; e < 256; e++) {
      const int c = e / 128, g = (e % 128) / 32, l = e % 32;
      const int low = (b.ql[64 * c + 32 * (g & 1) + l] >> (g >= 2 ? 4 : 0)) & 15;
      const int high = (b.qh[32 * c + l] >> (2 * g)) & 3;
      out.q[e] = low | (high << 4);
    }
    for (int g = 0; g < 16; g++) out.sc[g] = b.scales[g], out.mn[g] = 32 * b.scales[g];
    out.d = out.dmin = fp16_to_fp32(b.d);
    return out;
  }
  // Q4_K / Q5_K share the nibble layout and the scales; Q5_K adds a fifth bit from qh.
  const bool five = type == Type::Q5_K;
  const auto q4 = five ? quant::BlockQ4_K{} : load<quant::BlockQ4_K>(p);
  const auto q5 = five ? load<quant::BlockQ5_K>(p) : quant::BlockQ5_K{};
  const uint8_t* qs = five ? q5.qs : q4.qs;
  const uint8_t* scales = five ? q5.scales : q4.scales;
  for (int e = 0; e < 256; e++) {
    const int c = e / 64, l = e % 32;
    int q = e % 64 < 32 ? qs[32 * c + l] & 15 : qs[32 * c + l] >> 4;
    if (five) q |= ((q5.qh[l] >> (e / 32)) & 1) << 4;
    out.q[e] = q;
  }
  for (int g = 0; g < 16; g++) {
    const quant::ScaleMin sm = quant::k_scale_min(scales, g / 2);
    out.sc[g] = sm.scale, out.mn[g] = sm.min;
  }
  out.d = fp16_to_fp32(five ? q5.d : q4.d);
  out.dmin = fp16_to_fp32(five ? q5.dmin : q4.dmin);
  return out;
}

float dot_legacy(Type type, const uint8_t* w, const uint8_t* act, int64_t k) {
  const size_t block_bytes = quant::traits(type).block_bytes;
  const ActQ8_0 a(act, k);
  float sum = 0;
  for (int64_t b = 0; b < k / 32; b++) {
    const LegacyInts block = legacy_ints(type, w + b * block_bytes);
    int isum = 0;
    for (int e = 0; e < 32; e++) isum += block.q[e] * a.qs[32 * b + e];
    sum += block.dw * a.d[b] * (float)isum + block.mm * a.s[b];
  }
  return sum;
}

float dot_kquant(Type type, const uint8_t* w, const uint8_t* act, int64_t k) {
  const size_t block_bytes = quant::traits(type).block_bytes;
  const ActQ8_K a(act, k);
  float sum = 0;
  for (int64_t b = 0; b < k / 256; b++) {
    const SuperInts block = super_ints(type, w + b * block_bytes);
    int isum = 0, minsum = 0;
    for (int g = 0; g < 16; g++) {
      int gsum = 0;
      for (int e = 16 * g; e < 16 * g + 16; e++) gsum += block.q[e] * a.qs[256 * b + e];
      isum += block.sc[g] * gsum;
      minsum += block.mn[g] * a.bsums[16 * b + g];
    }
    sum += a.d[b] * (block.d * (float)isum - block.dmin * (float)minsum);
  }
  return sum;
}

float weight_as_float(Type type, const uint8_t* w, int64_t i) {
  uint16_t h;
  switch (type) {
    case Type::F32: {
      float f;
      std::memcpy(&f, w + 4 * i, 4);
      return f;
    }
    case Type::F16: std::memcpy(&h, w + 2 * i, 2); return fp16_to_fp32(h);
    default: std::memcpy(&h, w + 2 * i, 2); return bf16_to_fp32(h);
  }
}

float dot_float(Type type, const uint8_t* w, const uint8_t* act, int64_t k) {
  const float* x = (const float*)act;
  float sum = 0;
  for (int64_t i = 0; i < k; i++) sum += weight_as_float(type, w, i) * x[i];
  return sum;
}

template <Type kType>
void gemm_reference(int64_t k, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* act,
                    size_t act_stride, int64_t n_tokens, float* y, size_t y_stride) {
  for (int64_t t = 0; t < n_tokens; t++)
    for (int64_t r = 0; r < n_rows; r++)
      y[t * y_stride + r] = vec_dot_reference(kType, w + r * w_stride, act + t * act_stride, k);
}

template <Type kType, ActFormat kAct>
constexpr TypeKernels entry() {
  return {kType, kAct, &gemm_reference<kType>, &gemm_reference<kType>};
}

constexpr TypeKernels kTypes[] = {
    entry<Type::Q4_0, ActFormat::Q8_0>(), entry<Type::Q4_1, ActFormat::Q8_0>(),
    entry<Type::Q5_0, ActFormat::Q8_0>(), entry<Type::Q5_1, ActFormat::Q8_0>(),
    entry<Type::Q8_0, ActFormat::Q8_0>(), entry<Type::Q4_K, ActFormat::Q8_K>(),
    entry<Type::Q5_K, ActFormat::Q8_K>(), entry<Type::Q6_K, ActFormat::Q8_K>(),
    entry<Type::F32, ActFormat::F32>(),   entry<Type::F16, ActFormat::F32>(),
    entry<Type::BF16, ActFormat::F32>(),  entry<Type::Q4_0_R8, ActFormat::Q8_0>(),
    entry<Type::Q4_K_R8, ActFormat::Q8_K>(), entry<Type::Q5_0_R8, ActFormat::Q8_0>(),
    entry<Type::IQ4_NL, ActFormat::Q8_0>(),  entry<Type::IQ4_XS, ActFormat::Q8_K>(),
    entry<Type::IQ3_S, ActFormat::Q8_K>(),   entry<Type::IQ2_S, ActFormat::Q8_K>(),
};

}  // namespace

void quantize_q8_0_reference(const float* x, int64_t k, uint8_t* out) {
  int8_t* qs = (int8_t*)out;
  float* d = (float*)(out + k);
  float* s = d + k / 32;
  for (int64_t b = 0; b < k / 32; b++) {
    d[b] = quantize_block(x + 32 * b, 32, qs + 32 * b);
    int sum = 0;
    for (int i = 0; i < 32; i++) sum += qs[32 * b + i];
    s[b] = d[b] * (float)sum;
  }
}

void quantize_q8_k_reference(const float* x, int64_t k, uint8_t* out) {
  int8_t* qs = (int8_t*)out;
  float* d = (float*)(out + k);
  int16_t* bsums = (int16_t*)(d + k / 256);
  for (int64_t b = 0; b < k / 256; b++) d[b] = quantize_block(x + 256 * b, 256, qs + 256 * b);
  for (int64_t g = 0; g < k / 16; g++) {
    int sum = 0;
    for (int i = 0; i < 16; i++) sum += qs[16 * g + i];
    bsums[g] = (int16_t)sum;
  }
}

float vec_dot_reference(Type type, const uint8_t* w_row, const uint8_t* act_row, int64_t k) {
  if (quant::original_type(type) != type) {  // a repacked row: the same integers in another order
    std::vector<uint8_t> row(quant::row_bytes(quant::traits(type), k));
    quant::unpack_row(type, w_row, row.data(), k);
    return vec_dot_reference(quant::original_type(type), row.data(), act_row, k);
  }
  switch (type) {
    case Type::Q4_0: case Type::Q4_1: case Type::Q5_0: case Type::Q5_1: case Type::Q8_0: case Type::IQ4_NL:
      return dot_legacy(type, w_row, act_row, k);
    case Type::Q4_K: case Type::Q5_K: case Type::Q6_K: case Type::IQ4_XS: case Type::IQ3_S: case Type::IQ2_S:
      return dot_kquant(type, w_row, act_row, k);
    default:
      return dot_float(type, w_row, act_row, k);
  }
}

float vec_dot_reference(Type type, ActFormat format, const uint8_t* w_row, const uint8_t* act_row, int64_t k) {
  if (format != ActFormat::BF16) return vec_dot_reference(type, w_row, act_row, k);
  if (type != Type::BF16) fail("bf16 activations are for BF16 weights, not ", quant::type_name(type));
  float sum = 0;
  for (int64_t i = 0; i < k; i++) sum += bf16_to_fp32(load_u16(w_row + 2 * i)) * bf16_to_fp32(load_u16(act_row + 2 * i));
  return sum;
}

const KernelTable& int8_reference_table() {
  static const KernelTable table{Isa::Ref, &quantize_q8_0_reference, &quantize_q8_k_reference, kTypes,
                                 int(std::size(kTypes))};
  return table;
}

}  // namespace tandem::kernels
