#include "tools/klaxonctl/format.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

alerts::v1::Alert FailedSmsAlert() {
  alerts::v1::Alert alert;
  alert.set_alert_id("0190a1b2-0000-7000-8000-000000000001");
  alert.set_channel(types::v1::CHANNEL_SMS);
  alert.set_status(types::v1::ALERT_STATUS_FAILED);
  alert.set_recipient_country_code("1");
  alert.set_recipient_last4("2671");
  alert.set_twilio_sid("SM0123456789abcdef0123456789abcdef");
  alert.set_twilio_error_code(21610);
  alert.set_reason("recipient unsubscribed");
  alert.mutable_created_at()->set_seconds(1'717'243'200);
  alert.mutable_updated_at()->set_seconds(1'717'243'201);
  alert.mutable_updated_at()->set_nanos(250'000'000);
  alerts::v1::Attempt* attempt = alert.add_attempts();
  attempt->set_number(1);
  attempt->set_channel(types::v1::CHANNEL_SMS);
  attempt->set_status(types::v1::ALERT_STATUS_FAILED);
  attempt->set_twilio_sid("SM0123456789abcdef0123456789abcdef");
  attempt->set_twilio_error_code(21610);
  attempt->set_reason("recipient unsubscribed");
  attempt->mutable_occurred_at()->set_seconds(1'717'243'201);
  return alert;
}

TEST(StatusNameTest, RoundTripsThroughParseStatus) {
  for (int number = types::v1::AlertStatus_MIN + 1; number <= types::v1::AlertStatus_MAX;
       ++number) {
    const auto status = static_cast<types::v1::AlertStatus>(number);
    const absl::StatusOr<types::v1::AlertStatus> parsed = ParseStatus(StatusName(status));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, status);
  }
}

TEST(ParseStatusTest, IgnoresCase) {
  const absl::StatusOr<types::v1::AlertStatus> parsed = ParseStatus("delivered");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, types::v1::ALERT_STATUS_DELIVERED);
}

TEST(ParseStatusTest, RejectsUnknownName) {
  EXPECT_EQ(ParseStatus("READ").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseChannelTest, AcceptsSmsAndVoiceInAnyCase) {
  const absl::StatusOr<types::v1::Channel> sms = ParseChannel("SMS");
  const absl::StatusOr<types::v1::Channel> voice = ParseChannel("voice");
  ASSERT_TRUE(sms.ok() && voice.ok());
  EXPECT_EQ(*sms, types::v1::CHANNEL_SMS);
  EXPECT_EQ(*voice, types::v1::CHANNEL_VOICE);
}

TEST(ParseChannelTest, RejectsUnknownChannel) {
  EXPECT_EQ(ParseChannel("fax").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MaskedRecipientTest, ShowsCountryCodeAndLastFourOnly) {
  EXPECT_EQ(MaskedRecipient(FailedSmsAlert()), "+1 ••• 2671");
}

TEST(MaskedRecipientTest, SaysUnknownWithoutDigits) {
  EXPECT_EQ(MaskedRecipient(alerts::v1::Alert()), "unknown");
}

TEST(FormatAlertTest, ShowsEveryField) {
  const std::string text = FormatAlert(FailedSmsAlert());
  EXPECT_THAT(text, HasSubstr("alert id    0190a1b2-0000-7000-8000-000000000001\n"));
  EXPECT_THAT(text, HasSubstr("status      FAILED\n"));
  EXPECT_THAT(text, HasSubstr("channel     sms\n"));
  EXPECT_THAT(text, HasSubstr("recipient   +1 ••• 2671\n"));
  EXPECT_THAT(text, HasSubstr("twilio sid  SM0123456789abcdef0123456789abcdef\n"));
  EXPECT_THAT(text, HasSubstr("error       21610: recipient unsubscribed\n"));
  EXPECT_THAT(text, HasSubstr("created     2024-06-01T12:00:00.000Z\n"));
  EXPECT_THAT(text, HasSubstr("updated     2024-06-01T12:00:01.250Z\n"));
  EXPECT_THAT(text, HasSubstr("attempts    1\n"));
  EXPECT_THAT(text, HasSubstr("  #1   sms   FAILED       SM0123456789abcdef0123456789abcdef"));
}

TEST(FormatAlertTest, NamesTheTemplateTheTextCameFrom) {
  alerts::v1::Alert alert = FailedSmsAlert();
  EXPECT_THAT(FormatAlert(alert), Not(HasSubstr("template")));
  alert.set_template_name("disk-full");
  alert.set_template_locale("de-DE");
  alert.set_template_version(3);
  EXPECT_THAT(FormatAlert(alert), HasSubstr("template    disk-full (de-DE v3)\n"));
}

TEST(StatusNameListTest, NamesEveryStatusInRankOrder) {
  EXPECT_EQ(StatusNameList(),
            "QUEUED, WAITING, SENT, DELIVERED, UNDELIVERED, FAILED, SUPPRESSED, CANCELLED or "
            "ACKNOWLEDGED");
}

TEST(FormatAlertTest, ShowsDashesForAbsentValues) {
  alerts::v1::Alert alert;
  alert.set_alert_id("a1");
  alert.set_status(types::v1::ALERT_STATUS_QUEUED);
  const std::string text = FormatAlert(alert);
  EXPECT_THAT(text, HasSubstr("twilio sid  -\n"));
  EXPECT_THAT(text, HasSubstr("error       -\n"));
  EXPECT_THAT(text, HasSubstr("updated     -\n"));
  EXPECT_THAT(text, HasSubstr("attempts    0\n"));
}

TEST(ToJsonTest, UsesSchemaFieldNamesAndPrintsDefaults) {
  alerts::v1::SendAlertResponse response;
  response.set_alert_id("a1");
  const absl::StatusOr<std::string> json = ToJson(response);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"alert_id":"a1","duplicate":false,"segments":0})");
}

TEST(FormatAlertRowTest, ShowsIdStatusChannelMaskedRecipientAndCreation) {
  EXPECT_EQ(FormatAlertRow(FailedSmsAlert()),
            "0190a1b2-0000-7000-8000-000000000001  FAILED        sms    +1 ••• 2671    "
            "2024-06-01T12:00:00.000Z\n");
}

TEST(FormatStatusChangeTest, ShowsWhenStatusAndError) {
  EXPECT_EQ(FormatStatusChange(FailedSmsAlert()),
            "2024-06-01T12:00:01.250Z  FAILED        21610: recipient unsubscribed\n");
}

TEST(FormatReportTest, ShowsRowsWithRates) {
  alerts::v1::DeliveryReport report;
  report.mutable_total()->set_alerts(8);
  report.mutable_total()->set_succeeded(6);
  report.mutable_total()->set_failed(2);
  report.mutable_total()->set_success_rate(0.75);
  alerts::v1::DeliveryReportRow* country = report.add_by_country();
  country->set_key("44");
  country->set_alerts(8);
  const std::string table = FormatReport(report);
  EXPECT_THAT(table, HasSubstr("total                 8          6        2         0        0"
                               "    75.0%"));
  EXPECT_THAT(table, HasSubstr("country +44"));
}

TEST(FormatReportTest, ShowsWhatTwilioChargedByChannelAndAccount) {
  alerts::v1::DeliveryReport report;
  EXPECT_THAT(FormatReport(report), HasSubstr("cost    none read back from Twilio yet"));
  alerts::v1::CostReportRow* cost = report.add_costs();
  cost->set_channel(types::v1::CHANNEL_SMS);
  cost->set_twilio_account("main");
  cost->set_currency("USD");
  cost->set_amount("0.0237");
  cost->set_charged_attempts(3);
  cost->set_segments(3);
  const std::string table = FormatReport(report);
  EXPECT_THAT(table, HasSubstr("sms    main                   0.0237 USD          3         3"));
}

TEST(FormatAlertTest, ShowsEachAttemptsCost) {
  alerts::v1::Alert alert;
  alerts::v1::Attempt* attempt = alert.add_attempts();
  attempt->set_number(1);
  attempt->mutable_charge()->set_amount("0.0158");
  attempt->mutable_charge()->set_currency("USD");
  attempt->mutable_charge()->set_segments(2);
  attempt->mutable_charge()->set_twilio_account("main");
  EXPECT_THAT(FormatAlert(alert), HasSubstr("cost 0.0158 USD, 2 segments, account main"));
}

TEST(FormatTrailTest, SaysWhenNothingWasRecorded) {
  alerts::v1::AuditTrail trail;
  trail.set_alert_id("a1");
  EXPECT_THAT(FormatTrail(trail), HasSubstr("no events recorded"));
}

}  // namespace
}  // namespace klaxon::ctl
