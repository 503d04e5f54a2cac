#include "router/difficulty.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tandem::router {
namespace {

// A task family, the words that signal it and how much it adds to the score.
// Booking and app/device control are actions the device model cannot carry out
// on its own, so one such word is enough to pass the default threshold (0.5).
struct TaskFamily {
  const char* name;
  double weight;
  std::vector<std::string_view> words;  // matched case-insensitively (ASCII) as substrings
};

const std::vector<TaskFamily>& task_families() {
  static const std::vector<TaskFamily> families = {
      {"booking", 0.6,
       {"book a", "book me", "book the", "booking", "reserve", "reservation", "buy a ticket", "buy tickets",
        "purchase", "check in for", "order a", "order me", "订机票", "订票", "订酒店", "订餐", "预订", "预定", "预约",
        "买票", "购票", "订一", "订个", "订张", "帮我订", "下单", "抢票", "挂号", "find me tickets", "tickets to",
        "电影票", "门票", "机票", "车票", "买两张", "买一张"}},
      // Live facts (flight status, parcels, weather) need a service the device model does not have.
      {"live_info", 0.55,
       {"on time", "flight status", "track my", "tracking", "order number", "where is my order", "weather",
        "forecast", "stock price", "exchange rate", "news", "航班", "准点", "快递", "单号", "订单号", "几点到", "高铁",
        "天气", "股价", "汇率", "新闻"}},
      {"device_control", 0.6,
       {"open the app", "open app", "launch", "turn on", "turn off", "switch on", "switch off", "set an alarm",
        "set alarm", "set a timer", "send a message", "send message", "text mom", "call mom", "dial", "enable",
        "disable", "brightness", "volume", "bluetooth", "wi-fi", "wifi", "airplane mode", "take a screenshot",
        "remind me", "play my", "open spotify", "open wechat", "提醒我", "播放",
        "打开", "关闭", "开启", "启动", "设置闹钟", "定个闹钟", "闹钟", "发消息", "发短信", "发微信", "打电话", "拨打",
        "调高", "调低", "调到", "亮度", "音量", "蓝牙", "飞行模式", "截屏", "截图"}},
      {"planning", 0.5,
       {"plan a", "plan my", "itinerary", "schedule", "step by step", "step-by-step", "strategy", "roadmap",
        "规划", "计划", "行程", "攻略", "安排", "方案"}},
      {"reasoning", 0.45,
       {"prove", "derive", "analyze", "analyse", "compare", "evaluate", "explain why", "pros and cons",
        "explain the difference", "puzzle", "design a", "architecture", "设计", "架构", "算一下", "计算", "区别",
        "trade-off", "tradeoff", "optimize", "calculate the", "solve", "证明", "推导", "分析", "比较", "对比", "评估",
        "优缺点", "为什么", "优化", "求解"}},
      {"coding", 0.55,
       {"write code", "write a function", "write a program", "implement", "debug", "refactor", "python", "c++",
        "javascript", "sql", "algorithm", "代码", "编程", "函数", "程序", "算法", "调试"}},
      {"long_form", 0.5,
       {"essay", "report", "article", "detailed", "in detail", "thorough", "comprehensive", "research",
        "cover letter", "resume", "meal plan", "求职信", "简历",
        "文章", "报告", "论文", "详细", "全面", "深入", "调研"}},
  };
  return families;
}

// Words that add a requirement the answer must meet.
const std::vector<std::string_view>& constraint_words() {
  static const std::vector<std::string_view> words = {
      "must", "should", "at least", "at most", "no more than", "no less than", "within", "exactly", "only",
      "without", "including", "make sure", "必须", "至少", "至多", "不超过", "不少于", "不要", "只能", "要求", "确保",
      "包括", "并且", "同时", "以内"};
  return words;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

size_t count_occurrences(const std::string& text, std::string_view word) {
  size_t count = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + word.size())) ++count;
  return count;
}

size_t utf8_characters(std::string_view text) {
  return size_t(std::count_if(text.begin(), text.end(), [](char c) { return (uint8_t(c) & 0xC0) != 0x80; }));
}

// Numbered or bulleted items at line starts ("1.", "2)", "- ", "•") count as constraints too.
int list_items(std::string_view text) {
  int items = 0;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      line_start = true;
      continue;
    }
    if (line_start && c != ' ') {
      const bool numbered = c >= '0' && c <= '9' && i + 1 < text.size() && (text[i + 1] == '.' || text[i + 1] == ')');
      const bool bullet = (c == '-' || c == '*') && i + 1 < text.size() && text[i + 1] == ' ';
      items += numbered || bullet;
      line_start = false;
    }
  }
  return items;
}

}  // namespace

Difficulty estimate_difficulty(std::string_view text) {
  Difficulty d;
  const std::string lower = ascii_lower(text);
  d.characters = utf8_characters(text);

  // Length: a Chinese character carries about as much as an English word, so
  // characters are a fair common unit; 600 of them is a long phone request.
  double best = 0;
  const double length = 0.35 * std::min(1.0, double(d.characters) / 600.0);
  if (length > best) best = length, d.strongest = "length";
  double score = length;

  for (const TaskFamily& family : task_families()) {
    const bool hit = std::any_of(family.words.begin(), family.words.end(),
                                 [&](std::string_view w) { return lower.find(w) != std::string::npos; });
    if (!hit) continue;
    score += family.weight;
    if (family.weight > best) best = family.weight, d.strongest = family.name;
  }

  for (std::string_view word : constraint_words()) d.constraints += int(count_occurrences(lower, word));
  d.constraints += list_items(text);
  const double constraints = 0.08 * std::min(d.constraints, 5);
  score += constraints;
  if (constraints > best) d.strongest = "constraints";

  d.score = std::clamp(score, 0.0, 1.0);
  return d;
}

}  // namespace tandem::router
