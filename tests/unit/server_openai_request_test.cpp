// The OpenAI request bodies the server accepts (server/openai.h): what a chat and a completion
// request become (the prompt's token ids against the template's rendering written out by hand
// here), and every kind of malformed body: a 400 naming the field, never another exception or
// a crash (this test runs under ASan/UBSan in scripts/test.sh, with a seeded byte-mutation pass).
#include "server/openai.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "model/context.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::server {
namespace {

// A model as the server describes it to request parsing (http_server.cpp builds the same).
struct Loaded {
  std::shared_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  ModelInfo info;
};

const Loaded& loaded(const std::string& relative, const std::string& forced_template = "") {
  static std::map<std::string, Loaded> cache;
  auto [it, inserted] = cache.try_emplace(relative + "|" + forced_template);
  Loaded& l = it->second;
  if (inserted) {
    l.model = model::Model::load(test::shared_path(relative));
    l.tokenizer = tokenizer::Tokenizer::from_gguf(l.model->file());
    l.info.tokenizer = l.tokenizer.get();
    l.info.id = relative;
    l.info.template_text = l.model->file().find_string("tokenizer.chat_template").value_or("");
    l.info.template_name = forced_template;
    l.info.bos_text = l.tokenizer->bos() >= 0 ? l.tokenizer->text(l.tokenizer->bos()) : "";
    l.info.eos_text = l.tokenizer->eos() >= 0 ? l.tokenizer->text(l.tokenizer->eos()) : "";
    l.info.n_ctx = 256;
  }
  return l;
}

// The qwen2 conformance model: Qwen2's ChatML template, <|im_start|> = 1757, <|im_end|> = 1758.
const Loaded& qwen() { return loaded("conformance/qwen2/model-Q8_0.gguf"); }
const Loaded& stories() { return loaded("models/stories260K.gguf", "chatml"); }

ApiRequest chat(const std::string& body, const Loaded& m = qwen()) { return parse_chat_request(parse_body(body), m.info); }
ApiRequest completion(const std::string& body, const Loaded& m = stories()) {
  return parse_completion_request(parse_body(body), m.info);
}

TEST(OpenAiChatRequest, PromptIsTheTemplatesRenderingWrittenOutByHand) {
  // ChatML as llama.cpp's llama_chat_apply_template renders it (the contract of
  // tokenizer/chat_template.h). Qwen2's Jinja text would add a default system message
  // ("You are a helpful assistant."); llama.cpp's built-in renderer does not, nor do we.
  const std::string expected =
      "<|im_start|>user\nHello<|im_end|>\n"
      "<|im_start|>assistant\n";
  const ApiRequest r = chat(R"({"messages":[{"role":"user","content":"Hello"}]})");
  const auto& ids = r.generation.prompt;
  EXPECT_EQ(ids, qwen().tokenizer->encode(expected, true, true));
  // The special tokens are single ids where the rendering puts them (no BOS for qwen2).
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1757);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1757), 2);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1758), 1);
  EXPECT_EQ(qwen().tokenizer->decode(ids, true), expected);
  EXPECT_EQ(r.endpoint, Endpoint::ChatCompletions);
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.generation.options.top_logprobs, -1);
}

TEST(OpenAiChatRequest, SystemDeveloperAssistantAndTextParts) {
  const std::string expected =
      "<|im_start|>system\nBe brief.<|im_end|>\n"
      "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
      "Hello.<|im_end|>\n"
      "<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n";
  const ApiRequest r = chat(R"({"messages":[{"role":"developer","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]},
      {"role":"assistant","content":"Hello."},{"role":"user","content":"Again"}],
      "temperature":0.5,"top_p":0.9,"max_tokens":7,"stop":["\n\n","END"],"seed":3,"stream":true,
      "stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2})");
  EXPECT_EQ(r.generation.prompt, qwen().tokenizer->encode(expected, true, true));
  const auto& o = r.generation.options;
  EXPECT_EQ(o.sampling.temperature, 0.5f);
  EXPECT_EQ(o.sampling.top_p, 0.9f);
  EXPECT_EQ(o.max_tokens, 7);
  EXPECT_EQ(o.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(o.sampling.seed, 3u);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.generation.options.top_logprobs, 2);
}

TEST(OpenAiCompletionRequest, PromptsAsTextIdsAndOneStringArray) {
  const auto& tok = *stories().tokenizer;
  const ApiRequest text = completion(R"({"prompt":"Once upon a time","echo":true,"logprobs":3})");
  EXPECT_EQ(text.generation.prompt, tok.encode("Once upon a time", true, false));
  EXPECT_EQ(text.generation.prompt.front(), tok.bos());
  EXPECT_EQ(text.echo, "Once upon a time");
  EXPECT_EQ(text.generation.options.top_logprobs, 3);
  EXPECT_EQ(completion(R"({"prompt":["Once upon a time"]})").generation.prompt, text.generation.prompt);
  EXPECT_EQ(completion(R"({"prompt":[1,403,407]})").generation.prompt, (std::vector<int32_t>{1, 403, 407}));
  EXPECT_EQ(completion(R"({"prompt":"x","max_tokens":null,"stop":null})").generation.options.max_tokens, -1);
}

struct Malformed {
  const char* body;
  const char* param;  // the field the 400 names ("" for the body as a whole)
};

void expect_400(const std::function<ApiRequest(const std::string&)>& parse, const Malformed& m) {
  try {
    parse(m.body);
    ADD_FAILURE() << "accepted: " << m.body;
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400) << m.body;
    EXPECT_EQ(e.type, "invalid_request_error") << m.body;
    EXPECT_EQ(e.param, m.param) << m.body << ": " << e.what();
    EXPECT_FALSE(std::string(e.what()).empty()) << m.body;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an ApiError for " << m.body << ": " << e.what();
  }
}

TEST(OpenAiChatRequest, MalformedBodiesAreA400NamingTheField) {
  const Malformed cases[] = {
      {"", ""},
      {"{", ""},
      {"[1,2]", ""},
      {"\"messages\"", ""},
      {"{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", ""},  // not UTF-8
      {R"({})", "messages"},
      {R"({"messages":null})", "messages"},
      {R"({"messages":{}})", "messages"},
      {R"({"messages":[]})", "messages"},
      {R"({"messages":["hello"]})", "messages"},
      {R"({"messages":[{"content":"hi"}]})", "messages"},
      {R"({"messages":[{"role":7,"content":"hi"}]})", "messages"},
      {R"({"messages":[{"role":"tool","content":"hi"}]})", "messages"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":"x"}]}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":[{"type":"text","text":7}]}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":["text"]}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":"hi"}],"temperature":"hot"})", "temperature"},
      {R"({"messages":[{"role":"user","content":"hi"}],"temperature":3})", "temperature"},
      {R"({"messages":[{"role":"user","content":"hi"}],"top_p":-0.1})", "top_p"},
      {R"({"messages":[{"role":"user","content":"hi"}],"top_k":1.5})", "top_k"},
      {R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":-1})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":18446744073709551615})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":"9"})", "max_completion_tokens"},
      {R"({"messages":[{"role":"user","content":"hi"}],"n":2})", "n"},
      {R"({"messages":[{"role":"user","content":"hi"}],"seed":1.5})", "seed"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stop":7})", "stop"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stop":["a",1]})", "stop"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]})", "stop"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stream":"yes"})", "stream"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stream_options":true})", "stream_options"},
      {R"({"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":1}})", "include_usage"},
      {R"({"messages":[{"role":"user","content":"hi"}],"ignore_eos":"no"})", "ignore_eos"},
      {R"({"messages":[{"role":"user","content":"hi"}],"logprobs":1})", "logprobs"},
      {R"({"messages":[{"role":"user","content":"hi"}],"top_logprobs":2})", "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"hi"}],"logprobs":true,"top_logprobs":21})", "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":"json"})", "response_format"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"xml"}})", "response_format"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema"}})", "response_format"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"frobnicate"}}}})", "response_format"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"$ref":"#/nowhere"}}}})", "response_format"},
      {R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string","minLength":5,"maxLength":2}}}})", "response_format"},
  };
  for (const Malformed& m : cases) expect_400([](const std::string& b) { return chat(b); }, m);
}

TEST(OpenAiCompletionRequest, MalformedBodiesAreA400NamingTheField) {
  const Malformed cases[] = {
      {"null", ""},
      {R"({})", "prompt"},
      {R"({"prompt":null})", "prompt"},
      {R"({"prompt":7})", "prompt"},
      {R"({"prompt":[]})", "prompt"},
      {R"({"prompt":["a","b"]})", "prompt"},
      {R"({"prompt":[1,"a"]})", "prompt"},
      {R"({"prompt":[1,2.5]})", "prompt"},
      {R"({"prompt":[1,-3]})", "prompt"},
      {R"({"prompt":[1,512]})", "prompt"},
      {R"({"prompt":[1,9223372036854775807]})", "prompt"},
      {R"({"prompt":""})", "prompt"},  // stories260K adds BOS: not empty, but check_prompt
      {R"({"prompt":[1,2],"echo":true})", "echo"},
      {R"({"prompt":"hi","echo":"yes"})", "echo"},
      {R"({"prompt":"hi","suffix":"x"})", "suffix"},
      {R"({"prompt":"hi","logprobs":true})", "logprobs"},
      {R"({"prompt":"hi","logprobs":21})", "logprobs"},
      {R"({"prompt":"hi","frequency_penalty":2.5})", "frequency_penalty"},
      {R"({"prompt":"hi","repeat_penalty":-1})", "repeat_penalty"},
  };
  for (const Malformed& m : cases) {
    if (std::string(m.body) == R"({"prompt":""})") continue;  // checked below: BOS alone is a prompt
    expect_400([](const std::string& b) { return completion(b); }, m);
  }
  EXPECT_EQ(completion(R"({"prompt":""})").generation.prompt, (std::vector<int32_t>{stories().tokenizer->bos()}));
  // Longer than the context: the code says so.
  std::string long_prompt = R"({"prompt":")";
  for (int i = 0; i < 300; i++) long_prompt += "Once upon a time ";
  long_prompt += "\"}";
  try {
    completion(long_prompt);
    ADD_FAILURE() << "a prompt longer than the context was accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, "context_length_exceeded") << e.what();
  }
}

// "speculative" (a Tandem extension): a loaded draft model is the default, a request may
// pick lookup or none, and a bad method, k or ngram is a 400 naming it.
TEST(OpenAiCompletionRequest, SpeculativeChoosesTheMethodPerRequest) {
  using Method = generate::SpeculativeOptions::Method;
  ModelInfo with_draft = stories().info;
  with_draft.draft_k = 3;
  auto parse = [](const std::string& body, const ModelInfo& info) {
    return parse_completion_request(parse_body(body), info).generation.options.speculative;
  };
  EXPECT_EQ(parse(R"({"prompt":"hi"})", stories().info).method, Method::None);
  const auto by_default = parse(R"({"prompt":"hi"})", with_draft);
  EXPECT_EQ(by_default.method, Method::DraftModel);
  EXPECT_EQ(by_default.k, 3);
  EXPECT_EQ(parse(R"({"prompt":"hi","speculative":{"method":"none"}})", with_draft).method, Method::None);
  EXPECT_EQ(parse(R"({"prompt":"hi","speculative":{"method":"draft","k":7}})", with_draft).k, 7);
  const auto lookup = parse(R"({"prompt":"hi","speculative":{"method":"lookup","k":5,"ngram":2}})", stories().info);
  EXPECT_EQ(lookup.method, Method::Lookup);
  EXPECT_EQ(lookup.k, 5);
  EXPECT_EQ(lookup.ngram, 2);

  const Malformed cases[] = {
      {R"({"prompt":"hi","speculative":"lookup"})", "speculative"},
      {R"({"prompt":"hi","speculative":{"method":"draft"}})", "speculative.method"},  // no draft model
      {R"({"prompt":"hi","speculative":{"method":7}})", "speculative.method"},
      {R"({"prompt":"hi","speculative":{"k":4}})", "speculative.method"},
      {R"({"prompt":"hi","speculative":{"method":"lookup","k":0}})", "speculative.k"},
      {R"({"prompt":"hi","speculative":{"method":"lookup","k":33}})", "speculative.k"},
      {R"({"prompt":"hi","speculative":{"method":"lookup","k":2.5}})", "speculative.k"},
      {R"({"prompt":"hi","speculative":{"method":"lookup","ngram":17}})", "speculative.ngram"},
      {R"({"prompt":"hi","speculative":{"method":"lookup","ngram":"3"}})", "speculative.ngram"},
  };
  for (const Malformed& m : cases) expect_400([](const std::string& b) { return completion(b); }, m);
}

// Deep nesting and huge numbers reach the JSON parser and the field readers intact.
TEST(OpenAiRequest, DeepNestingAndExtremeNumbersAreHandled) {
  std::string deep = R"({"messages":[{"role":"user","content":"hi"}],"metadata":)";
  deep += std::string(20000, '[') + std::string(20000, ']') + "}";
  EXPECT_NO_THROW(chat(deep));  // unknown fields are ignored
  expect_400([](const std::string& b) { return chat(b); },
             {R"({"messages":[{"role":"user","content":"hi"}],"temperature":1e999})", ""});
  expect_400([](const std::string& b) { return completion(b); }, {R"({"prompt":"hi","top_k":-9223372036854775808})", "top_k"});
}

// Seeded byte mutations of valid bodies: every outcome is a request or an ApiError.
TEST(OpenAiRequest, MutatedBodiesParseOrAreA400) {
  const std::string chats[] = {
      R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":0.7,"stop":["x"],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object","properties":{"a":{"type":"integer","minimum":1}},"required":["a"]}}}})",
      R"({"messages":[{"role":"user","content":"Hello"}],"logprobs":true,"top_logprobs":3,"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}})",
  };
  const std::string completions[] = {
      R"({"prompt":"Once upon a time","max_tokens":4,"echo":true,"logprobs":2,"seed":9})",
      R"({"prompt":[1,403,407,261],"stop":"\n","response_format":{"type":"json_object"}})",
      R"({"prompt":"Once upon a time","speculative":{"method":"lookup","k":6,"ngram":2}})",
  };
  std::mt19937 rng(22);
  int accepted = 0, refused = 0;
  auto mutate_and_parse = [&](const std::string& original, bool is_chat) {
    for (int i = 0; i < 300; i++) {
      std::string body = original;
      const int edits = 1 + int(rng() % 3);
      for (int e = 0; e < edits; e++) {
        const size_t at = rng() % body.size();
        switch (rng() % 3) {
          case 0: body[at] = char(rng()); break;
          case 1: body.erase(at, 1 + rng() % 4); break;
          default: body.insert(at, 1, "{}[]\",:0-e9tfn\\"[rng() % 15]); break;
        }
        if (body.empty()) body = "{";
      }
      try {
        is_chat ? chat(body) : completion(body);
        accepted++;
      } catch (const ApiError& error) {
        refused++;
        EXPECT_EQ(error.status, 400) << body;
      } catch (const std::exception& error) {
        ADD_FAILURE() << "not an ApiError for " << body << ": " << error.what();
      }
    }
  };
  for (const auto& body : chats) mutate_and_parse(body, true);
  for (const auto& body : completions) mutate_and_parse(body, false);
  std::printf("  mutated bodies: %d accepted, %d refused with a 400\n", accepted, refused);
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tandem::server
