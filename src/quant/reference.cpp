#include "quant/reference.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/repack.h"

namespace tandem::quant {
namespace {

// Every decoder turns n_blocks consecutive blocks into floats.
using DecodeBlocks = void (*)(const uint8_t* src, float* dst, int64_t n_blocks);

template <class Block>
void decode_blocks(const uint8_t* src, float* dst, int64_t n_blocks) {
  for (int64_t i = 0; i < n_blocks; i++) {
    Block block;
    std::memcpy(&block, src + i * sizeof(Block), sizeof(Block));
    decode(block, dst + i * Block::kElems);
  }
}

void decode_f32(const uint8_t* src, float* dst, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

template <float (*convert)(uint16_t)>
void decode_half(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = convert(load_u16(src + 2 * i));
}

struct Decoder {
  Type type;
  int elems_per_block;
  int bytes_per_block;
  DecodeBlocks decode;
};

template <class Block>
constexpr Decoder block_decoder() {
  return {Block::kType, Block::kElems, int(sizeof(Block)), &decode_blocks<Block>};
}

constexpr Decoder kDecoders[] = {
    {Type::F32, 1, 4, &decode_f32},
    {Type::F16, 1, 2, &decode_half<fp16_to_fp32>},
    {Type::BF16, 1, 2, &decode_half<bf16_to_fp32>},
    block_decoder<BlockQ4_0>(),
    block_decoder<BlockQ4_1>(),
    block_decoder<BlockQ5_0>(),
    block_decoder<BlockQ5_1>(),
    block_decoder<BlockQ8_0>(),
    block_decoder<BlockQ2_K>(),
    block_decoder<BlockQ3_K>(),
    block_decoder<BlockQ4_K>(),
    block_decoder<BlockQ5_K>(),
    block_decoder<BlockQ6_K>(),
    block_decoder<BlockIQ4_NL>(),
    block_decoder<BlockIQ4_XS>(),
    block_decoder<BlockIQ3_S>(),
    block_decoder<BlockIQ3_XXS>(),
    block_decoder<BlockIQ2_S>(),
    block_decoder<BlockIQ2_XS>(),
    block_decoder<BlockIQ2_XXS>(),
    block_decoder<BlockIQ1_M>(),
    block_decoder<BlockIQ1_S>(),
    block_decoder<BlockTQ2_0>(),
    block_decoder<BlockTQ1_0>(),
};

std::string_view name_of(Type type) {
  const auto known = traits_of(uint32_t(type));
  return known ? known->name : std::string_view("<unknown>");
}

const Decoder* find_decoder(Type type) {
  for (const Decoder& decoder : kDecoders)
    if (decoder.type == type) return &decoder;
  return nullptr;
}

const Decoder& decoder_for(Type type, int64_t n, const char* operation) {
  const Decoder* decoder = find_decoder(type);
  if (!decoder) fail(operation, ": no reference implementation for tensor type ", name_of(type), " (id ", uint32_t(type), ")");
  if (n < 0 || n % decoder->elems_per_block != 0)
    fail(operation, ": row length ", n, " is not a multiple of the ", name_of(type), " block size ", decoder->elems_per_block);
  return *decoder;
}

constexpr int64_t kChunkElems = 256;  // the largest block; every block size divides it

// A repacked row (quant/repack.h) back in its GGUF layout, in a per-thread buffer.
const uint8_t* unpacked(Type type, const void* row, int64_t n) {
  thread_local std::vector<uint8_t> buffer;
  buffer.resize(row_bytes(traits(type), n));
  unpack_row(type, static_cast<const uint8_t*>(row), buffer.data(), n);
  return buffer.data();
}

}  // namespace

bool has_reference(Type type) { return find_decoder(original_type(type)) != nullptr; }

void dequantize_row(Type type, const void* src, float* dst, int64_t n) {
  if (original_type(type) != type) return dequantize_row(original_type(type), unpacked(type, src, n), dst, n);
  const Decoder& decoder = decoder_for(type, n, "dequantize_row");
  decoder.decode(static_cast<const uint8_t*>(src), dst, n / decoder.elems_per_block);
}

float dot_row(Type type, const void* row, const float* x, int64_t n) {
  if (original_type(type) != type) return dot_row(original_type(type), unpacked(type, row, n), x, n);
  const Decoder& decoder = decoder_for(type, n, "dot_row");
  const auto* bytes = static_cast<const uint8_t*>(row);
  float weights[kChunkElems];
  float total = 0.0f;
  for (int64_t start = 0; start < n; start += kChunkElems) {
    const int64_t count = n - start < kChunkElems ? n - start : kChunkElems;
    const int64_t blocks = count / decoder.elems_per_block;
    decoder.decode(bytes + start / decoder.elems_per_block * decoder.bytes_per_block, weights, blocks);
    float chunk_sum = 0.0f;
    for (int64_t i = 0; i < count; i++) chunk_sum += weights[i] * x[start + i];
    total += chunk_sum;
  }
  return total;
}

}  // namespace tandem::quant
