// tandem tokenize: text -> token ids, with llama.cpp's tokenizer-test defaults
// (no BOS, special-token text not parsed) unless asked otherwise.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace tandem::cli {

void add_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  static std::string model, text, file;
  static bool add_special = false, parse_special = false, json = false, ids_only = false;
  cmd->add_option("-m,--model", model, "GGUF file (its tokenizer is used)");
  auto* prompt_option = cmd->add_option("-p,--prompt", text, "text to tokenize");
  auto* file_option = cmd->add_option("-f,--file", file, "read the text from a file, byte for byte (- : standard input)");
  cmd->add_flag("--add-special", add_special, "add BOS/EOS as the model's metadata says");
  cmd->add_flag("--parse-special", parse_special, "turn special-token text such as <|im_start|> into its token");
  cmd->add_flag("--json", json, "print one JSON array of ids");
  cmd->add_flag("--ids", ids_only, "print only the ids, space separated");
  cmd->callback([prompt_option, file_option] {
    if (prompt_option->count() == 0 && file_option->count() == 0) fail("tokenize needs the text: -p TEXT or -f FILE");
    auto f = gguf::File::open(resolve_model_path(model));
    auto tok = tokenizer::Tokenizer::from_gguf(f);
    auto ids = tok->encode(read_prompt(text, file), add_special, parse_special);
    if (json) {
      std::printf("%s\n", nlohmann::json(ids).dump().c_str());
    } else if (ids_only) {
      for (size_t i = 0; i < ids.size(); i++) std::printf("%s%d", i ? " " : "", ids[i]);
      std::printf("\n");
    } else {
      for (auto id : ids) {
        std::string piece = tok->token_to_piece(id, true);
        std::printf("%6d -> '%s'\n", id, nlohmann::json(piece).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      }
    }
  });
}

}  // namespace tandem::cli
