// The whole privacy check a routed request goes through (issue 17): normalization,
// the pattern scanners and the classifier (router::check_privacy), on 1 KB prompts in
// English and Chinese; also its two halves alone. Target: median under 2 ms.
//   ./build/privacy_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "privacy/classifier.h"
#include "router/privacy_check.h"

using namespace tandem;

namespace {

// Repeats a realistic pasted request up to `bytes` (whole sentences), so the check
// reads prose, numbers and names as it would in a long prompt.
std::string prompt(const std::string& sentences, size_t bytes) {
  std::string out;
  while (out.size() + sentences.size() <= bytes) out += sentences;
  return out.empty() ? sentences : out;
}

const std::string& english_kb() {
  static const std::string text = prompt(
      "Please summarise this email thread before my 3 pm call. Hi team, the Q3 launch moved to October 14 "
      "because the supplier in Shenzhen shipped late. Maria will update the deck, and I still need the budget "
      "figures from finance. Also, my doctor says the blood test came back fine, so I'm back on Monday. ",
      1024);
  return text;
}

const std::string& chinese_kb() {
  static const std::string text = prompt(
      "帮我总结一下这封邮件：各位好，第三季度的发布会推迟到十月十四日，因为深圳的供应商发货晚了。"
      "王经理会更新演示文稿，财务的预算数字还没给我。另外我上周体检的结果出来了，医生说没事，周一回来上班。",
      1024);
  return text;
}

void BM_PrivacyCheck(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    auto verdict = router::check_privacy(text, {}, privacy::Strictness::Balanced);
    benchmark::DoNotOptimize(verdict);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
}

void BM_Scanners(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    auto findings = router::find_pii(text);
    benchmark::DoNotOptimize(findings);
  }
}

void BM_Classifier(benchmark::State& state, const std::string& text) {
  const privacy::Classifier& model = privacy::Classifier::embedded();
  for (auto _ : state) {
    auto prediction = model.predict(text);
    benchmark::DoNotOptimize(prediction);
  }
}

void BM_Spans(benchmark::State& state, const std::string& text) {
  const privacy::Classifier& model = privacy::Classifier::embedded();
  for (auto _ : state) {
    auto spans = model.spans(text);
    benchmark::DoNotOptimize(spans);
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_PrivacyCheck, en_1KB, english_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PrivacyCheck, zh_1KB, chinese_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scanners, en_1KB, english_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scanners, zh_1KB, chinese_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Classifier, en_1KB, english_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Classifier, zh_1KB, chinese_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Spans, en_1KB, english_kb())->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Spans, zh_1KB, chinese_kb())->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
