#include "tools/twilio-sandbox/fault_rules.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace klaxon::sandbox {
namespace {

constexpr char kAccount[] = "AC00000000000000000000000000000000";

FaultRule Parse(const std::string& json) {
  auto rules = ParseFaultRules(json);
  EXPECT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->size(), 1u);
  return rules->front();
}

TEST(FaultRulesTest, RateLimitGetsTwilioDefaults) {
  const FaultRule rule = Parse(R"({"type":"rate_limit"})");
  EXPECT_EQ(rule.http_status, 429);
  EXPECT_EQ(rule.code, 20429);
  EXPECT_EQ(rule.retry_after, absl::Seconds(1));
}

TEST(FaultRulesTest, ServiceUnavailableGets20503) {
  const FaultRule rule = Parse(R"({"type":"server_error","status":503})");
  EXPECT_EQ(rule.code, 20503);
}

TEST(FaultRulesTest, RejectsUnknownType) {
  EXPECT_EQ(ParseFaultRules(R"({"type":"explode"})").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FaultRulesTest, RejectsErrorRuleWithoutCode) {
  EXPECT_EQ(ParseFaultRules(R"([{"type":"error","to":"+15551230000"}])").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FaultRulesTest, RejectsWronglyTypedField) {
  EXPECT_EQ(ParseFaultRules(R"({"type":"rate_limit","count":"many"})").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FaultRulesTest, AMessagesCallbacksMayComeTwiceOrLastFirst) {
  EXPECT_EQ(
      Parse(R"({"type":"delivery","outcome":"delivered","callbacks":"duplicated"})").callbacks,
      CallbackOrder::kDuplicated);
  const FaultRule reversed =
      Parse(R"({"type":"delivery","kind":"message","outcome":"failed","callbacks":"reversed"})");
  EXPECT_EQ(reversed.callbacks, CallbackOrder::kReversed);
  EXPECT_EQ(FaultRuleToJson(reversed)["callbacks"], "reversed");
  EXPECT_EQ(Parse(R"({"type":"delivery","outcome":"undelivered"})").callbacks,
            CallbackOrder::kInOrder);
  for (const char* bad : {
           R"({"type":"delivery","outcome":"delivered","callbacks":"shuffled"})",
           R"({"type":"delivery","outcome":"busy","callbacks":"duplicated"})",
           R"({"type":"delivery","outcome":"failed","callbacks":"reversed"})",  // a call's too
       }) {
    EXPECT_EQ(ParseFaultRules(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FaultRulesTest, CountedRuleExpiresAfterCount) {
  FaultRules rules;
  rules.Add(Parse(R"({"type":"rate_limit","count":2})"));
  EXPECT_TRUE(rules.TakeRequestFault(ResourceKind::kMessage, "+15551230000", kAccount).has_value());
  EXPECT_TRUE(rules.TakeRequestFault(ResourceKind::kCall, "+15551230001", kAccount).has_value());
  EXPECT_FALSE(
      rules.TakeRequestFault(ResourceKind::kMessage, "+15551230000", kAccount).has_value());
  EXPECT_TRUE(rules.List().empty());
}

TEST(FaultRulesTest, AccountRuleMatchesOnlyRequestsOnItsAccount) {
  FaultRules rules;
  constexpr char kOther[] = "AC11111111111111111111111111111111";
  rules.Add(
      Parse(absl::StrCat(R"({"type":"server_error","status":503,"account":")", kOther, R"("})")));
  EXPECT_FALSE(
      rules.TakeRequestFault(ResourceKind::kMessage, "+15551230000", kAccount).has_value());
  const auto fault = rules.TakeRequestFault(ResourceKind::kCall, "+15551230000", kOther);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->http_status, 503);
  EXPECT_EQ(FaultRuleToJson(*fault)["account"], kOther);
}

TEST(FaultRulesTest, DestinationRuleMatchesOnlyItsNumber) {
  FaultRules rules;
  rules.Add(Parse(R"({"type":"error","to":"+15551230000","code":21610})"));
  EXPECT_FALSE(
      rules.TakeRequestFault(ResourceKind::kMessage, "+15551239999", kAccount).has_value());
  const auto fault = rules.TakeRequestFault(ResourceKind::kMessage, "+15551230000", kAccount);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->code, 21610);
  EXPECT_EQ(fault->http_status, 400);
}

TEST(FaultRulesTest, DeliveryRulesAreNotRequestFaults) {
  FaultRules rules;
  rules.Add(Parse(R"({"type":"delivery","outcome":"undelivered"})"));
  EXPECT_FALSE(
      rules.TakeRequestFault(ResourceKind::kMessage, "+15551230000", kAccount).has_value());
  const auto fault = rules.TakeDeliveryFault(ResourceKind::kMessage, "+15551230000", kAccount);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->error_code, 30003);
  EXPECT_FALSE(rules.TakeDeliveryFault(ResourceKind::kCall, "+15551230000", kAccount).has_value());
}

TEST(FaultRulesTest, KeyPressIsACallOutcomePressingOneUnlessTold) {
  const FaultRule rule = Parse(R"({"type":"delivery","outcome":"key-press"})");
  EXPECT_EQ(rule.kind, ResourceKind::kCall);
  EXPECT_EQ(rule.digits, "1");
  EXPECT_EQ(Parse(R"({"type":"delivery","outcome":"key-press","digits":"9"})").digits, "9");
}

TEST(FaultRulesTest, KeyPressDigitsMustBeKeys) {
  EXPECT_EQ(FaultRuleFromJson(
                nlohmann::json::parse(R"({"type":"delivery","outcome":"key-press","digits":"a"})"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FaultRulesTest, MachineIsACallOutcome) {
  EXPECT_EQ(Parse(R"({"type":"delivery","outcome":"machine"})").kind, ResourceKind::kCall);
}

TEST(FaultRulesTest, AnAnsweredCallMayBeAnsweredByAnyOfTwiliosAnswerers) {
  const FaultRule fax = Parse(R"({"type":"delivery","outcome":"answered","answered_by":"fax"})");
  EXPECT_EQ(fax.kind, ResourceKind::kCall);
  EXPECT_EQ(fax.answered_by, twilio::AnsweredBy::kFax);
  EXPECT_EQ(FaultRuleToJson(fax)["answered_by"], "fax");
  for (const char* name : {"human", "machine_start", "machine_end_beep", "machine_end_silence",
                           "machine_end_other", "fax", "unknown"}) {
    const std::string rule =
        absl::StrCat(R"({"type":"delivery","outcome":"answered","answered_by":")", name, R"("})");
    EXPECT_EQ(FaultRuleToJson(Parse(rule))["answered_by"], name);
  }
  EXPECT_FALSE(Parse(R"({"type":"delivery","outcome":"answered"})").answered_by.has_value());
}

TEST(FaultRulesTest, AnsweredByMustBeTwiliosWordOnAnAnsweredCall) {
  for (const char* bad : {
           R"({"type":"delivery","outcome":"answered","answered_by":"machine"})",
           R"({"type":"delivery","outcome":"answered","answered_by":"robot"})",
           R"({"type":"delivery","outcome":"busy","answered_by":"human"})",
       }) {
    EXPECT_EQ(ParseFaultRules(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FaultRulesTest, CountedRulesExpressNoAnswerTwiceThenAKeyPress) {
  FaultRules rules;
  rules.Add(Parse(R"({"type":"delivery","outcome":"no-answer","count":2})"));
  rules.Add(Parse(R"({"type":"delivery","outcome":"key-press"})"));
  for (const char* expected : {"no-answer", "no-answer", "key-press"}) {
    const auto fault = rules.TakeDeliveryFault(ResourceKind::kCall, "+15551230000", kAccount);
    ASSERT_TRUE(fault.has_value());
    EXPECT_EQ(fault->outcome, expected);
  }
}

TEST(FaultRulesTest, RemoveDeletesById) {
  FaultRules rules;
  const int64_t id = rules.Add(Parse(R"({"type":"latency","latency_ms":5})"));
  EXPECT_TRUE(rules.Remove(id));
  EXPECT_FALSE(rules.Remove(id));
  EXPECT_TRUE(rules.List().empty());
}

}  // namespace
}  // namespace klaxon::sandbox
