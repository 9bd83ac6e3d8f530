// Phone verification end to end (docs/adr/0022): StartVerification at ingress → the code's alert
// through Kafka and sms-worker (or voice-worker) to the sandbox, where the test reads the code as
// a person reads their phone → CheckVerification. One suite for every test, with codes valid for
// kCodeValidity so the expiry test need not wait ten minutes. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::verification_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using verify::v1::CheckVerificationRequest;
using verify::v1::CheckVerificationResponse;
using verify::v1::StartVerificationRequest;
using verify::v1::StartVerificationResponse;

constexpr absl::Duration kCodeValidity = absl::Seconds(20);
constexpr absl::Duration kWait = absl::Seconds(30);

class VerificationE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() {
    StartSharedSuite({.env = {{"KLAXON_VERIFY_CODE_TTL", absl::FormatDuration(kCodeValidity)},
                              {"KLAXON_VERIFY_REGIONS", "*=US+CA"}}});
  }

  static grpc::Status Start(const std::string& recipient, types::v1::Channel channel,
                            StartVerificationResponse& started, const std::string& locale = "") {
    StartVerificationRequest request;
    request.set_recipient(recipient);
    request.set_channel(channel);
    request.set_locale(locale);
    return suite_->VerificationStub()->StartVerification(Suite::CallContext().get(), request,
                                                         &started);
  }

  static StartVerificationResponse StartOk(const std::string& recipient,
                                           types::v1::Channel channel = types::v1::CHANNEL_SMS,
                                           const std::string& locale = "") {
    StartVerificationResponse started;
    const grpc::Status rpc = Start(recipient, channel, started, locale);
    EXPECT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
    return started;
  }

  static CheckVerificationResponse Check(const std::string& verification_id,
                                         const std::string& code) {
    CheckVerificationRequest request;
    request.set_verification_id(verification_id);
    request.set_code(code);
    CheckVerificationResponse checked;
    const grpc::Status rpc = suite_->VerificationStub()->CheckVerification(
        Suite::CallContext().get(), request, &checked);
    EXPECT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
    return checked;
  }

  // Waits until the sandbox holds `count` entries to `to` of `kind`; returns them.
  static std::vector<nlohmann::json> WaitForLedger(const std::string& to, const std::string& kind,
                                                   size_t count = 1) {
    const absl::Time deadline = absl::Now() + kWait;
    std::vector<nlohmann::json> entries = suite_->LedgerTo(to, kind);
    while (entries.size() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      entries = suite_->LedgerTo(to, kind);
    }
    EXPECT_GE(entries.size(), count) << "the sandbox never got the code's " << kind;
    return entries;
  }

  // The code as the person reads it from their phone: the SMS's digits.
  static std::string CodeInSms(const nlohmann::json& message) {
    std::smatch found;
    const std::string body = message.value("body", "");
    EXPECT_TRUE(std::regex_search(body, found, std::regex("code is ([0-9]{6})"))) << body;
    return found.size() > 1 ? found[1].str() : "";
  }

  // Polls the alert's audit trail until it holds an event of `kind` whose reason contains
  // `reason`; returns the last trail read.
  static alerts::v1::AuditTrail WaitForTrail(const std::string& alert_id, const std::string& kind,
                                             const std::string& reason) {
    const auto recorded = [&](const alerts::v1::AuditTrail& trail) {
      return std::any_of(trail.events().begin(), trail.events().end(),
                         [&](const alerts::v1::AuditEvent& event) {
                           return event.kind() == kind && absl::StrContains(event.reason(), reason);
                         });
    };
    alerts::v1::AuditTrail trail =
        e2e::WaitForTrail(*suite_->QueryStub(), alert_id, recorded, kWait);
    if (!recorded(trail)) {
      ADD_FAILURE() << "the trail of " << alert_id << " never recorded " << kind << " \"" << reason
                    << "\": " << trail.DebugString();
    }
    return trail;
  }
};

TEST_F(VerificationE2eKafkaRedisPostgresTest, TheCodeReadFromThePhoneApprovesOnce) {
  const StartVerificationResponse started = StartOk("+14155550181");
  ASSERT_FALSE(started.verification_id().empty());
  EXPECT_FALSE(started.resent());
  const std::vector<nlohmann::json> messages = WaitForLedger("+14155550181", "message");
  ASSERT_EQ(messages.size(), 1u);
  const std::string code = CodeInSms(messages[0]);

  const CheckVerificationResponse approved = Check(started.verification_id(), code);
  EXPECT_EQ(approved.status(), verify::v1::VERIFICATION_STATUS_APPROVED);
  EXPECT_EQ(Check(started.verification_id(), code).status(),
            verify::v1::VERIFICATION_STATUS_NOT_FOUND);

  // The code's alert is an alert like any other: audit follows it to DELIVERED, and its trail
  // records the check, without the code.
  const alerts::v1::Alert alert = WaitForStatus(*suite_->QueryStub(), started.alert_id(),
                                                types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  const alerts::v1::AuditTrail trail =
      WaitForTrail(started.alert_id(), "verification_checked", "approved");
  EXPECT_THAT(trail.DebugString(), ::testing::Not(HasSubstr(code)));
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, ACheckAtOnceAndACancelAreInTheCodesAlertsTrail) {
  // Checked the moment Start answers, before the code can have reached anyone: the check is
  // still filed in the trail of the alert carrying the code.
  const StartVerificationResponse started = StartOk("+14155550187");
  const std::string never = "000000";
  EXPECT_EQ(Check(started.verification_id(), never).status(),
            verify::v1::VERIFICATION_STATUS_PENDING);
  verify::v1::CancelVerificationRequest cancel;
  cancel.set_verification_id(started.verification_id());
  verify::v1::CancelVerificationResponse cancelled;
  const grpc::Status rpc = suite_->VerificationStub()->CancelVerification(
      Suite::CallContext().get(), cancel, &cancelled);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_FALSE(cancelled.already_ended());

  WaitForTrail(started.alert_id(), "verification_checked", "wrong code, 4 checks left");
  WaitForTrail(started.alert_id(), "verification_cancelled",
               absl::StrCat("verification ", started.verification_id(), " cancelled"));
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, FiveWrongCodesAndThenTheRightOneFails) {
  const StartVerificationResponse started = StartOk("+14155550182");
  const std::string code = CodeInSms(WaitForLedger("+14155550182", "message").at(0));
  const std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 1; i <= 4; ++i) {
    const CheckVerificationResponse checked = Check(started.verification_id(), wrong);
    EXPECT_EQ(checked.status(), verify::v1::VERIFICATION_STATUS_PENDING);
    EXPECT_EQ(checked.checks_left(), 5 - i);
  }
  EXPECT_EQ(Check(started.verification_id(), wrong).status(),
            verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS);
  EXPECT_EQ(Check(started.verification_id(), code).status(),
            verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS);
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, ACodeExpires) {
  const StartVerificationResponse started = StartOk("+14155550183");
  const std::string code = CodeInSms(WaitForLedger("+14155550183", "message").at(0));
  absl::SleepFor(kCodeValidity + absl::Seconds(1));
  EXPECT_EQ(Check(started.verification_id(), code).status(),
            verify::v1::VERIFICATION_STATUS_EXPIRED);
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, ACallSpeaksTheDigitsOfTheCodeTwice) {
  const StartVerificationResponse started = StartOk("+14155550184", types::v1::CHANNEL_VOICE);
  const std::vector<nlohmann::json> calls = WaitForLedger("+14155550184", "call");
  ASSERT_EQ(calls.size(), 1u);
  const std::string twiml = calls[0].value("twiml", "");
  std::smatch spoken;
  ASSERT_TRUE(std::regex_search(
      twiml, spoken, std::regex("code is: (([0-9]\\. ){5}[0-9]\\.) Once again, your code is: \\1")))
      << twiml;
  const std::string digits = std::regex_replace(spoken[1].str(), std::regex("[^0-9]"), "");
  EXPECT_EQ(Check(started.verification_id(), digits).status(),
            verify::v1::VERIFICATION_STATUS_APPROVED);
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, AGermanCodeIsReadInGermanWithoutAskingForAKey) {
  StartOk("+14155550186", types::v1::CHANNEL_VOICE, "de");
  const std::vector<nlohmann::json> calls = WaitForLedger("+14155550186", "call");
  ASSERT_EQ(calls.size(), 1u);
  const std::string twiml = calls[0].value("twiml", "");
  EXPECT_THAT(twiml, HasSubstr("language=\"de-DE\">Ihr Bestätigungscode lautet: "));
  EXPECT_THAT(twiml, Not(HasSubstr("<Gather")));
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, TheSixthStartInAnHourIsRefusedAndResendsKeepOneCode) {
  const std::string recipient = "+14155550185";
  const StartVerificationResponse first = StartOk(recipient);
  for (int i = 2; i <= 5; ++i) {
    const StartVerificationResponse again = StartOk(recipient);
    EXPECT_TRUE(again.resent());
    EXPECT_EQ(again.verification_id(), first.verification_id());
  }
  StartVerificationResponse sixth;
  const grpc::Status refused = Start(recipient, types::v1::CHANNEL_SMS, sixth);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("5 verifications per hour"));
  EXPECT_THAT(refused.error_message(), ::testing::Not(HasSubstr("4155550185")));

  const std::vector<nlohmann::json> messages = WaitForLedger(recipient, "message", 5);
  ASSERT_EQ(messages.size(), 5u);
  for (const nlohmann::json& message : messages) {
    EXPECT_EQ(CodeInSms(message), CodeInSms(messages[0]));
  }
}

TEST_F(VerificationE2eKafkaRedisPostgresTest, ADisallowedCountryIsRefusedWithoutCallingTwilio) {
  StartVerificationResponse started;
  const grpc::Status refused = Start("+442071838750", types::v1::CHANNEL_SMS, started);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("GB"));
  // Given time to arrive, nothing reached the sandbox, accepted or refused.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(suite_->LedgerTo("+442071838750", "message").empty());
  for (const nlohmann::json& entry : suite_->Rejected()) {
    EXPECT_NE(entry.value("to", ""), "+442071838750");
  }
}

}  // namespace
}  // namespace klaxon::e2e::verification_test
