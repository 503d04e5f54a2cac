// The routing policy as a function of the request and the tiers (rules in order, hard
// before soft; the privacy verdict of the embedded model in every reason), and its
// accuracy on the request set tests/data/routing/requests.jsonl, which was written
// before and apart from the privacy corpus, so it is a held-out check of the classifier.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "privacy/corpus.h"
#include "core/error.h"
#include "router/openai_body.h"
#include "router/policy.h"
#include "support/route_reason.h"

namespace tandem::router {
namespace {

TierState all_up() {
  TierState t;
  t.device_available = true;
  t.device_n_ctx = 2048;
  t.cloud_configured = true;
  t.cloud_reachable = true;
  return t;
}

RouteInput ask(std::string text, Preference preference = Preference::Auto) {
  RouteInput input;
  input.text = std::move(text);
  input.preference = preference;
  input.prompt_tokens = 20;
  return input;
}

const char* kBooking = "Book me a flight from Beijing to Shanghai tomorrow morning and reserve a hotel near the Bund";
// A valid resident ID that is not among the labelled set's secrets.
const char* kPrivate = "My ID number is 440304198806142711, please fill in the form";

using tandem::test::without_scores;

TEST(Policy, DeviceOnlyPreferenceIsAbsolute) {
  Decision d = decide(ask(kBooking, Preference::DeviceOnly), all_up(), {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(without_scores(d.reason), "preference:device-only;privacy:none_found");
  TierState no_device = all_up();
  no_device.device_available = false;
  d = decide(ask("hello", Preference::DeviceOnly), no_device, {});
  EXPECT_EQ(d.route, Route::Refused);
  EXPECT_EQ(without_scores(d.reason), "preference:device-only;device:no_device_model;privacy:none_found");
}

TEST(Policy, PrivateDataStaysOnTheDeviceEvenWhenTheCloudIsPreferred) {
  Decision d = decide(ask(kPrivate, Preference::CloudPreferred), all_up(), {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(without_scores(d.reason), "privacy:cn_id_number");
  EXPECT_TRUE(d.privacy.is_private);
  ASSERT_FALSE(d.privacy.findings.empty());

  RouteInput tagged = ask("What is in this picture?");
  tagged.data_tags = {"photos"};
  d = decide(tagged, all_up(), {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(without_scores(d.reason), "privacy:tag_photos");

  // What no pattern sees: the classifier keeps it on the device, and names the category.
  d = decide(ask("Tell my sister I was diagnosed with type 2 diabetes today and started metformin",
                 Preference::CloudPreferred),
             all_up(), {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(d.reason.rfind("privacy:", 0), 0u) << d.reason;
  EXPECT_TRUE(d.privacy.findings.empty());
  EXPECT_GE(d.privacy.score, 0.5);
}

// Every decision says what the privacy check found, so an audit tells "checked,
// nothing found" from "not checked".
TEST(Policy, EveryDecisionRecordsThePrivacyVerdict) {
  for (Preference preference : {Preference::DeviceOnly, Preference::Auto, Preference::CloudPreferred}) {
    const Decision d = decide(ask("Translate 'good morning' into German", preference), all_up(), {});
    EXPECT_NE(d.reason.find(";privacy:none_found(score=0."), std::string::npos) << d.reason;
    EXPECT_FALSE(d.privacy.is_private);
  }
  TierState offline = all_up();
  offline.cloud_reachable = false;
  offline.cloud_down_reason = "offline";
  const Decision d = decide(ask("Translate 'good morning' into German"), offline, {});
  EXPECT_EQ(without_scores(d.reason), "network:offline;privacy:none_found");
}

// auto never sends a private request to the cloud for difficulty; one that needs a
// cloud service goes redacted where allowed, else it is refused with how to allow it.
TEST(Policy, PrivateRequestsThatNeedTheCloudAreRedactedOrRefused) {
  const std::string booking =
      "Book me a flight to Singapore on 12 May and use passport number E48213377 for Wang Lei";
  Decision d = decide(ask(booking), all_up(), {});
  EXPECT_EQ(d.route, Route::Refused) << d.reason;
  EXPECT_TRUE(d.privacy.is_private);
  EXPECT_TRUE(d.privacy.needs_cloud);
  EXPECT_NE(d.reason.find(";needs_cloud;enable redact_to_cloud or use device-only"), std::string::npos) << d.reason;
  EXPECT_EQ(decide(ask(booking, Preference::CloudPreferred), all_up(), {}).route, Route::Refused);

  PolicyOptions redact;
  redact.redact_to_cloud = true;
  d = decide(ask(booking), all_up(), redact);
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(d.redact);
  EXPECT_NE(d.reason.find(";redacted;needs_cloud"), std::string::npos) << d.reason;

  // Whether it needs a service is read from what is asked now, not from the history.
  RouteInput turn = ask("Book me a flight to Tokyo and reserve a hotel\nMy email is li.wei@example.com, say hi");
  turn.task_text = "My email is li.wei@example.com, say hi";
  d = decide(turn, all_up(), {});
  EXPECT_EQ(d.route, Route::Device) << d.reason;

  // A private request the device can answer stays there, whatever its difficulty.
  PolicyOptions eager;
  eager.difficulty_threshold = 0;
  d = decide(ask("Summarize my blood test: LDL 4.9, HbA1c 7.2, my doctor wants to start a statin"), all_up(), eager);
  EXPECT_EQ(d.route, Route::Device) << d.reason;
  EXPECT_FALSE(d.privacy.needs_cloud);
}

// The configured strictness applies; a request may only make it stricter.
TEST(Policy, StrictnessPicksTheOperatingPointAndRequestsOnlyTightenIt) {
  PolicyOptions low, strict;
  low.strictness = Strictness::Low;
  strict.strictness = Strictness::Strict;
  RouteInput input = ask("hello");
  EXPECT_EQ(effective_strictness(input, low), Strictness::Low);
  input.strictness = Strictness::Strict;
  EXPECT_EQ(effective_strictness(input, low), Strictness::Strict);
  input.strictness = Strictness::Low;
  EXPECT_EQ(effective_strictness(input, strict), Strictness::Strict);

  // A request whose score lies between the strict and the low thresholds: private only when strict.
  const privacy::Classifier& model = privacy::Classifier::embedded();
  const double low_threshold = model.threshold(Strictness::Low), strict_threshold = model.threshold(Strictness::Strict);
  ASSERT_LT(strict_threshold, low_threshold);
  std::string between;
  for (const privacy::Example& e : privacy::load_corpus(std::string(TANDEM_SOURCE_DIR) + "/data/privacy/corpus")) {
    const double score = model.predict(e.text).score;
    if (e.split == privacy::Split::Dev && find_pii(e.text).empty() && score >= strict_threshold && score < low_threshold) {
      between = e.text;
      break;
    }
  }
  ASSERT_FALSE(between.empty()) << "no dev example between the operating points";
  EXPECT_TRUE(decide(ask(between), all_up(), strict).privacy.is_private) << between;
  EXPECT_FALSE(decide(ask(between), all_up(), low).privacy.is_private) << between;
  RouteInput tightened = ask(between);
  tightened.strictness = Strictness::Strict;
  EXPECT_TRUE(decide(tightened, all_up(), low).privacy.is_private) << between;
}

TEST(Policy, PrivateRequestsTheDeviceCannotServeAreRefusedUnlessRedactionIsAllowed) {
  TierState no_device = all_up();
  no_device.device_available = false;
  Decision d = decide(ask(kPrivate), no_device, {});
  EXPECT_EQ(d.route, Route::Refused);
  EXPECT_EQ(without_scores(d.reason), "privacy:cn_id_number;device:no_device_model;enable redact_to_cloud");

  PolicyOptions redact;
  redact.redact_to_cloud = true;
  d = decide(ask(kPrivate), no_device, redact);
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_TRUE(d.redact);
  EXPECT_EQ(without_scores(d.reason), "privacy:cn_id_number;redacted;device:no_device_model");

  // Tagged data has no redacted form: it never leaves, even with redaction on.
  RouteInput tagged = ask("Summarize my chats");
  tagged.data_tags = {"messages"};
  EXPECT_EQ(decide(tagged, no_device, redact).route, Route::Refused);

  // Too long for the device is the same as no device.
  RouteInput long_private = ask(kPrivate);
  long_private.prompt_tokens = 5000;
  d = decide(long_private, all_up(), redact);
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_EQ(without_scores(d.reason), "privacy:cn_id_number;redacted;device:context");
}

TEST(Policy, NoNetworkMeansTheDevice) {
  TierState offline = all_up();
  offline.cloud_reachable = false;
  offline.cloud_down_reason = "offline";
  Decision d = decide(ask(kBooking), offline, {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(without_scores(d.reason), "network:offline;privacy:none_found");
  RouteInput too_long = ask("hi");
  too_long.prompt_tokens = 4096;
  EXPECT_EQ(decide(too_long, offline, {}).route, Route::Refused);
}

TEST(Policy, CapabilityAndDifficultySendHeavyRequestsToTheCloud) {
  RouteInput tools = ask("What's the weather?");
  tools.wants_tools = true;
  EXPECT_EQ(without_scores(decide(tools, all_up(), {}).reason), "capability:tools;privacy:none_found");

  RouteInput too_long = ask("hi");
  too_long.prompt_tokens = 2048;
  EXPECT_EQ(without_scores(decide(too_long, all_up(), {}).reason), "capability:context;privacy:none_found");

  Decision d = decide(ask(kBooking), all_up(), {});
  EXPECT_EQ(d.route, Route::Cloud);
  EXPECT_EQ(d.reason.rfind("difficulty:", 0), 0u) << d.reason;
  EXPECT_NE(d.reason.find("booking"), std::string::npos) << d.reason;

  d = decide(ask("Say hello in French"), all_up(), {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(d.reason.rfind("difficulty:0.", 0), 0u) << d.reason;

  EXPECT_EQ(without_scores(decide(ask("Say hello", Preference::CloudPreferred), all_up(), {}).reason),
            "preference:cloud-preferred;privacy:none_found");
}

TEST(Policy, TheThresholdIsTheQualityCostKnob) {
  PolicyOptions never, always;
  never.difficulty_threshold = 1.01;
  always.difficulty_threshold = 0;
  EXPECT_EQ(decide(ask(kBooking), all_up(), never).route, Route::Device);
  EXPECT_EQ(decide(ask("Say hello"), all_up(), always).route, Route::Cloud);
}

TEST(Policy, PastTheDailyBudgetTheDeviceAnswers) {
  TierState spent = all_up();
  spent.cloud_budget_left = false;
  Decision d = decide(ask(kBooking), spent, {});
  EXPECT_EQ(d.route, Route::Device);
  EXPECT_EQ(without_scores(d.reason), "cost:daily_budget;privacy:none_found");
  RouteInput tools = ask("Call the booking API");
  tools.wants_tools = true;
  tools.prompt_tokens = 4096;
  EXPECT_EQ(decide(tools, spent, {}).route, Route::Refused);
}

TEST(Policy, HeaderNamesRouteAndReason) {
  EXPECT_EQ(without_scores(decide(ask(kPrivate), all_up(), {}).header()), "device; reason=privacy:cn_id_number");
  EXPECT_EQ(parse_preference("cloud-preferred"), Preference::CloudPreferred);
  EXPECT_FALSE(parse_preference("sometimes"));
}

// Accuracy against the human labels: private requests belong on the device,

// A request names its own privacy setting in the body or a header; the body wins.
TEST(Policy, RequestsCarryTheirOwnPrivacySetting) {
  const ojson strict_body = ojson::parse(R"({"messages": [], "tandem": {"privacy": "strict"}})");
  EXPECT_EQ(request_routing(strict_body, "", "", "low").strictness, Strictness::Strict);
  EXPECT_EQ(request_routing(ojson::parse(R"({"messages": []})"), "", "", "low").strictness, Strictness::Low);
  EXPECT_FALSE(request_routing(ojson::parse(R"({"messages": []})"), "", "").strictness);
  EXPECT_THROW(request_routing(ojson::parse(R"({"tandem": {"privacy": "max"}})"), "", ""), Error);
  EXPECT_THROW(request_routing(ojson::parse(R"({"tandem": {"privacy": true}})"), "", ""), Error);
}

// After redaction, the placeholders are read as blanks: only what redaction left counts.
TEST(Policy, TheCheckAfterRedactionReadsPlaceholdersAsBlanks) {
  const std::string left = "Tell [NAME_1] that the results for [HEALTH_1] came back, and call [PHONE_2]";
  const PrivacyVerdict redacted = check_redacted(left, Strictness::Balanced);
  const PrivacyVerdict blanked = check_privacy("Tell   that the results for   came back, and call  ", {}, Strictness::Balanced);
  EXPECT_DOUBLE_EQ(redacted.score, blanked.score);
  EXPECT_EQ(redacted.is_private, blanked.is_private);
  // Brackets that are not placeholders stay.
  const std::string plain = "Sort [b, a] and [HEALTH] and [x_1]";
  EXPECT_DOUBLE_EQ(check_redacted(plain, Strictness::Balanced).score, check_privacy(plain, {}, Strictness::Balanced).score);
}

// Routing the held-out request set on its text alone: the labels never reach the
// detector (the set's app data tags are labels too, so the 15 requests private only by
// tag are left out). Private requests must stay off the cloud, heavy public ones must
// go to it, and the whole must beat sending everything to the device by a clear margin.
TEST(Policy, RoutesTheRequestSetBetterThanAllOnDevice) {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/tests/data/routing/requests.jsonl");
  ASSERT_TRUE(in) << "request set missing";
  int total = 0, correct = 0, all_device_correct = 0, private_total = 0, private_off_cloud = 0, heavy_total = 0,
      heavy_sent = 0, simple_total = 0, simple_kept = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto entry = nlohmann::json::parse(line);
    const bool is_private = entry["private"].get<bool>(), needs_cloud = entry["needs_cloud"].get<bool>();
    if (is_private && entry["secrets"].empty()) continue;  // private by app tag only
    const Decision d = decide(ask(entry["text"].get<std::string>()), all_up(), {});
    // Private: anywhere but the cloud (the device, or refused when it needs a cloud service).
    const bool right = is_private ? d.route != Route::Cloud : needs_cloud ? d.route == Route::Cloud : d.route == Route::Device;
    ++total;
    correct += right;
    all_device_correct += is_private || !needs_cloud;
    if (is_private) {
      ++private_total;
      private_off_cloud += d.route != Route::Cloud;
      EXPECT_NE(d.route, Route::Cloud) << entry["id"] << " reached the cloud: " << d.reason;
    } else if (needs_cloud) {
      ++heavy_total;
      heavy_sent += d.route == Route::Cloud;
    } else {
      ++simple_total;
      simple_kept += d.route == Route::Device;
    }
    if (!right) std::printf("  miss %s -> %s (%s)\n", entry["id"].get<std::string>().c_str(), route_name(d.route), d.reason.c_str());
  }
  const double accuracy = double(correct) / total, baseline = double(all_device_correct) / total;
  std::printf("routing accuracy %d/%d = %.1f%% (all on the device: %.1f%%); private off the cloud %d/%d; heavy sent "
              "to the cloud %d/%d; simple kept on the device %d/%d\n",
              correct, total, 100 * accuracy, 100 * baseline, private_off_cloud, private_total, heavy_sent, heavy_total,
              simple_kept, simple_total);
  EXPECT_GE(total, 200);
  EXPECT_EQ(private_off_cloud, private_total);
  EXPECT_GE(heavy_sent, heavy_total * 3 / 4) << "heavy requests must go to the cloud";
  EXPECT_GE(accuracy, baseline + 0.05) << "not clearly better than keeping everything on the device";
}

}  // namespace
}  // namespace tandem::router
