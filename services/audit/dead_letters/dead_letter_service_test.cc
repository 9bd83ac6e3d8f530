// Runs DeadLetterService in a real in-process gRPC server on a free loopback port, with fakes
// behind the store and Kafka ports.
#include "services/audit/dead_letters/dead_letter_service.h"

#include <memory>
#include <string>

#include "common/ids/id_generator.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/prototime/prototime.h"
#include "common/timing/fake_clock.h"
#include "gtest/gtest.h"
#include "services/audit/testing/dead_letter_fixtures.h"
#include "services/audit/testing/loopback_server.h"

namespace klaxon::audit::dead_letter_service_test {
namespace {

using klaxon::alerts::v1::DeadLetterRecord;
using klaxon::alerts::v1::GetDeadLetterRequest;
using klaxon::alerts::v1::ListDeadLettersRequest;
using klaxon::alerts::v1::ListDeadLettersResponse;
using klaxon::alerts::v1::ReplayDeadLetterRequest;
using klaxon::alerts::v1::ReplayDeadLetterResponse;
using klaxon::alerts::v1::ReplayDeadLettersRequest;
using klaxon::alerts::v1::ReplayDeadLettersResponse;
using testing::kAlertId;

constexpr char kNewAlertId[] = "0190f1c4-0000-7000-8000-000000000001";
constexpr char kBillingKey[] = "billing-secret-key";
constexpr char kPaymentsKey[] = "payments-secret-key";
constexpr char kOncallKey[] = "oncall-secret-key";

auth::ApiKeyRegistry Keys() {
  return auth::ApiKeyRegistry::Parse("billing=" + auth::HashApiKey(kBillingKey) +
                                         ",payments=" + auth::HashApiKey(kPaymentsKey) +
                                         ",oncall=" + auth::HashApiKey(kOncallKey),
                                     {"oncall"})
      .value();
}

class DeadLetterServiceTest : public ::testing::Test, protected testing::FakeBackedDeadLetters {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        handler_
            .Handle({.topic = "klaxon.dlq",
                     .value = testing::Letter(testing::Request(kAlertId)).SerializeAsString()})
            .ok());
    ASSERT_NO_FATAL_FAILURE(server_.Start<klaxon::alerts::v1::DeadLetters>(service_, stub_));
  }

  void TearDown() override { server_.Shutdown(); }

  messaging::FakePublisher publisher_;
  timing::FakeClock clock_{testing::kDeadLetteredAt};
  // The first replay mints kNewAlertId.
  ids::CountingIdGenerator alert_ids_{"0190f1c4-0000-7000-8000-00000000000"};
  DeadLetterQueue queue_{{.topics = Topics::WithPrefix("")},
                         store_,
                         personal_data_,
                         publisher_,
                         metrics_,
                         clock_,
                         alert_ids_,
                         logger_,
                         testing::Transit().cipher()};
  auth::ApiKeyRegistry keys_ = Keys();
  DeadLetterService service_{keys_, queue_};
  testing::LoopbackServer server_;
  std::unique_ptr<klaxon::alerts::v1::DeadLetters::Stub> stub_;
};

TEST_F(DeadLetterServiceTest, ListsTheCallersDeadLettersWithoutPersonalData) {
  ListDeadLettersResponse response;
  const grpc::Status status = stub_->ListDeadLetters(testing::CallContext(kBillingKey).get(),
                                                     ListDeadLettersRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.dead_letters_size(), 1);
  const DeadLetterRecord& record = response.dead_letters(0);
  EXPECT_EQ(record.alert_id(), kAlertId);
  EXPECT_EQ(record.attempts(), 3u);
  EXPECT_EQ(record.twilio_error_code(), 30008);
  EXPECT_EQ(record.recipient_last4(), "0123");
  EXPECT_EQ(record.dead_lettered_at().seconds(), absl::ToUnixSeconds(testing::kDeadLetteredAt));
  EXPECT_EQ(record.recipient(), "");
  EXPECT_EQ(record.text(), "");
}

TEST_F(DeadLetterServiceTest, GetDeadLetterAnswersWithRecipientAndText) {
  GetDeadLetterRequest request;
  request.set_alert_id(kAlertId);
  DeadLetterRecord record;
  const grpc::Status status =
      stub_->GetDeadLetter(testing::CallContext(kBillingKey).get(), request, &record);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(record.recipient(), testing::kRecipient);
  EXPECT_EQ(record.text(), testing::kText);
}

TEST_F(DeadLetterServiceTest, ReplayAnswersTheNewIdThenTheSameIdAsAlreadyReplayed) {
  ReplayDeadLetterRequest request;
  request.set_alert_id(kAlertId);
  ReplayDeadLetterResponse first;
  ASSERT_TRUE(
      stub_->ReplayDeadLetter(testing::CallContext(kBillingKey).get(), request, &first).ok());
  EXPECT_EQ(first.alert_id(), kNewAlertId);
  EXPECT_FALSE(first.already_replayed());
  ReplayDeadLetterResponse second;
  ASSERT_TRUE(
      stub_->ReplayDeadLetter(testing::CallContext(kBillingKey).get(), request, &second).ok());
  EXPECT_EQ(second.alert_id(), kNewAlertId);
  EXPECT_TRUE(second.already_replayed());
}

TEST_F(DeadLetterServiceTest, AnotherCallersDeadLetterIsNotFound) {
  GetDeadLetterRequest get;
  get.set_alert_id(kAlertId);
  DeadLetterRecord record;
  EXPECT_EQ(
      stub_->GetDeadLetter(testing::CallContext(kPaymentsKey).get(), get, &record).error_code(),
      grpc::StatusCode::NOT_FOUND);
  ReplayDeadLetterRequest replay;
  replay.set_alert_id(kAlertId);
  ReplayDeadLetterResponse replayed;
  EXPECT_EQ(stub_->ReplayDeadLetter(testing::CallContext(kPaymentsKey).get(), replay, &replayed)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DeadLetterServiceTest, OperatorListsEveryCallersDeadLettersWithTheirCaller) {
  ListDeadLettersRequest request;
  request.set_all_callers(true);
  ListDeadLettersResponse response;
  const grpc::Status status =
      stub_->ListDeadLetters(testing::CallContext(kOncallKey).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.dead_letters_size(), 1);
  EXPECT_EQ(response.dead_letters(0).caller(), "billing");
  EXPECT_EQ(response.dead_letters(0).cause(), "max_attempts");
  EXPECT_EQ(stub_->ListDeadLetters(testing::CallContext(kPaymentsKey).get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(DeadLetterServiceTest, OperatorReplaysInBulkByCauseAndTimeRange) {
  ReplayDeadLettersRequest request;
  request.mutable_filter()->set_cause("max_attempts");
  prototime::SetTimestamp(testing::kDeadLetteredAt - absl::Minutes(1),
                          request.mutable_filter()->mutable_dead_lettered_from());
  prototime::SetTimestamp(testing::kDeadLetteredAt + absl::Minutes(1),
                          request.mutable_filter()->mutable_dead_lettered_before());
  ReplayDeadLettersResponse response;
  EXPECT_EQ(stub_->ReplayDeadLetters(testing::CallContext(kBillingKey).get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status status =
      stub_->ReplayDeadLetters(testing::CallContext(kOncallKey).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.replayed_size(), 1);
  EXPECT_EQ(response.replayed(0).dead_letter_id(), kAlertId);
  EXPECT_EQ(response.replayed(0).caller(), "billing");
  EXPECT_EQ(response.replayed(0).alert_id(), kNewAlertId);
  EXPECT_EQ(response.next_page_token(), "");
  ASSERT_EQ(store_.trail().size(), 1u);
  EXPECT_EQ(store_.trail()[0].replayed_by, "oncall");
}

TEST_F(DeadLetterServiceTest, ACallWithoutAnApiKeyIsUnauthenticated) {
  ListDeadLettersResponse response;
  EXPECT_EQ(stub_
                ->ListDeadLetters(testing::CallContext(nullptr).get(), ListDeadLettersRequest(),
                                  &response)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace klaxon::audit::dead_letter_service_test
