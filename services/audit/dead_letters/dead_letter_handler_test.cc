#include "services/audit/dead_letters/dead_letter_handler.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/audit/v1/stored.pb.h"
#include "services/audit/dead_letters/stored_dead_letter.h"
#include "services/audit/testing/dead_letter_fixtures.h"

namespace klaxon::audit::dead_letter_handler_test {
namespace {

using ::testing::HasSubstr;
using testing::kAlertId;
using testing::kDeadLetteredAt;
using testing::kRecipient;
using testing::kText;
using ::testing::Not;

class DeadLetterHandlerTest : public ::testing::Test, protected testing::FakeBackedDeadLetters {
 protected:
  absl::Status Consume(const std::string& value) {
    return handler_.Handle(
        {.topic = "t.klaxon.dlq", .partition = 2, .offset = 7, .key = kAlertId, .value = value});
  }

  double Consumed(const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_dead_letters_consumed_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label[0].value == result) return metric.counter.value;
      }
    }
    return 0;
  }

  std::string Logs() const {
    std::string all;
    for (const std::string& line : sink_.Lines()) all += line + "\n";
    return all;
  }
};

TEST_F(DeadLetterHandlerTest, StoresTheSummaryAndTheRecipientsBlindIndex) {
  ASSERT_TRUE(Consume(testing::Letter(testing::Request(kAlertId)).SerializeAsString()).ok());
  absl::StatusOr<std::optional<StoredDeadLetter>> stored = store_.Get("billing", kAlertId);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const DeadLetterSummary& summary = (*stored)->summary;
  EXPECT_EQ(summary.channel, types::v1::CHANNEL_SMS);
  EXPECT_EQ(summary.attempt, 3u);
  EXPECT_EQ(summary.reason, "out of attempts after 3; last: HTTP 503");
  EXPECT_EQ(summary.twilio_error_code, 30008);
  EXPECT_EQ(summary.recipient_country_code, "1");
  EXPECT_EQ(summary.recipient_last4, "0123");
  EXPECT_EQ(summary.dead_lettered_at, kDeadLetteredAt);
  EXPECT_FALSE(summary.replayed_as.has_value());
  EXPECT_EQ(store_.RecipientIndex(kAlertId), blind_index_.Compute(kRecipient));
  EXPECT_EQ(Consumed("stored"), 1);
}

TEST_F(DeadLetterHandlerTest, SealsTheWholeRequestUnderTheRecordsDataKey) {
  const events::v1::AlertRequested request = testing::Request(kAlertId);
  ASSERT_TRUE(Consume(testing::Letter(request).SerializeAsString()).ok());
  const StoredDeadLetter stored = store_.Get("billing", kAlertId).value().value();
  EXPECT_THAT(stored.request_ciphertext, Not(HasSubstr(kRecipient)));
  EXPECT_THAT(stored.request_ciphertext, Not(HasSubstr(kText)));
  absl::StatusOr<Fields> opened =
      personal_data_.Open(kDeadLettersTable, kAlertId, *stored.wrapped_key,
                          {{kRequestColumn, stored.request_ciphertext}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  // Opened from its transit seal and stored under audit's keyring alone (ADR 0013).
  absl::StatusOr<OpenedDeadLetterRequest> parsed =
      ParseStoredDeadLetterRequest(opened->at(kRequestColumn));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->request.has_personal());
  EXPECT_EQ(parsed->request.idempotency_key(), request.idempotency_key());
  EXPECT_EQ(parsed->personal.recipient, kRecipient);
  EXPECT_EQ(parsed->personal.text, kText);
}

TEST_F(DeadLetterHandlerTest, ARowStoredBeforeTheTransitSealStillReads) {
  // Before ADR 0013 the stored request carried recipient (2) and text (3) in plaintext fields.
  // Field order as the old message serialized: header (1), recipient (2), text (3), the rest.
  events::v1::AlertRequested rest = testing::Request(kAlertId);
  rest.clear_personal();
  events::v1::AlertRequested header_only;
  *header_only.mutable_header() = rest.header();
  rest.clear_header();
  audit::v1::DeadLetterPersonal old_fields;
  old_fields.set_recipient(kRecipient);
  old_fields.set_text(kText);
  const std::string stored =
      header_only.SerializeAsString() + old_fields.SerializeAsString() + rest.SerializeAsString();
  absl::StatusOr<OpenedDeadLetterRequest> parsed = ParseStoredDeadLetterRequest(stored);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->personal.recipient, kRecipient);
  EXPECT_EQ(parsed->request.header().alert_id(), kAlertId);
  EXPECT_EQ(parsed->request.idempotency_key(), "deploy-42");
  EXPECT_EQ(parsed->request.SerializeAsString().find(kRecipient), std::string::npos);
}

TEST_F(DeadLetterHandlerTest, ARepeatedDeadLetterIsStoredOnce) {
  const std::string value = testing::Letter(testing::Request(kAlertId)).SerializeAsString();
  ASSERT_TRUE(Consume(value).ok());
  ASSERT_TRUE(Consume(value).ok());
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_EQ(Consumed("duplicate"), 1);
}

TEST_F(DeadLetterHandlerTest, AnUndecodableMessageIsSkippedCountedAndLoggedWithoutPersonalData) {
  events::v1::AlertRequested request = testing::Request(kAlertId);
  request.mutable_header()->set_alert_id("not-a-uuid");
  const absl::Status status = Consume(testing::Letter(request).SerializeAsString());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Consume("\xff garbage").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(Consumed("invalid"), 2);
  EXPECT_THAT(Logs(), HasSubstr("dead_letter_invalid"));
  EXPECT_THAT(Logs(), Not(HasSubstr(kRecipient)));
  EXPECT_THAT(Logs(), Not(HasSubstr(kText)));
}

TEST_F(DeadLetterHandlerTest, ALetterWithoutAValidRecipientIsSkipped) {
  events::v1::AlertRequested request = testing::Request(kAlertId);
  testing::Transit().Seal(request, "+1415", testing::kText);
  EXPECT_EQ(Consume(testing::Letter(request).SerializeAsString()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(DeadLetterHandlerTest, AStoreOutageIsRetried) {
  store_.FailWith(absl::InternalError("connection reset"));
  const absl::Status status =
      Consume(testing::Letter(testing::Request(kAlertId)).SerializeAsString());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Consumed("retry"), 1);
}

TEST_F(DeadLetterHandlerTest, TheStoredLineNamesTheAlertButNotTheRecipient) {
  ASSERT_TRUE(Consume(testing::Letter(testing::Request(kAlertId)).SerializeAsString()).ok());
  EXPECT_THAT(Logs(), HasSubstr(kAlertId));
  EXPECT_THAT(Logs(), Not(HasSubstr(kRecipient)));
  EXPECT_THAT(Logs(), Not(HasSubstr(kText)));
}

}  // namespace
}  // namespace klaxon::audit::dead_letter_handler_test
