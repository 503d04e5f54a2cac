// `tandem quantize ... IQ4_XS|IQ4_NL [--imatrix FILE]` on the conformance llama model: every
// tensor gets llama.cpp's type and ggml's bytes (ggml_quantize_chunk from the peer, with the
// importance matrix's weights where the file has them and the type's quantizer takes them),
// the output records the importance matrix as llama-quantize does and runs; a wrong or
// corrupt importance matrix is an error.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <vector>

#include "gguf/file.h"
#include "quant/types.h"
#include "support/ggml_peer.h"
#include "support/test_paths.h"

namespace tandem {
namespace {

const std::string kModel = "conformance/llama/model-F32.gguf";

// A legacy .dat importance matrix with an entry (calls 2, values 2 * w) for each named
// matrix; weights w from a fixed pattern, positive with some zeros.
std::map<std::string, std::vector<float>> write_imatrix(const std::string& path, const gguf::File& model,
                                                        const std::vector<std::string>& names) {
  std::map<std::string, std::vector<float>> weights;
  std::ofstream out(path, std::ios::binary);
  const auto i32 = [&](int32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  i32(int32_t(names.size()));
  for (const std::string& name : names) {
    const uint64_t n = model.find_tensor(name)->dims[0];
    std::vector<float> w(n), stored(n);
    for (uint64_t i = 0; i < n; i++) w[i] = i % 37 == 3 ? 0.0f : 0.25f + float((i * 7919) % 101) / 10.0f;
    for (uint64_t i = 0; i < n; i++) stored[i] = 2 * w[i];
    i32(int32_t(name.size()));
    out.write(name.data(), std::streamsize(name.size()));
    i32(2);  // calls: llama-quantize divides the stored values by them
    i32(int32_t(n));
    out.write(reinterpret_cast<const char*>(stored.data()), std::streamsize(4 * n));
    weights[name] = w;
  }
  i32(7);  // chunks
  const std::string dataset = "test-data.txt";
  i32(int32_t(dataset.size()));
  out.write(dataset.data(), std::streamsize(dataset.size()));
  return weights;
}

// Every tensor of `out` against the F32 input quantized by ggml to the same type.
void expect_ggmls_bytes(const std::string& out_path, const std::map<std::string, std::vector<float>>& importance) {
  const test::GgmlPeer& peer = test::GgmlPeer::get();
  const auto in = gguf::File::open(test::shared_path(kModel));
  const auto out = gguf::File::open(out_path);
  ASSERT_EQ(in.tensors().size(), out.tensors().size());
  for (const auto& t : out.tensors()) {
    const gguf::TensorInfo* src = in.find_tensor(t.name);
    ASSERT_NE(src, nullptr) << t.name;
    if (t.type == quant::Type::F32) continue;
    const auto it = importance.find(t.name);
    const std::vector<uint8_t> theirs =
        peer.quantize(t.type, reinterpret_cast<const float*>(src->data), int64_t(src->rows()), int64_t(src->dims[0]),
                      it == importance.end() ? nullptr : it->second.data());
    ASSERT_EQ(t.n_bytes, theirs.size()) << t.name;
    EXPECT_EQ(0, std::memcmp(t.data, theirs.data(), theirs.size()))
        << t.name << " (" << quant::type_name(t.type) << (it == importance.end() ? "" : ", with importance") << ")";
  }
}

TEST(QuantizeIQuantsCli, WritesLlamaCppsTypesAndGgmlsBytes) {
  for (const char* type : {"IQ4_XS", "IQ4_NL"}) {
    const std::string out = test::temp_path(std::string("llama-") + type + ".gguf");
    auto r = test::run_cli("quantize '" + test::shared_path(kModel) + "' '" + out + "' " + type + " -t 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto file = gguf::File::open(out);
    EXPECT_EQ(file.get_uint("general.file_type"), std::string(type) == "IQ4_XS" ? 30u : 25u);
    EXPECT_FALSE(file.has("quantize.imatrix.file"));
    std::map<std::string, int> types;
    for (const auto& t : file.tensors()) types[std::string(quant::type_name(t.type))]++;
    EXPECT_EQ(types["Q6_K"], 1) << "output.weight";  // 2 layers, 2 KV heads per 4: no Q5_K rules apply
    EXPECT_EQ(types[type], 15) << type;              // token_embd + 7 matrices x 2 layers
    expect_ggmls_bytes(out, {});
    r = test::run_cli("run -m '" + out + "' -p 'Once upon a time' -n 4 --ignore-eos -t 2 -v");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("generated 4 tokens"), std::string::npos) << r.err;
  }
}

TEST(QuantizeIQuantsCli, AnImportanceMatrixSteersTheQuantizerAndIsRecorded) {
  const auto model = gguf::File::open(test::shared_path(kModel));
  const std::string dat = test::temp_path("llama.imatrix.dat"), out = test::temp_path("llama-IQ4_XS-imatrix.gguf");
  // Some matrices, the output among them (Q6_K, weighted too).
  const auto weights = write_imatrix(dat, model, {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "blk.0.ffn_up.weight",
                                                  "output.weight"});
  auto r = test::run_cli("quantize --imatrix '" + dat + "' '" + test::shared_path(kModel) + "' '" + out + "' IQ4_XS");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("have importance data"), std::string::npos) << r.err;
  expect_ggmls_bytes(out, weights);
  const auto file = gguf::File::open(out);
  EXPECT_EQ(file.get_string("quantize.imatrix.file"), dat);
  EXPECT_EQ(file.get_string("quantize.imatrix.dataset"), "test-data.txt");
  EXPECT_EQ(file.get_uint("quantize.imatrix.entries_count"), 4u);
  EXPECT_EQ(file.get_uint("quantize.imatrix.chunks_count"), 7u);

  // Q4_0's quantizer takes no importance matrix here: its tensors with data are counted.
  const std::string q4 = test::temp_path("llama-Q4_0-imatrix.gguf");
  r = test::run_cli("quantize --imatrix '" + dat + "' '" + test::shared_path(kModel) + "' '" + q4 + "' Q4_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 Q4_0 tensor(s) have importance data"), std::string::npos) << r.err;
  auto importance = weights;
  for (const char* name : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "blk.0.ffn_up.weight"}) importance.erase(name);
  expect_ggmls_bytes(q4, importance);  // the output (Q6_K) weighted, the Q4_0 tensors as without
}

TEST(QuantizeIQuantsCli, AWrongImportanceMatrixIsAnError) {
  const auto model = gguf::File::open(test::shared_path(kModel));
  const std::string out = test::temp_path("never.gguf");
  // An entry whose size is not the matrix's row length: made for another model.
  const std::string wrong = test::temp_path("wrong.dat");
  {
    std::ofstream f(wrong, std::ios::binary);
    const int32_t header[] = {1, int32_t(std::strlen("blk.0.attn_k.weight"))};
    f.write(reinterpret_cast<const char*>(header), 8);
    f.write("blk.0.attn_k.weight", 19);
    const int32_t counts[] = {1, 100};
    f.write(reinterpret_cast<const char*>(counts), 8);
    const std::vector<float> values(100, 1.0f);
    f.write(reinterpret_cast<const char*>(values.data()), 400);
  }
  auto r = test::run_cli("quantize --imatrix '" + wrong + "' '" + test::shared_path(kModel) + "' '" + out + "' IQ4_NL");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("blk.0.attn_k.weight"), std::string::npos) << r.err;
  // Truncated, and missing.
  const std::string cut = test::temp_path("cut.dat");
  std::ofstream(cut, std::ios::binary).write("\x01\x00\x00\x00\x05\x00", 6);
  r = test::run_cli("quantize --imatrix '" + cut + "' '" + test::shared_path(kModel) + "' '" + out + "' IQ4_NL");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("importance matrix"), std::string::npos) << r.err;
  r = test::run_cli("quantize --imatrix /nonexistent.dat '" + test::shared_path(kModel) + "' '" + out + "' IQ4_NL");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.dat"), std::string::npos) << r.err;
  r = test::run_cli("quantize '" + test::shared_path(kModel) + "' '" + out + "' IQ2_XXS");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not write"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem
