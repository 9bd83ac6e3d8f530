#include "common/kafka/client.h"

#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace klaxon::kafka
