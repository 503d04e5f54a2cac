// `tandem summarize` and `tandem write` end to end: every input kind, the route on
// stderr, the same text at temperature 0, bad input as a clear error with a non-zero
// exit before any model loads, and Ctrl-C stopping a long summary cleanly (exit 130).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "support/mini_pdf.h"
#include "support/test_paths.h"

namespace tandem::test {
namespace {

const std::string kStories = shared_path("models/stories260K.gguf");
const std::string kQwen2 = shared_path("conformance/qwen2/model-F32.gguf");

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string stories_text(size_t bytes) {
  std::ifstream in(shared_path("text/tinystories_head.txt"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str().substr(0, bytes);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string kGreedy = " -m " + kStories + " -t 1 --temp 0 -n 24";

TEST(SummarizeCli, TextFilesStdinAndTheRouteOnStderr) {
  const std::string doc = write_file("story.txt", stories_text(5000));
  const CommandResult r = run_cli("summarize " + doc + kGreedy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_TRUE(contains(r.err, "[route: device; reason=no_router]")) << r.err;
  EXPECT_FALSE(contains(r.err, "reading parts"));  // no progress bar when stderr is not a terminal
  // The same at temperature 0, from standard input too.
  EXPECT_EQ(run_cli("summarize" + kGreedy + " " + doc).out, r.out);
  EXPECT_EQ(run_cli_with_input("summarize -" + kGreedy, stories_text(5000)).out, r.out);
}

TEST(SummarizeCli, HtmlPdfMarkdownAndSeveralFilesTogether) {
  const std::string html = write_file("page.html",
                                      "<html><head><script>evil()</script></head><body><h1>Tom</h1>"
                                      "<p>Tom had a red ball. He played in the park.</p></body></html>");
  const std::string pdf = write_file("doc.pdf", make_pdf({{{"Lily found a cat in the garden.", "",
                                                            "The cat was hungry, so she gave it milk."}}}));
  const std::string md = write_file("notes.md", "# Notes\n\n- Ben saw a dog.\n- The dog ran away.\n");
  for (const std::string& file : {html, pdf, md}) {
    SCOPED_TRACE(file);
    const CommandResult r = run_cli("summarize " + file + kGreedy);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.out.empty());
  }
  const CommandResult together = run_cli("summarize " + html + " " + pdf + " " + md + kGreedy + " --length bullets");
  EXPECT_EQ(together.exit_code, 0) << together.err;
}

TEST(SummarizeCli, ChineseDocumentsAndOptions) {
  const std::string zh = write_file("zh.html",
                                    "<html><body><p>小明有一个红色的球。他每天都在公园里玩。</p>"
                                    "<p>有一天，球掉进了池塘。一只鸭子把球推回了岸边。</p></body></html>");
  const CommandResult r = run_cli("summarize " + zh + kGreedy + " --length short --focus \"谁帮助了小明？\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const CommandResult en = run_cli("summarize " + zh + kGreedy + " --lang en");
  EXPECT_EQ(en.exit_code, 0) << en.err;
  EXPECT_NE(r.out, en.out);  // the prompt's language changed
}

TEST(SummarizeCli, BadInputIsAClearErrorWithANonZeroExit) {
  const std::string empty = write_file("empty.txt", "");
  const std::string binary = write_file("data.bin", std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0", 12));
  const std::string corrupt = write_file("broken.pdf", "%PDF-1.5\n%garbage that is no PDF at all\n");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{empty, "is empty"}, Case{binary, "binary file"}, Case{corrupt, "corrupt PDF"},
                        Case{"/nonexistent/missing.txt", "no such file"}}) {
    SCOPED_TRACE(c.args);
    // A model path that does not exist: the document is checked before any model loads.
    const CommandResult r = run_cli("summarize " + c.args + " -m /nonexistent/model.gguf");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(contains(r.err, "error: ")) << r.err;
    EXPECT_TRUE(contains(r.err, c.message)) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  const std::string doc = write_file("ok.txt", "A short story.");
  EXPECT_TRUE(contains(run_cli("summarize " + doc + kGreedy + " --length tiny").err, "unknown summary length 'tiny'"));
  EXPECT_NE(run_cli("summarize " + doc + kGreedy + " --lang fr").exit_code, 0);
  EXPECT_TRUE(contains(run_cli("summarize " + doc + kGreedy + " --route cloud").err, "--route needs --router"));
  EXPECT_TRUE(contains(run_cli("summarize " + doc + kGreedy + " --format docx").err, "--format"));
}

TEST(SummarizeCli, CtrlCStopsALongSummaryCleanly) {
  // The whole TinyStories head on the qwen2 random model at context 256: hundreds of calls.
  const std::string doc = write_file("long.txt", stories_text(200000));
  const std::string err = temp_path("sigint.err");
  const std::string out = temp_path("sigint.out");
  // Start it, wait until its route is printed (the job runs; Ctrl-C is caught from
  // there on), then send SIGINT as a terminal's Ctrl-C does.
  const std::string script = cli_path() + " summarize " + doc + " -m " + kQwen2 + " -c 256 -t 1 --temp 0 >" + out +
                             " 2>" + err + " & pid=$!; for i in $(seq 600); do grep -q 'route:' " + err +
                             " && break; sleep 0.1; done; sleep 0.5; kill -INT $pid; wait $pid";
  const int status = std::system(("bash -c '" + script + "'").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::ifstream in(err);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_TRUE(contains(s.str(), "tandem: cancelled")) << s.str();
}

TEST(WriteCli, TasksInstructionsInputAndErrors) {
  const CommandResult email = run_cli("write --task email" + kGreedy + " \"ask Li Wei to move the review to Monday\"");
  ASSERT_EQ(email.exit_code, 0) << email.err;
  EXPECT_FALSE(email.out.empty());
  EXPECT_TRUE(contains(email.err, "[route: device; reason=no_router]"));
  EXPECT_EQ(run_cli("write --task email" + kGreedy + " ask Li Wei to move the review to Monday").out, email.out);

  const std::string draft = write_file("draft.txt", "me and him goes to the park yesterday and it were fun");
  const CommandResult polish = run_cli("write --task polish --input " + draft + kGreedy + " --tone formal");
  EXPECT_EQ(polish.exit_code, 0) << polish.err;
  EXPECT_EQ(run_cli_with_input("write --task translate --input -" + kGreedy, "今天天气很好。").exit_code, 0);

  EXPECT_TRUE(contains(run_cli("write --task polish" + kGreedy).err, "needs input text"));
  EXPECT_TRUE(contains(run_cli("write --task sonnet" + kGreedy + " x").err, "unknown writing task 'sonnet' (tasks: email"));
  EXPECT_NE(run_cli("write" + kGreedy + " hello").exit_code, 0);  // --task is required
  EXPECT_TRUE(contains(run_cli("write --task reply --input /nonexistent/msg.txt" + kGreedy).err, "no such file"));
}

}  // namespace
}  // namespace tandem::test
