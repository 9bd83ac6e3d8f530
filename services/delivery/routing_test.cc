#include "services/delivery/routing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::delivery {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUk[] = "+447700900123";
constexpr char kUs1[] = "+14155550100";
constexpr char kUs2[] = "+14155550101";
constexpr char kShortCode[] = "12345";
constexpr char kBackupUs[] = "+14155550199";  // of the backup account

std::vector<PacedSender> Configured() {
  const limits::Rate one{.count = 1, .window = absl::Seconds(1)};
  return {{kUk, SenderKind::kLongCode, one, "main"},
          {kUs1, SenderKind::kLongCode, one, "main"},
          {kUs2, SenderKind::kLongCode, one, "main"},
          {kShortCode, SenderKind::kShortCode, {.count = 100, .window = absl::Seconds(1)}, "main"},
          {kBackupUs, SenderKind::kLongCode, one, "backup"}};
}

constexpr char kRules[] = R"({"rules": [
  {"name": "uk", "countries": ["GB"], "channels": ["sms"], "senders": ["+447700900123"]},
  {"name": "us-critical", "prefixes": ["+1"], "priorities": ["critical"], "senders": ["12345"]},
  {"name": "north-america", "prefixes": ["+1"], "callers": ["billing"],
   "senders": ["+14155550100", "+14155550101"]}
]})";

Routing Parsed(std::string_view json = kRules,
               types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  absl::StatusOr<Routing> routing = Routing::Parse(json, "routing.json", channel, Configured());
  EXPECT_TRUE(routing.ok()) << routing.status();
  return routing.ok() ? *std::move(routing) : Routing::AllSenders({});
}

std::string RoutingError(std::string_view json,
                         types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  absl::StatusOr<Routing> routing = Routing::Parse(json, "routing.json", channel, Configured());
  EXPECT_FALSE(routing.ok());
  return std::string(routing.status().message());
}

RouteQuery Query(std::string recipient, std::string caller = "ops",
                 types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED,
                 types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_caller(std::move(caller));
  request.set_priority(priority);
  return RouteQuery::Of(request, recipient, channel);
}

std::string MatchedName(const Routing& routing, const RouteQuery& query) {
  const RoutingRule* rule = routing.Match(query);
  return rule == nullptr ? "(none)" : rule->name;
}

TEST(RoutingTest, FirstMatchingRuleDecides) {
  const Routing routing = Parsed();
  EXPECT_EQ(MatchedName(routing, Query("+442071838750")), "uk");
  EXPECT_EQ(MatchedName(routing, Query("+14155552671", "billing")), "north-america");
  // Critical comes first for every caller, billing's too.
  EXPECT_EQ(MatchedName(routing, Query("+14155552671", "billing", types::v1::PRIORITY_CRITICAL)),
            "us-critical");
  EXPECT_EQ(MatchedName(routing, Query("+16135550123", "ops", types::v1::PRIORITY_CRITICAL)),
            "us-critical");
}

TEST(RoutingTest, NoRuleMatchesWhatNoRuleNames) {
  const Routing routing = Parsed();
  EXPECT_EQ(routing.Match(Query("+14155552671", "ops")), nullptr);  // +1 only for billing
  EXPECT_EQ(routing.Match(Query("+33612345678", "billing")), nullptr);
}

TEST(RoutingTest, KeepsOnlyTheChannelsRulesWithTheirPacedSenders) {
  const Routing voice = Parsed(kRules, types::v1::CHANNEL_VOICE);
  ASSERT_EQ(voice.rules().size(), 2u);
  EXPECT_EQ(voice.rules()[0].name, "us-critical");
  EXPECT_EQ(voice.Match(Query("+442071838750", "ops", types::v1::PRIORITY_NORMAL,
                              types::v1::CHANNEL_VOICE)),
            nullptr);
  const Routing sms = Parsed();
  ASSERT_EQ(sms.rules()[2].routes.size(), 1u);
  ASSERT_EQ(sms.rules()[2].routes[0].senders.size(), 2u);
  EXPECT_EQ(sms.rules()[2].routes[0].senders[1], Configured()[2]);
  EXPECT_EQ(sms.rules()[1].routes[0].senders[0].rate.count, 100);
}

TEST(RoutingTest, ARulesAccountsOrderItsSendersForFailover) {
  const Routing routing = Parsed(R"({"rules": [
    {"name": "us", "prefixes": ["+1"], "accounts": ["backup", "main"],
     "senders": ["+14155550100", "+14155550199", "+14155550101"]},
    {"name": "rest", "senders": ["+14155550199", "+447700900123"]}]})");
  ASSERT_EQ(routing.rules()[0].routes.size(), 2u);
  EXPECT_EQ(routing.rules()[0].routes[0],
            (AccountRoute{.account = "backup", .senders = {Configured()[4]}}));
  EXPECT_EQ(routing.rules()[0].routes[1],
            (AccountRoute{.account = "main", .senders = {Configured()[1], Configured()[2]}}));
  // Without accounts, in the order the senders name them.
  ASSERT_EQ(routing.rules()[1].routes.size(), 2u);
  EXPECT_EQ(routing.rules()[1].routes[0].account, "backup");
  EXPECT_EQ(routing.rules()[1].routes[1].account, "main");
}

TEST(RoutingTest, ARulesAccountsMustCoverItsSendersAndHaveSome) {
  const std::string error = RoutingError(R"({"rules": [
    {"name": "us", "accounts": ["main", "spare"], "senders": ["+14155550100", "+14155550199"]}]})");
  EXPECT_THAT(error, HasSubstr("rule 1 (\"us\") accounts: \"spare\" has none of the rule's "
                               "senders on this channel"));
  EXPECT_THAT(error, HasSubstr("rule 1 (\"us\") senders: \"+14155550199\" belongs to account "
                               "\"backup\", which the rule's accounts leave out"));
}

TEST(RoutingTest, UnsetPriorityMatchesNormal) {
  const Routing routing = Parsed(R"({"rules": [
    {"name": "normal", "priorities": ["normal"], "senders": ["+14155550100"]}]})");
  EXPECT_EQ(MatchedName(routing, Query("+14155552671")), "normal");
  EXPECT_EQ(routing.Match(Query("+14155552671", "ops", types::v1::PRIORITY_HIGH)), nullptr);
}

TEST(RoutingTest, AllSendersTakesEveryDestination) {
  const Routing routing = Routing::AllSenders(Configured());
  const RoutingRule* rule = routing.Match(Query("+33612345678"));
  ASSERT_NE(rule, nullptr);
  const std::vector<PacedSender> all = Configured();
  EXPECT_EQ(rule->routes, (std::vector<AccountRoute>{
                              {.account = "main", .senders = {all[0], all[1], all[2], all[3]}},
                              {.account = "backup", .senders = {all[4]}}}));
}

TEST(RoutingTest, ErrorsNameTheRuleAndField) {
  const std::string error = RoutingError(R"({"rules": [
    {"name": "uk", "countries": ["UK"], "senders": ["+447700900123"]},
    {"name": "us", "prefixes": ["1415"], "channels": ["fax"], "priorities": ["urgent"],
     "senders": ["+15005550006"], "account": "main"},
    {"countries": ["GB"], "senders": []},
    {"name": "uk", "callers": "billing", "senders": ["+447700900123"]}
  ]})");
  EXPECT_THAT(error, HasSubstr("routing file routing.json: rule 1 (\"uk\") countries: \"UK\" is "
                               "not an ISO 3166 country code"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"us\") prefixes: \"1415\" is not \"+\" and 1 to 15 "
                               "digits"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"us\") channels: "));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"us\") priorities: \"urgent\" is not a priority"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"us\") senders: \"+15005550006\" is not one of "
                               "KLAXON_SMS_SENDERS"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"us\") account: is not a rule field"));
  EXPECT_THAT(error, HasSubstr("rule 3 name: is required"));
  EXPECT_THAT(error, HasSubstr("rule 3 senders: is not a non-empty array of strings"));
  EXPECT_THAT(error, HasSubstr("rule 4 (\"uk\") name: another rule has this name"));
  EXPECT_THAT(error, HasSubstr("rule 4 (\"uk\") callers: is not a non-empty array of strings"));
}

TEST(RoutingTest, AnAlphanumericSenderIsRoutedOnlyOutsideNorthAmerica) {
  std::vector<PacedSender> configured = Configured();
  configured.push_back(
      {"ACME OPS", SenderKind::kAlphanumeric, {.count = 10, .window = absl::Seconds(1)}, "main"});
  EXPECT_TRUE(Routing::Parse(R"({"rules": [
      {"name": "europe", "countries": ["GB", "DE"], "prefixes": ["+33"], "senders": ["ACME OPS"]}]})",
                             "routing.json", types::v1::CHANNEL_SMS, configured)
                  .ok());
  const std::string error(Routing::Parse(R"({"rules": [
      {"name": "all", "senders": ["ACME OPS"]},
      {"name": "americas", "countries": ["CA"], "prefixes": ["+1415"], "senders": ["ACME OPS"]}]})",
                                         "routing.json", types::v1::CHANNEL_SMS, configured)
                              .status()
                              .message());
  EXPECT_THAT(error, HasSubstr("rule 1 (\"all\") senders: alphanumeric sender ID \"ACME OPS\" "
                               "cannot send to US or Canadian numbers (+1): the rule needs "
                               "countries or prefixes that leave out +1"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"americas\") prefixes: \"+1415\": alphanumeric"));
  EXPECT_THAT(error, HasSubstr("rule 2 (\"americas\") countries: \"CA\": alphanumeric"));
}

TEST(RoutingTest, RefusesASenderTwiceAndAChannelWithoutRules) {
  EXPECT_THAT(
      RoutingError(R"({"rules": [{"name": "us", "senders": ["+14155550100", "+14155550100"]}]})"),
      HasSubstr("rule 1 (\"us\") senders: \"+14155550100\" is named twice"));
  EXPECT_THAT(
      RoutingError(R"({"rules": [{"name": "us", "channels": ["sms"], "senders": ["12345"]}]})",
                   types::v1::CHANNEL_VOICE),
      HasSubstr("routing file routing.json: no rule is for voice"));
}

TEST(RoutingTest, SendersOfAnotherChannelsRuleAreNotThisWorkersConcern) {
  // The voice worker configures none of these SMS senders; the SMS-only rule is not its own.
  const absl::StatusOr<Routing> routing = Routing::Parse(
      R"({"rules": [{"name": "sms", "channels": ["sms"], "senders": ["MGxyz"]},
                    {"name": "calls", "senders": ["+14155550100"]}]})",
      "routing.json", types::v1::CHANNEL_VOICE, Configured());
  ASSERT_TRUE(routing.ok()) << routing.status();
  EXPECT_EQ(routing->rules().size(), 1u);
}

TEST(RoutingTest, RefusesWhatIsNoRulesDocument) {
  EXPECT_THAT(RoutingError("{"), HasSubstr("routing file routing.json is not valid JSON"));
  EXPECT_THAT(RoutingError(R"({"rules": []})"), HasSubstr("with at least one rule"));
  EXPECT_THAT(RoutingError(R"([{"name": "x"}])"), HasSubstr("expected {\"rules\": [...]}"));
  EXPECT_THAT(RoutingError(R"({"rules": [{"name": "a", "senders": ["12345"]}], "default": "a"})"),
              HasSubstr("\"default\" is not a field"));
}

TEST(RoutingTest, UnroutedReasonNamesWhatWasMatchedButNotTheNumber) {
  const std::string reason = UnroutedReason(Query("+33612345678", "billing"));
  EXPECT_THAT(reason, AllOf(HasSubstr("no routing rule matches"), HasSubstr("FR, +33"),
                            HasSubstr("channel sms"), HasSubstr("caller \"billing\""),
                            HasSubstr("priority normal"), HasSubstr("Twilio was not called"),
                            Not(HasSubstr("612345678"))));
}

}  // namespace
}  // namespace klaxon::delivery
