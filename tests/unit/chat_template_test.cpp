// Real tokenizer.chat_template texts must be recognised as their family and
// render llama.cpp's exact prompt for its standard test conversation.
#include "tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"

namespace tandem::tokenizer {
namespace {

// The conversation of llama.cpp's tests/test-chat-template.cpp; the padded
// assistant reply shows which families trim.
const std::vector<ChatMessage> kConversation = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};

// ---- Real templates, as stored in tokenizer_config.json / GGUF metadata. ----

const std::string kOpenHermesChatml =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// tokenizer.chat_template of /work/shared/conformance/qwen2/model-F32.gguf.
const std::string kQwen2ConformanceGguf =
    "{% set system_message = 'You are a helpful assistant.' %}{% if messages[0]['role'] == 'system' %}{% set "
    "system_message = messages[0]['content'] %}{% endif %}{% if system_message is defined %}{{ '<|im_start|>system\n' "
    "+ system_message + '<|im_end|>\n' }}{% endif %}{% for message in messages %}{% set content = message['content'] "
    "%}{% if message['role'] == 'user' %}{{ '<|im_start|>user\n' + content + '<|im_end|>\n<|im_start|>assistant\n' "
    "}}{% elif message['role'] == 'assistant' %}{{ content + '<|im_end|>' + '\n' }}{% endif %}{% endfor %}";

// meta-llama/Llama-2-7b-chat-hf.
const std::string kLlama2Chat =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif "
    "%}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if "
    "message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] "
    "== 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

// mistralai/Mistral-7B-Instruct-v0.1 (also Mixtral-8x7B-Instruct-v0.1, Mistral-7B-Instruct-v0.2).
const std::string kMistral7BInstructV01 =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
    "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles "
    "are supported!') }}{% endif %}{% endfor %}";

// TheBloke/FusionNet_34Bx2_MoE-AWQ: repeats BOS before every later [INST].
const std::string kFusionNet =
    "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > 1 "
    "-%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- "
    "messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n{{- "
    "'[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == "
    "'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}";

// mistralai 'v1' template with a system prompt (Mistral's cookbook).
const std::string kMistralV1 = R"tpl({%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
)tpl";

// mistralai/Mistral-Large-Instruct-2411 ('v7').
const std::string kMistralLarge2411V7 =
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] "
    "+ '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + "
    "'[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else "
    "%}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %}";

// meta-llama/Meta-Llama-3-8B-Instruct.
const std::string kLlama3Instruct =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 "
    "%}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

// microsoft/Phi-3-mini-4k-instruct (also in /work/shared/tokenizers/ggml-vocab-phi-3.gguf).
const std::string kPhi3Mini =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + "
    "message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') "
    "%}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}";

// google/gemma-2-9b-it.
const std::string kGemma2It =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% "
    "endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ "
    "raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if "
    "(message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif "
    "%}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if "
    "add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

// HuggingFaceH4/zephyr-7b-beta.
const std::string kZephyr7BBeta =
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
    "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token "
    "}}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% "
    "endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

// Mistral-Large-Instruct-2407 ('v3'), as in llama.cpp's tests/test-chat-template.cpp.
const std::string kMistralLarge2407V3 = R"tpl({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)tpl";

// Mistral-Nemo-Instruct-2407 ('v3-tekken'), as in llama.cpp's tests/test-chat-template.cpp.
const std::string kMistralNemo2407V3Tekken = R"tpl({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS][" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST]" + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST]" + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS][" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS]{"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)tpl";

// ChatGLM3, ChatGLM4 (glm-4-9b-chat) and MiniCPM templates as llama.cpp's
// tests/test-chat-template.cpp has them.
const std::string kChatGlm3 =
    "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\n {{ message['content'] "
    "}}{% else %}<|{{ message['role'] }}|>\n {{ message['content'] }}{% endif %}{% endfor %}{% if "
    "add_generation_prompt %}<|assistant|>{% endif %}";

const std::string kChatGlm4 =
    "[gMASK]<sop>{% for item in messages %}{% if item['tools'] is defined %}<|system|>\n"
    "\u4f60\u662f\u4e00\u4e2a\u540d\u4e3a ChatGLM \u7684\u4eba\u5de5\u667a\u80fd\u52a9\u624b\u3002"
    "\u4f60\u662f\u57fa\u4e8e\u667a\u8c31AI\u8bad\u7ec3\u7684\u8bed\u8a00\u6a21\u578b GLM-4 "
    "\u6a21\u578b\u5f00\u53d1\u7684\uff0c\u4f60\u7684\u4efb\u52a1\u662f\u9488\u5bf9\u7528\u6237"
    "\u7684\u95ee\u9898\u548c\u8981\u6c42\u63d0\u4f9b\u9002\u5f53\u7684\u7b54\u590d\u548c\u652f"
    "\u6301\u3002\n\n# \u53ef\u7528\u5de5\u5177{% set tools = item['tools'] %}{% for tool in tools %}{% if "
    "tool['type'] == 'function' %}\n\n## {{ tool['function']['name'] }}\n\n{{ tool['function'] | "
    "tojson(indent=4) }}\n......{% endif %}{% endfor %}{% endif %}{% if item['content'] %}<|{{ item['role'] "
    "}}|>{{ item['metadata'] }}\n{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt "
    "%}<|assistant|>\n{% endif %}";

const std::string kMiniCpm =
    "{% for message in messages %}{% if message['role'] == 'user' %}{{'<\u7528\u6237>' + "
    "message['content'].strip() + '<AI>'}}{% else %}{{message['content'].strip()}}{% endif %}{% endfor %}";

// Real templates of the newer families, from llama.cpp's models/templates (tests/data/chat_templates).
const std::string& template_file(const std::string& name) {
  static std::map<std::string, std::string> cache;
  std::string& text = cache[name];
  if (text.empty()) {
    std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/tests/data/chat_templates/" + name, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  return text;
}

const std::string kChatmlExpected =
    "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
    "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
    "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
    "<|im_start|>assistant\n";

const std::string kChatGlm4Expected =
    "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are "
    "you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>\n";

struct RealTemplateCase {
  std::string model;  // test name
  const std::string* template_text;
  std::string family;
  std::string bos, eos;
  std::string expected;
};

// Expected prompts are llama.cpp's (tests/test-chat-template.cpp; for the real Qwen3,
// SmolLM3 and GLM-4.6 templates, the family it detects them as). Its tests have
// no Zephyr case: that one was rendered from the template with Jinja. Gemma-2's is
// llama.cpp's Gemma expectation (same turns; the system text joins the first user turn).
std::vector<RealTemplateCase> real_template_cases() {
  return {
      {"OpenHermes", &kOpenHermesChatml, "chatml", "", "",
       "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
       "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
       "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
       "<|im_start|>assistant\n"},
      {"Qwen2ConformanceGguf", &kQwen2ConformanceGguf, "chatml", "", "",
       "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
       "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
       "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
       "<|im_start|>assistant\n"},
      {"Llama2Chat", &kLlama2Chat, "llama2-sys-strip", "<s>", "</s>",
       "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
       "[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]"},
      {"Mistral7BInstructV01", &kMistral7BInstructV01, "llama2", "", "</s>",
       "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   "
       "</s>[INST] Another question [/INST]"},
      {"FusionNet", &kFusionNet, "llama2-sys-bos", "<s>", "</s>",
       "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you "
       "[/INST]   I am an assistant   </s><s>[INST] Another question [/INST]"},
      {"MistralV1", &kMistralV1, "mistral-v1", "", "</s>",
       " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an "
       "assistant   </s> [INST] Another question [/INST]"},
      {"MistralLarge2407V3", &kMistralLarge2407V3, "mistral-v3", "", "</s>",
       "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an "
       "assistant</s>[INST] Another question[/INST]"},
      {"MistralNemo2407V3Tekken", &kMistralNemo2407V3Tekken, "mistral-v3-tekken", "", "</s>",
       "[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   "
       "</s>[INST]Another question[/INST]"},
      {"MistralLarge2411V7", &kMistralLarge2411V7, "mistral-v7", "", "</s>",
       "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are "
       "you[/INST]    I am an assistant   </s>[INST] Another question[/INST]"},
      {"Llama3Instruct", &kLlama3Instruct, "llama3", "<|begin_of_text|>", "<|eot_id|>",
       "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
       "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
       "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
       "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
       "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
       "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
       "<|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"Phi3Mini", &kPhi3Mini, "phi3", "<s>", "<|endoftext|>",
       "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
       "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother "
       "question<|end|>\n<|assistant|>\n"},
      {"Gemma2It", &kGemma2It, "gemma", "<bos>", "<eos>",
       "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi "
       "there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an "
       "assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n"},
      {"ChatGlm3", &kChatGlm3, "chatglm3", "", "",
       "[gMASK]sop<|system|>\n You are a helpful assistant<|user|>\n Hello<|assistant|>\n Hi there<|user|>\n Who are "
       "you<|assistant|>\n    I am an assistant   <|user|>\n Another question<|assistant|>"},
      {"ChatGlm4", &kChatGlm4, "chatglm4", "", "", kChatGlm4Expected},
      {"MiniCpm", &kMiniCpm, "minicpm", "", "",
       "You are a helpful assistant<\u7528\u6237>Hello<AI>Hi there<\u7528\u6237>Who are you<AI>I am an "
       "assistant<\u7528\u6237>Another question<AI>"},
      {"Qwen3", &template_file("Qwen-Qwen3-0.6B.jinja"), "chatml", "", "", kChatmlExpected},
      {"SmolLM3", &template_file("HuggingFaceTB-SmolLM3-3B.jinja"), "chatml", "", "", kChatmlExpected},
      {"Glm46", &template_file("GLM-4.6.jinja"), "chatglm4", "", "", kChatGlm4Expected},
      {"Zephyr7BBeta", &kZephyr7BBeta, "zephyr", "<s>", "</s>",
       "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n"
       "<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n"
       "<|assistant|>\n"},
  };
}

class RealTemplate : public ::testing::TestWithParam<RealTemplateCase> {};

TEST_P(RealTemplate, IsDetectedAsItsFamily) {
  EXPECT_EQ(detect_chat_template(*GetParam().template_text), GetParam().family);
}

TEST_P(RealTemplate, RendersLlamaCppPrompt) {
  const RealTemplateCase& c = GetParam();
  EXPECT_EQ(apply_chat_template(*c.template_text, "", kConversation, true, c.bos, c.eos), c.expected);
}

TEST_P(RealTemplate, ForcingTheDetectedNameRendersTheSame) {
  const RealTemplateCase& c = GetParam();
  EXPECT_EQ(apply_chat_template("", c.family, kConversation, true, c.bos, c.eos), c.expected);
}

INSTANTIATE_TEST_SUITE_P(ChatTemplate, RealTemplate, ::testing::ValuesIn(real_template_cases()),
                         [](const auto& info) { return info.param.model; });

// The templates as the shared GGUF files store them, read through the GGUF reader.
TEST(ChatTemplate, SharedGgufTemplatesAreDetected) {
  const auto qwen2 = gguf::File::open(test::shared_path("conformance/qwen2/model-F32.gguf"));
  const std::string qwen2_template = qwen2.get_string("tokenizer.chat_template");
  EXPECT_EQ(qwen2_template, kQwen2ConformanceGguf);
  EXPECT_EQ(detect_chat_template(qwen2_template), "chatml");

  const auto phi3 = gguf::File::open(test::shared_path("tokenizers/ggml-vocab-phi-3.gguf"));
  const std::string phi3_template = phi3.get_string("tokenizer.chat_template");
  EXPECT_EQ(phi3_template, kPhi3Mini);
  EXPECT_EQ(detect_chat_template(phi3_template), "phi3");
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a tandem::Error";
  return "";
}

TEST(ChatTemplate, UnknownTemplateAsksForChatTemplateFlag) {
  const std::string message = error_message([] {
    apply_chat_template("{% for m in messages %}<<{{ m.role }}>>{{ m.content }}{% endfor %}", "", kConversation,
                        true, "<s>", "</s>");
  });
  EXPECT_NE(message.find("not recognised"), std::string::npos) << message;
  EXPECT_NE(message.find("--chat-template"), std::string::npos) << message;
  EXPECT_NE(message.find("chatml"), std::string::npos) << message;
  EXPECT_NE(message.find("zephyr"), std::string::npos) << message;
}

TEST(ChatTemplate, EmptyTemplateAsksForChatTemplateFlag) {
  const std::string message = error_message([] { apply_chat_template("", "", kConversation, true, "<s>", "</s>"); });
  EXPECT_NE(message.find("--chat-template"), std::string::npos) << message;
  EXPECT_NE(message.find("llama3"), std::string::npos) << message;
}

TEST(ChatTemplate, UnknownForcedNameListsTheNames) {
  const std::string message = error_message(
      [] { apply_chat_template(kOpenHermesChatml, "vicuna", kConversation, true, "<s>", "</s>"); });
  EXPECT_NE(message.find("'vicuna'"), std::string::npos) << message;
  for (const std::string& name : chat_template_names()) {
    EXPECT_NE(message.find(name), std::string::npos) << name << " missing from: " << message;
  }
}

TEST(ChatTemplate, ForcedNameOverridesDetection) {
  const std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(apply_chat_template(kOpenHermesChatml, "llama3", messages, true, "", ""),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, EveryNameDetectsAsItselfAndRenders) {
  const std::vector<std::string> names = chat_template_names();
  for (const char* required :
       {"llama2", "mistral", "llama3", "chatml", "phi3", "gemma", "zephyr", "chatglm3", "chatglm4", "minicpm"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
  for (const std::string& name : names) {
    EXPECT_EQ(detect_chat_template(name), name);
    EXPECT_FALSE(apply_chat_template(name, "", kConversation, true, "<s>", "</s>").empty()) << name;
  }
}

TEST(ChatTemplate, MistralIsMistralV3) {
  EXPECT_EQ(apply_chat_template("", "mistral", kConversation, true, "", "</s>"),
            apply_chat_template("", "mistral-v3", kConversation, true, "", "</s>"));
}

TEST(ChatTemplate, ForcedVariantsWithoutARealTemplateHere) {
  EXPECT_EQ(apply_chat_template("", "llama2-sys", kConversation, true, "<s>", "</s>"),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you "
            "[/INST]   I am an assistant   </s>[INST] Another question [/INST]");
  EXPECT_EQ(apply_chat_template("", "mistral-v7-tekken", kConversation, true, "<s>", "</s>"),
            "[SYSTEM_PROMPT]You are a helpful assistant[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there</s>[INST]Who are "
            "you[/INST]   I am an assistant   </s>[INST]Another question[/INST]");
}

TEST(ChatTemplate, WithoutGenerationPromptTheLastTurnIsOpenEnded) {
  const std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(apply_chat_template(kOpenHermesChatml, "", messages, false, "", ""), "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(apply_chat_template(kGemma2It, "", messages, false, "", ""), "<start_of_turn>user\nHi<end_of_turn>\n");
}

TEST(ChatTemplate, UsesTheModelsSpecialTokenText) {
  EXPECT_EQ(apply_chat_template(kFusionNet, "", kConversation, true, "<BOS>", "<EOS>"),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there<EOS><BOS>[INST] Who are "
            "you [/INST]   I am an assistant   <EOS><BOS>[INST] Another question [/INST]");
  EXPECT_EQ(apply_chat_template(kZephyr7BBeta, "", {{"user", "Hi"}}, true, "", "<|endoftext|>"),
            "<|user|>\nHi<|endoftext|>\n<|assistant|>\n");
}

TEST(ChatTemplate, LookalikeTemplatesAreNotMisrendered) {
  // Phi-4 and SmolVLM use ChatML's tokens in another layout; GLM-Edge uses Zephyr's without EOS.
  EXPECT_EQ(detect_chat_template("{{'<|im_start|>' + message['role'] + '<|im_sep|>' + message['content']}}"), "");
  EXPECT_EQ(detect_chat_template("<|im_start|>{{ message['content'] }}<end_of_utterance>"), "");
  EXPECT_EQ(detect_chat_template("{% if item['role'] == 'user' %}<|user|>\n{{ item['content'] }}{% endif "
                                 "%}<|assistant|>"),
            "");
  // A GLM template that is neither ChatGLM3's nor GLM-4's prefix is not guessed at.
  EXPECT_EQ(detect_chat_template("[gMASK]{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"), "");
  EXPECT_EQ(detect_chat_template(""), "");
}

TEST(ChatTemplate, RejectsAnUnknownRole) {
  const std::string message = error_message(
      [] { apply_chat_template(kOpenHermesChatml, "", {{"user", "Hi"}, {"tool", "42"}}, true, "", ""); });
  EXPECT_NE(message.find("'tool'"), std::string::npos) << message;
}

}  // namespace
}  // namespace tandem::tokenizer
