// tandem convert-llama2c MODEL.bin TOKENIZER.bin -o OUT.gguf
#include <cstdio>

#include "commands.h"
#include "convert/llama2c.h"

namespace tandem::cli {

void add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert-llama2c", "Convert a llama2.c checkpoint and tokenizer.bin to GGUF");
  static std::string model_bin, tokenizer_bin, out;
  cmd->add_option("model", model_bin, "llama2.c checkpoint (.bin)")->required();
  cmd->add_option("tokenizer", tokenizer_bin, "llama2.c tokenizer (tokenizer.bin / tok512.bin)")->required();
  cmd->add_option("-o,--output", out, "GGUF file to write")->required();
  cmd->callback([] {
    convert::convert_llama2c(model_bin, tokenizer_bin, out);
    std::fprintf(stderr, "wrote %s\n", out.c_str());
  });
}

}  // namespace tandem::cli
