// tandem quantize IN.gguf OUT.gguf TYPE [--imatrix FILE]: llama-quantize's per-tensor mixes,
// written tensor by tensor (streaming), so a 7B model never sits in memory: only the mapped
// input and one chunk of rows per tensor at a time. An importance matrix (llama-imatrix's
// GGUF or legacy .dat) steers the mix and the quantizers that take one (IQ4_*, Q4_K .. Q6_K).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/file.h"
#include "gguf/imatrix.h"
#include "gguf/writer.h"
#include "quant/quantize.h"
#include "quant/recipes.h"
#include "quant/reference.h"

namespace tandem::cli {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION
constexpr uint64_t kChunkInputBytes = 32ull << 20;  // float input quantized per parallel step

bool is_float_type(quant::Type t) { return t == quant::Type::F32 || t == quant::Type::F16 || t == quant::Type::BF16; }

// A one-line bar on a terminal, nothing otherwise (logs and pipes stay clean).
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(std::max<uint64_t>(total, 1)), enabled_(::isatty(::fileno(stderr))) {}
  void advance(uint64_t done, const std::string& what) {
    done_ += done;
    if (!enabled_) return;
    const int width = 30, filled = int(width * done_ / total_);
    std::fprintf(stderr, "\r[%s%s] %3d%% %-40.40s", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), int(100 * done_ / total_), what.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_, done_ = 0;
  bool enabled_;
};

struct Job {
  const gguf::TensorInfo* source;
  quant::TypeChoice choice;
  const float* importance = nullptr;  // the importance matrix's weights for this tensor, if any
};

// What llama-quantize records of an importance matrix (strings cut at 127 bytes, as it does).
void record_importance(gguf::Writer& writer, const gguf::ImportanceMatrix& im, const std::string& path) {
  writer.set("quantize.imatrix.file", gguf::Value::string(path.substr(0, 127)));
  if (!im.datasets.empty()) writer.set("quantize.imatrix.dataset", gguf::Value::string(im.datasets[0].substr(0, 127)));
  writer.set("quantize.imatrix.entries_count", gguf::Value::u32(uint32_t(im.weights.size())));
  if (im.chunk_count > 0) writer.set("quantize.imatrix.chunks_count", gguf::Value::u32(im.chunk_count));
}

quant::ModelFacts facts_of(const gguf::File& file) {
  quant::ModelFacts facts;
  facts.arch = file.find_string("general.architecture").value_or("");
  const std::string p = facts.arch + ".";
  facts.n_layer = int(file.find_uint(p + "block_count").value_or(0));
  facts.n_head = int(file.find_uint(p + "attention.head_count").value_or(1));
  facts.n_head_kv = int(file.find_uint(p + "attention.head_count_kv").value_or(uint64_t(facts.n_head)));
  return facts;
}

// Converts one tensor chunk by chunk; threads split each chunk's rows.
void convert_tensor(const Job& job, ThreadPool& pool, const gguf::Writer::Sink& sink, Progress& progress) {
  const gguf::TensorInfo& t = *job.source;
  const quant::Type target = job.choice.type;
  const int64_t row_len = int64_t(t.dims[0]);
  const uint64_t rows = t.rows();
  // Expert tensors (3-D) have one set of weights per expert: dims[1] rows each.
  const uint64_t rows_per_expert = t.dims.size() > 1 ? std::max<uint64_t>(t.dims[1], 1) : 1;
  const size_t in_row = quant::row_bytes(quant::traits(t.type), row_len);
  const size_t out_row = quant::row_bytes(quant::traits(target), row_len);
  const uint64_t rows_per_chunk = std::max<uint64_t>(1, kChunkInputBytes / (sizeof(float) * row_len));
  std::vector<uint8_t> out;
  std::vector<std::vector<float>> scratch(pool.size(), std::vector<float>(t.type == quant::Type::F32 ? 0 : row_len));
  for (uint64_t first = 0; first < rows; first += rows_per_chunk) {
    const uint64_t count = std::min(rows_per_chunk, rows - first);
    out.resize(count * out_row);
    pool.parallel_for(int64_t(count), [&](int64_t begin, int64_t end, int thread) {
      for (int64_t r = begin; r < end; r++) {
        const uint8_t* src = t.data + (first + r) * in_row;
        const float* row = reinterpret_cast<const float*>(src);
        if (t.type != quant::Type::F32) {
          quant::dequantize_row(t.type, src, scratch[thread].data(), row_len);
          row = scratch[thread].data();
        }
        const float* importance =
            job.importance ? job.importance + (first + r) / rows_per_expert * uint64_t(row_len) : nullptr;
        quant::quantize_row_to(target, row, out.data() + r * out_row, row_len, importance);
      }
    });
    sink(out.data(), out.size());
    progress.advance(count * row_len, t.name);
  }
}

void quantize_file(const std::string& in_path, const std::string& out_path, const std::string& type_name,
                   int n_threads, bool allow_requantize, const std::string& imatrix_path) {
  const quant::Recipe& recipe = quant::find_recipe(type_name);
  const gguf::File in = gguf::File::open(in_path);
  gguf::ImportanceMatrix imatrix;
  if (!imatrix_path.empty()) {
    imatrix = gguf::load_importance_matrix(imatrix_path);
    std::printf("%s: %zu importance matrix entries, computed on %u chunks\n", imatrix_path.c_str(), imatrix.weights.size(),
                imatrix.chunk_count);
  }

  std::vector<quant::TensorDesc> descs;
  for (const auto& t : in.tensors()) descs.push_back({t.name, t.type, t.dims});
  const auto choices = quant::choose_types(recipe, facts_of(in), descs, !imatrix_path.empty());

  std::vector<Job> jobs;
  std::map<quant::Type, int> unweighted;  // tensors with importance data whose quantizer takes none
  std::map<std::string, size_t> fallbacks;  // reason -> tensors
  uint64_t work = 0;
  for (size_t i : quant::llama_cpp_order(descs)) {
    const auto& t = in.tensors()[i];
    const quant::TypeChoice& c = choices[i];
    if (c.converted) {
      if (!is_float_type(t.type) && !allow_requantize)
        fail("'", in_path, "' is already quantized (tensor '", t.name, "' is ", quant::type_name(t.type),
             "); quantizing it again loses more quality than quantizing the F32/F16 original. "
             "Pass --allow-requantize to do it anyway");
      if (!quant::has_reference(t.type))
        fail("cannot decode tensor '", t.name, "' of type ", quant::type_name(t.type), " to requantize it");
      if (!quant::can_quantize_to(c.type)) fail("no quantizer for ", quant::type_name(c.type), " (tensor '", t.name, "')");
      work += t.n_elements;
    }
    if (!c.fallback.empty()) ++fallbacks[c.fallback];
    const float* importance = nullptr;
    if (c.converted && !imatrix_path.empty()) {
      const uint64_t experts = t.dims.size() > 2 ? t.dims[2] : 1;
      // llama-quantize ignores a token embedding whose entry does not fit (its weights are
      // per vocabulary entry, not per column), and stops on any other that does not.
      const auto it = imatrix.weights.find(t.name);
      const bool fits = it != imatrix.weights.end() && it->second.size() == t.dims[0] * experts;
      importance = t.name == "token_embd.weight" && !fits ? nullptr : imatrix.find(t.name, t.dims[0] * experts);
      if (importance && !quant::uses_importance(c.type)) unweighted[c.type]++;
    }
    jobs.push_back({&t, c, importance});
  }
  for (const auto& [type, count] : unweighted)
    std::fprintf(stderr,
                 "warning: %d %s tensor(s) have importance data, but Tandem's %s quantizer takes none (llama-quantize's "
                 "does): they are quantized as without an importance matrix\n",
                 count, std::string(quant::type_name(type)).c_str(), std::string(quant::type_name(type)).c_str());
  // One line for all of them: a model's small tensors often share one reason.
  if (!fallbacks.empty()) {
    std::string reasons;
    size_t n = 0;
    for (const auto& [reason, count] : fallbacks) {
      reasons += (reasons.empty() ? "" : "; ") + reason + " (" + std::to_string(count) + (count == 1 ? " tensor)" : " tensors)");
      n += count;
    }
    std::fprintf(stderr, "warning: %zu of %zu tensors use a fallback type: %s\n", n, descs.size(), reasons.c_str());
  }

  gguf::Writer writer;
  for (const auto& [key, value] : in.metadata()) writer.set(key, value);
  writer.set("general.quantization_version", gguf::Value::u32(kQuantizationVersion));
  writer.set("general.file_type", gguf::Value::u32(recipe.file_type));
  if (!imatrix_path.empty()) record_importance(writer, imatrix, imatrix_path);
  for (const Job& job : jobs) writer.declare_tensor(job.source->name, job.choice.type, job.source->dims);

  ThreadPool pool(n_threads);
  Progress progress(work);
  uint64_t bytes_in = 0, bytes_out = 0;
  writer.write_streaming(out_path, [&](size_t index, const gguf::Writer::Sink& sink) {
    const Job& job = jobs[index];
    bytes_in += job.source->n_bytes;
    if (job.choice.converted) {
      convert_tensor(job, pool, sink, progress);
      bytes_out += quant::row_bytes(quant::traits(job.choice.type), job.source->dims[0]) * job.source->rows();
    } else {
      sink(job.source->data, job.source->n_bytes);
      bytes_out += job.source->n_bytes;
    }
  });
  progress.finish();
  std::printf("%s: %zu tensors, %.2f MiB -> %.2f MiB (%s, general.file_type %u)\n", out_path.c_str(), jobs.size(),
              bytes_in / 1048576.0, bytes_out / 1048576.0, std::string(recipe.name).c_str(), recipe.file_type);
}

}  // namespace

void add_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand("quantize", "Quantize a GGUF model with llama-quantize's per-tensor type mixes");
  static std::string in_path, out_path, type;
  static int n_threads = 0;
  static bool allow_requantize = false;
  static std::string imatrix_path;
  cmd->add_option("input", in_path, "F32/F16/BF16 GGUF model")->required();
  cmd->add_option("output", out_path, "GGUF file to write")->required();
  std::string names;
  for (auto n : quant::recipe_names()) names += (names.empty() ? "" : ", ") + std::string(n);
  cmd->add_option("type", type, "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q6_K, IQ4_XS, ... (" + names + ")")
      ->required();
  cmd->add_option("-t,--threads", n_threads, "threads (0: all cores)");
  cmd->add_flag("--allow-requantize", allow_requantize, "allow an already quantized input (loses quality)");
  cmd->add_option("--imatrix", imatrix_path,
                  "importance matrix from llama-imatrix (GGUF or legacy .dat), used by the IQ4_NL, IQ4_XS, Q4_K, Q5_K "
                  "and Q6_K quantizers and the mixes");
  cmd->callback([] { quantize_file(in_path, out_path, type, n_threads, allow_requantize, imatrix_path); });
}

}  // namespace tandem::cli
