#include "services/audit/alert_reader.h"

#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/projection.h"
#include "services/audit/testing/fake_alert_store.h"
#include "services/audit/testing/fake_offset_oracle.h"

namespace klaxon::audit {
namespace {

using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

class AlertReaderTest : public ::testing::Test {
 protected:
  AlertReaderTest() {
    oracle_.SetPartition(topics_.sms_requests, kAlertId, 2);
    oracle_.SetPartition(topics_.voice_requests, kAlertId, 5);
  }

  AlertEvent Requested(const std::string& caller = "billing") {
    return {.kind = AlertEvent::Kind::kRequested,
            .alert_id = kAlertId,
            .caller = caller,
            .channel = klaxon::types::v1::CHANNEL_SMS,
            .attempt = 1,
            .occurred_at = clock_.Now(),
            .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
            .recipient_country_code = "1",
            .recipient_last4 = "0100"};
  }

  // The consumer handling the request at `offset` of the alert's sms partition.
  void Consume(int64_t offset, const std::string& caller = "billing") {
    ASSERT_TRUE(
        store_
            .Apply(Requested(caller),
                   {.topic = topics_.sms_requests, .partition = 2, .next_offset = offset + 1})
            .ok());
  }

  absl::StatusOr<AlertRecord> Get(const std::string& caller = "billing") {
    return reader_.GetAlert(caller, kAlertId, absl::InfiniteFuture());
  }

  Topics topics_ = Topics::WithPrefix("");
  FakeAlertStore store_;
  FakeOffsetOracle oracle_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  AlertReader reader_{
      store_,
      oracle_,
      clock_,
      metrics_,
      {.topics = topics_, .max_wait = absl::Seconds(3), .poll_interval = absl::Milliseconds(20)}};
};

TEST_F(AlertReaderTest, StoredAlertIsReturnedWithoutAskingKafka) {
  Consume(0);
  oracle_.FailWith(absl::UnavailableError("no broker"));
  absl::StatusOr<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AlertReaderTest, MalformedAlertIdIsInvalidArgumentNamingTheField) {
  absl::StatusOr<AlertRecord> alert =
      reader_.GetAlert("billing", "not-a-uuid", absl::InfiniteFuture());
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(alert.status().message(), HasSubstr("alert_id"));
}

TEST_F(AlertReaderTest, AlertOfAnotherCallerIsNotFound) {
  Consume(0, "payments");
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 1);
  absl::StatusOr<AlertRecord> alert = Get("billing");
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AlertReaderTest, UnknownAlertOnCaughtUpPartitionsIsNotFoundWithoutWaiting) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 10);
  ASSERT_TRUE(
      store_.RecordProgress({.topic = topics_.sms_requests, .partition = 2, .next_offset = 10})
          .ok());
  absl::StatusOr<AlertRecord> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AlertReaderTest, WaitsUntilConsumerRecordsJustSentAlert) {
  // SendAlert returned: the request is at offset 4 of sms partition 2, audit has not read it.
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  int sleeps_until_consumed = 3;
  clock_.OnSleep([&] {
    if (--sleeps_until_consumed == 0) Consume(4);
  });
  absl::StatusOr<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
}

TEST_F(AlertReaderTest, WaitsForEveryRequestTopicBeforeNotFound) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  oracle_.SetHighWatermark(topics_.voice_requests, 5, 1);
  ASSERT_TRUE(
      store_.RecordProgress({.topic = topics_.sms_requests, .partition = 2, .next_offset = 5})
          .ok());
  clock_.OnSleep([&] {
    ASSERT_TRUE(
        store_.RecordProgress({.topic = topics_.voice_requests, .partition = 5, .next_offset = 1})
            .ok());
  });
  absl::StatusOr<AlertRecord> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(AlertReaderTest, ConsumerThatDoesNotCatchUpGivesUnavailableAfterMaxWait) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  const absl::Time start = clock_.Now();
  absl::StatusOr<AlertRecord> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(3));
}

TEST_F(AlertReaderTest, CallerDeadlineShortensTheWait) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  const absl::Time start = clock_.Now();
  absl::StatusOr<AlertRecord> alert =
      reader_.GetAlert("billing", kAlertId, start + absl::Milliseconds(500));
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(clock_.Now() - start, absl::Milliseconds(500));
}

TEST_F(AlertReaderTest, KafkaUnreachableIsUnavailable) {
  oracle_.FailWith(absl::UnavailableError("no broker"));
  absl::StatusOr<AlertRecord> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AlertReaderTest, StoreUnreachableIsUnavailable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  absl::StatusOr<AlertRecord> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::audit
