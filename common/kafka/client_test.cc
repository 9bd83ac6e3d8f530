#include "common/kafka/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <memory>

namespace klaxon::kafka {
namespace {

TEST(KafkaErrorToStatusTest, TimeoutsAreDeadlineExceeded) {
  EXPECT_TRUE(absl::IsDeadlineExceeded(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x")));
  EXPECT_TRUE(absl::IsDeadlineExceeded(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__TIMED_OUT, "x")));
}

TEST(KafkaErrorToStatusTest, BrokerTroubleIsUnavailable) {
  EXPECT_TRUE(absl::IsUnavailable(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__TRANSPORT, "x")));
  EXPECT_TRUE(absl::IsUnavailable(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "x")));
  EXPECT_TRUE(absl::IsUnavailable(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, "x")));
}

TEST(KafkaErrorToStatusTest, FullQueueIsResourceExhausted) {
  EXPECT_TRUE(absl::IsResourceExhausted(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x")));
}

TEST(KafkaErrorToStatusTest, FatalErrorIsInternal) {
  EXPECT_TRUE(absl::IsInternal(KafkaErrorToStatus(RD_KAFKA_RESP_ERR__FATAL, "x")));
}

TEST(KafkaErrorToStatusTest, OversizedMessageIsInvalidArgument) {
  EXPECT_TRUE(
      absl::IsInvalidArgument(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x")));
}

TEST(KafkaErrorToStatusTest, MessageNamesContextAndCause) {
  const absl::Status status = KafkaErrorToStatus(RD_KAFKA_RESP_ERR__QUEUE_FULL, "publish to t");
  EXPECT_EQ(status.message(),
            std::string("publish to t: ") + rd_kafka_err2str(RD_KAFKA_RESP_ERR__QUEUE_FULL));
}

TEST(KafkaErrorToStatusTest, NoErrorIsOk) {
  EXPECT_TRUE(KafkaErrorToStatus(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
}

TEST(IsRetryableTest, OnlyTransientCodesAreRetryable) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("")));
  EXPECT_TRUE(IsRetryable(absl::DeadlineExceededError("")));
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("")));
  EXPECT_FALSE(IsRetryable(absl::InternalError("")));
  EXPECT_FALSE(IsRetryable(absl::OkStatus()));
}

TEST(ToTimeoutMsTest, RoundsSubMillisecondUpAndSaturates) {
  EXPECT_EQ(ToTimeoutMs(absl::Microseconds(10)), 1);
  EXPECT_EQ(ToTimeoutMs(absl::ZeroDuration()), 0);
  EXPECT_EQ(ToTimeoutMs(-absl::Seconds(1)), 0);
  EXPECT_EQ(ToTimeoutMs(absl::Seconds(2)), 2000);
  EXPECT_EQ(ToTimeoutMs(absl::InfiniteDuration()), std::numeric_limits<int>::max());
}

TEST(MakeConfTest, NamesRejectedProperty) {
  const absl::StatusOr<ConfPtr> conf = MakeConf({{"no.such.property", "1"}});
  ASSERT_EQ(conf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(conf.status().message().find("no.such.property"), std::string_view::npos);
}

// Counts the errors librdkafka reports through the main queue.
class CountingEvents final : public ClientEvents {
 public:
  void OnKafkaLog(std::string_view /*level*/, std::string_view /*detail*/) override {}
  void OnKafkaError(rd_kafka_t* /*client*/, rd_kafka_resp_err_t /*error*/,
                    const char* /*reason*/) override {
    ++errors;
  }
  std::atomic<int> errors = 0;
};

TEST(MainQueuePollerTest, ServesTheClientsEventsAndStopsWithoutWaitingOutItsPoll) {
  CountingEvents events;
  // Nothing listens on port 1: the refused connection is an error event on the main queue, and
  // with reconnects minutes apart nothing else comes to wake the poller's next poll.
  absl::StatusOr<ConfPtr> conf = MakeConf({{"bootstrap.servers", "127.0.0.1:1"},
                                           {"reconnect.backoff.ms", "60000"},
                                           {"reconnect.backoff.max.ms", "60000"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  InstallClientEvents(conf->get(), &events);
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_PRODUCER, *std::move(conf));
  ASSERT_TRUE(client.ok()) << client.status();
  auto poller = std::make_unique<MainQueuePoller>(client->get());

  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       events.errors == 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GT(events.errors, 0) << "the refused connection was never served";
  absl::SleepFor(absl::Milliseconds(100));  // the poller is inside its next, second-long poll

  const absl::Time stopping = absl::Now();
  poller.reset();
  // Waiting the poll out would take the rest of its second.
  EXPECT_LT(absl::Now() - stopping, absl::Milliseconds(500));
}

}  // namespace
}  // namespace klaxon::kafka
