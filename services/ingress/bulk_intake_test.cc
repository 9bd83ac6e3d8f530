// BulkIntake over a real AlertIntake on in-memory ports: one alert per recipient, each accepted
// or refused on its own, and a retried batch sends nothing twice.
#include "services/ingress/bulk_intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/templates/template_limits.h"
#include "klaxon/events/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/ingress/intake_admission.h"
#include "services/ingress/send_alert_validation.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::SendAlertsRequest;
using alerts::v1::SendAlertsResponse;
using ::testing::HasSubstr;

SendAlertsRequest Batch(std::vector<std::string> recipients, std::string key = "batch-1") {
  SendAlertsRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  for (std::string& recipient : recipients) request.add_recipients(std::move(recipient));
  request.set_text("db-1 is down");
  request.set_idempotency_key(std::move(key));
  (*request.mutable_metadata())["team"] = "db";
  return request;
}

class BulkIntakeTest : public ::testing::Test {
 protected:
  absl::StatusOr<SendAlertsResponse> Send(const SendAlertsRequest& request) {
    std::promise<absl::StatusOr<SendAlertsResponse>> answer;
    bulk_.Send("billing", "billing-key", request,
               [&answer](absl::StatusOr<SendAlertsResponse> response) {
                 answer.set_value(std::move(response));
               });
    return answer.get_future().get();
  }

  // The text published for each recipient, in the order published.
  std::vector<std::string> PublishedTexts() {
    std::vector<std::string> texts;
    for (const auto& message : harness_.publisher().published()) {
      events::v1::AlertRequested event;
      EXPECT_TRUE(event.ParseFromString(message.value));
      absl::StatusOr<transit::AlertPersonalData> opened = harness_.transit().OpenAlert(event);
      EXPECT_TRUE(opened.ok()) << opened.status();
      texts.push_back(opened.ok() ? opened->text : "");
    }
    return texts;
  }

  // Renders "Disk full on {{host}} ({{team}})" as audit would, refusing a missing parameter.
  class HostRenderer final : public TemplateRenderer {
   public:
    absl::StatusOr<alerts::v1::RenderedTemplate> Render(
        std::string_view caller_key, types::v1::Channel,
        const alerts::v1::TemplateRef& ref) override {
      asked_keys.emplace_back(caller_key);
      for (const char* name : {"host", "team"}) {
        if (!ref.parameters().contains(name)) {
          return absl::InvalidArgumentError(
              absl::StrCat("template.parameters: missing \"", name, "\""));
        }
      }
      alerts::v1::RenderedTemplate rendered;
      rendered.set_name(ref.name());
      rendered.set_version(1);
      rendered.set_text(absl::StrCat("Disk full on ", ref.parameters().at("host"), " (",
                                     ref.parameters().at("team"), ")"));
      return rendered;
    }

    std::vector<std::string> asked_keys;
  };

  HostRenderer renderer_;
  testing::IntakeHarness harness_{{.templates = &renderer_}};
  BulkIntake bulk_{harness_.intake(), harness_.clock()};
};

// A templated batch: the template's own parameters for everyone, each recipient's beside them.
SendAlertsRequest TemplatedBatch(std::vector<std::string> recipients,
                                 std::vector<std::map<std::string, std::string>> parameters) {
  SendAlertsRequest request = Batch(std::move(recipients), "templated-1");
  request.clear_text();
  alerts::v1::TemplateRef& ref = *request.mutable_template_();
  ref.set_name("disk-full");
  (*ref.mutable_parameters())["team"] = "db";
  for (const auto& values : parameters) {
    alerts::v1::TemplateParameters& own = *request.add_recipient_parameters();
    own.mutable_values()->insert(values.begin(), values.end());
  }
  return request;
}

TEST_F(BulkIntakeTest, EachRecipientGetsItsOwnAlertUnderTheBatchKeyAndItsPlace) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(Batch({"+14155550101", "+14155550102", "+14155550103"}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 3);
  EXPECT_EQ(sent->refused(), 0);
  ASSERT_EQ(sent->outcomes_size(), 3);
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sent->outcomes(i).index(), i);
    EXPECT_EQ(sent->outcomes(i).status_code(), 0);
    EXPECT_FALSE(sent->outcomes(i).duplicate());
    ids.insert(sent->outcomes(i).alert_id());
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(harness_.publisher().published().size(), 3u);
}

// The recipients, in one round trip to Redis for up to 64 of them, not one per recipient.
TEST_F(BulkIntakeTest, TheRecipientsKeysAreReservedTogether) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(Batch({"+14155550101", "+14155550102", "555-0103", "+14155550104"}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 3);
  EXPECT_EQ(harness_.store().reserve_calls(), 1);
}

// Each recipient holds an in-flight slot until Kafka answers: a bulk larger than the replica's
// slots goes in by slices, so it is not refused for its own size.
TEST(BulkIntakeAdmissionTest, ABulkLargerThanTheInFlightSlotsIsTakenWhole) {
  prometheus::Registry registry;
  IntakeAdmission admission({.max_in_flight = 64}, registry);
  testing::IntakeHarness harness({.admission = &admission});
  BulkIntake bulk(harness.intake(), harness.clock());
  std::vector<std::string> recipients;
  for (int i = 0; i < 200; ++i) recipients.push_back(absl::StrCat("+1415555", 1000 + i));
  std::promise<absl::StatusOr<SendAlertsResponse>> answer;
  bulk.Send("billing", "billing-key", Batch(recipients),
            [&answer](absl::StatusOr<SendAlertsResponse> response) {
              answer.set_value(std::move(response));
            });
  const absl::StatusOr<SendAlertsResponse> sent = answer.get_future().get();
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 200) << sent->DebugString().substr(0, 500);
  EXPECT_EQ(harness.store().reserve_calls(), 4);  // 64 + 64 + 64 + 8
}

TEST_F(BulkIntakeTest, EachRecipientsAlertAsksForAnAckReplyWhenTheBatchDoes) {
  SendAlertsRequest request = Batch({"+14155550101", "+14155550102"});
  request.set_ack_by_reply(true);
  // This harness binds no codes, so each recipient's SendAlert says it cannot ask for one.
  const absl::StatusOr<SendAlertsResponse> sent = Send(request);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->refused(), 2);
  for (const alerts::v1::RecipientOutcome& outcome : sent->outcomes()) {
    EXPECT_EQ(outcome.status_code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(outcome.status_message(), HasSubstr("ack_by_reply:"));
  }
}

TEST_F(BulkIntakeTest, ABadNumberRefusesOnlyItsRecipient) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(Batch({"+14155550101", "555-0102", "+14155550103"}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 2);
  EXPECT_EQ(sent->refused(), 1);
  EXPECT_FALSE(sent->outcomes(0).alert_id().empty());
  EXPECT_EQ(sent->outcomes(1).status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(sent->outcomes(1).status_message(), HasSubstr("recipient"));
  EXPECT_TRUE(sent->outcomes(1).alert_id().empty());
  EXPECT_FALSE(sent->outcomes(2).alert_id().empty());
  EXPECT_EQ(harness_.publisher().published().size(), 2u);
}

TEST_F(BulkIntakeTest, ANumberGivenTwiceIsPagedOnce) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(Batch({"+14155550101", "+14155550102", "+14155550101"}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 2);
  EXPECT_THAT(sent->outcomes(2).status_message(),
              HasSubstr("recipients[2]: the same number as recipients[0]"));
  EXPECT_EQ(harness_.publisher().published().size(), 2u);
}

TEST_F(BulkIntakeTest, ARetriedBatchAnswersTheSameAlertsAndSendsNothingTwice) {
  const SendAlertsRequest batch = Batch({"+14155550101", "+14155550102"});
  const absl::StatusOr<SendAlertsResponse> first = Send(batch);
  const absl::StatusOr<SendAlertsResponse> again = Send(batch);
  ASSERT_TRUE(first.ok() && again.ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(again->outcomes(i).alert_id(), first->outcomes(i).alert_id());
    EXPECT_TRUE(again->outcomes(i).duplicate());
  }
  EXPECT_EQ(harness_.publisher().published().size(), 2u);
}

// A repeat is answered before Send returns, and the gRPC face may free the request as soon as it
// has its answer: nothing of the request may be read after the last answer (the ASan tree
// reports it).
TEST_F(BulkIntakeTest, TheAnswerMayFreeTheRequestAtOnce) {
  auto batch = std::make_unique<SendAlertsRequest>(Batch({"+14155550101", "+14155550102"}));
  ASSERT_TRUE(Send(*batch).ok());
  bool answered = false;
  bulk_.Send("billing", "billing-key", *batch, [&](absl::StatusOr<SendAlertsResponse> response) {
    batch.reset();
    answered = response.ok() && response->outcomes(1).duplicate();
  });
  EXPECT_TRUE(answered);
}

TEST_F(BulkIntakeTest, EachRecipientsTemplateIsRenderedWithItsOwnParametersAsTheCaller) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(TemplatedBatch({"+14155550101", "+14155550102"},
                          {{{"host", "db-1"}}, {{"host", "db-2"}, {"team", "storage"}}}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 2);
  EXPECT_THAT(PublishedTexts(),
              ::testing::ElementsAre("Disk full on db-1 (db)", "Disk full on db-2 (storage)"))
      << "a recipient's value overrides the batch's";
  EXPECT_THAT(renderer_.asked_keys, ::testing::Each(std::string("billing-key")));
}

TEST_F(BulkIntakeTest, AMissingParameterRefusesOnlyItsRecipientNamingIt) {
  const absl::StatusOr<SendAlertsResponse> sent =
      Send(TemplatedBatch({"+14155550101", "+14155550102", "+14155550103"},
                          {{{"host", "db-1"}}, {{"hots", "db-2"}}, {{"host", "db-3"}}}));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->accepted(), 2);
  EXPECT_EQ(sent->outcomes(1).status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(sent->outcomes(1).status_message(), HasSubstr("missing \"host\""));
  EXPECT_THAT(PublishedTexts(),
              ::testing::ElementsAre("Disk full on db-1 (db)", "Disk full on db-3 (db)"));
}

TEST_F(BulkIntakeTest, ATemplatedBatchWithoutRecipientParametersGivesEveryoneTheSameText) {
  SendAlertsRequest request = TemplatedBatch({"+14155550101", "+14155550102"}, {});
  (*request.mutable_template_()->mutable_parameters())["host"] = "db-9";
  const absl::StatusOr<SendAlertsResponse> sent = Send(request);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_THAT(PublishedTexts(), ::testing::Each(std::string("Disk full on db-9 (db)")));
}

TEST_F(BulkIntakeTest, RecipientParametersMustBeOnePerRecipient) {
  const absl::Status refused =
      Send(TemplatedBatch({"+14155550101", "+14155550102"}, {{{"host", "db-1"}}})).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr("recipient_parameters: one per recipient or none; got 1 for 2"));
  EXPECT_TRUE(harness_.publisher().published().empty());
}

TEST_F(BulkIntakeTest, RecipientParametersNeedATemplate) {
  SendAlertsRequest untemplated = Batch({"+14155550101"});
  (*untemplated.add_recipient_parameters()->mutable_values())["host"] = "db-1";
  const absl::Status refused = Send(untemplated).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("recipient_parameters: only with template"));
  EXPECT_TRUE(harness_.publisher().published().empty());
}

TEST_F(BulkIntakeTest, WhatEveryRecipientSharesIsCheckedOnceAndRefusesTheBatch) {
  SendAlertsRequest long_text = Batch({"+14155550101", "+14155550102"});
  long_text.set_text(std::string(kMaxTextCharacters + 1, 'x'));
  EXPECT_THAT(Send(long_text).status().message(), HasSubstr("text: is 1601 characters long"));
  SendAlertsRequest big_parameters = TemplatedBatch({"+14155550101"}, {});
  (*big_parameters.mutable_template_()->mutable_parameters())["host"] =
      std::string(templates::kMaxParameterBytes + 1, 'h');
  EXPECT_THAT(Send(big_parameters).status().message(), HasSubstr("template.parameters:"));
  EXPECT_TRUE(harness_.publisher().published().empty());
}

TEST_F(BulkIntakeTest, TheBatchIsRefusedWholeForItsOwnFields) {
  EXPECT_THAT(Send(Batch({})).status().message(), HasSubstr("recipients: at least one"));
  std::vector<std::string> too_many(kMaxBulkRecipients + 1, "+14155550101");
  EXPECT_THAT(Send(Batch(too_many)).status().message(), HasSubstr("at most 1000"));
  EXPECT_THAT(Send(Batch({"+14155550101"}, "")).status().message(),
              HasSubstr("idempotency_key: is required"));
  EXPECT_THAT(Send(Batch({"+14155550101"}, std::string(121, 'k'))).status().message(),
              HasSubstr("idempotency_key: must be 1 to 120"));
  EXPECT_THAT(Send(Batch({"+14155550101"}, "tab\tkey")).status().message(),
              HasSubstr("printable ASCII characters without spaces"));
  EXPECT_TRUE(harness_.publisher().published().empty());
}

}  // namespace
}  // namespace klaxon::ingress
