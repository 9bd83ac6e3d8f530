#include "services/delivery/kafka_retry_scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/messaging/testing/fake_publisher.h"
#include "common/prototime/prototime.h"
#include "common/timing/fake_clock.h"

namespace klaxon::delivery {
namespace {

events::v1::AlertRequested Request(types::v1::Channel channel) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id("alert-1");
  request.mutable_header()->set_channel(channel);
  request.mutable_header()->set_attempt(2);
  return request;
}

class KafkaRetrySchedulerTest : public ::testing::Test {
 protected:
  messaging::FakePublisher publisher_;
  timing::FakeClock clock_;
  KafkaRetryScheduler scheduler_{{.topic_prefix = "t."}, publisher_, clock_};
};

TEST(TierForTest, PicksSmallestTierCoveringTheWait) {
  EXPECT_EQ(TierFor(kafka::kSmsRetryTiers, absl::Seconds(2)).topic, "klaxon.sms.retry.10s");
}

TEST(TierForTest, ExactDelayFitsItsTier) {
  EXPECT_EQ(TierFor(kafka::kSmsRetryTiers, absl::Minutes(1)).topic, "klaxon.sms.retry.1m");
}

TEST(TierForTest, PastNotBeforeTakesSmallestTier) {
  EXPECT_EQ(TierFor(kafka::kSmsRetryTiers, -absl::Seconds(3)).topic, "klaxon.sms.retry.1s");
}

TEST(TierForTest, LongerWaitThanAnyTierHopsThroughLargest) {
  EXPECT_EQ(TierFor(kafka::kVoiceRetryTiers, absl::Hours(2)).topic, "klaxon.voice.retry.5m");
}

TEST_F(KafkaRetrySchedulerTest, PublishesToChannelTierKeyedByAlert) {
  ASSERT_TRUE(
      scheduler_.Schedule(Request(types::v1::CHANNEL_VOICE), clock_.Now() + absl::Seconds(30))
          .ok());
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].topic, "t.klaxon.voice.retry.1m");
  EXPECT_EQ(publisher_.published()[0].key, "alert-1");
}

TEST_F(KafkaRetrySchedulerTest, CriticalRequestWaitsOnItsChannelsUrgentTiers) {
  for (const absl::Duration wait :
       {absl::ZeroDuration(), absl::Seconds(30), absl::Minutes(3), absl::Hours(2)}) {
    for (const types::v1::Channel channel : {types::v1::CHANNEL_SMS, types::v1::CHANNEL_VOICE}) {
      events::v1::AlertRequested critical = Request(channel);
      critical.set_priority(types::v1::PRIORITY_CRITICAL);
      ASSERT_TRUE(scheduler_.Schedule(critical, clock_.Now() + wait).ok());
    }
  }
  std::vector<std::string> topics;
  for (const auto& published : publisher_.published()) topics.push_back(published.topic);
  EXPECT_THAT(topics, ::testing::ElementsAre(
                          "t.klaxon.sms.retry.urgent.1m", "t.klaxon.voice.retry.urgent.1m",
                          "t.klaxon.sms.retry.urgent.1m", "t.klaxon.voice.retry.urgent.1m",
                          "t.klaxon.sms.retry.urgent.5m", "t.klaxon.voice.retry.urgent.5m",
                          "t.klaxon.sms.retry.urgent.5m", "t.klaxon.voice.retry.urgent.5m"));
}

TEST_F(KafkaRetrySchedulerTest, HighPriorityRequestSharesTheTiers) {
  events::v1::AlertRequested high = Request(types::v1::CHANNEL_SMS);
  high.set_priority(types::v1::PRIORITY_HIGH);
  ASSERT_TRUE(scheduler_.Schedule(high, clock_.Now() + absl::Seconds(5)).ok());
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].topic, "t.klaxon.sms.retry.10s");
}

TEST_F(KafkaRetrySchedulerTest, SetsNotBeforeAndKeepsTheRest) {
  const absl::Time not_before = clock_.Now() + absl::Milliseconds(1500);
  ASSERT_TRUE(scheduler_.Schedule(Request(types::v1::CHANNEL_SMS), not_before).ok());
  events::v1::AlertRequested published;
  ASSERT_TRUE(published.ParseFromString(publisher_.published()[0].value));
  EXPECT_EQ(prototime::FromProto(published.not_before()), not_before);
  EXPECT_EQ(published.header().attempt(), 2u);
}

TEST_F(KafkaRetrySchedulerTest, ReturnsPublisherFailure) {
  publisher_.FailWith(absl::DeadlineExceededError("no ack"));
  EXPECT_EQ(scheduler_.Schedule(Request(types::v1::CHANNEL_SMS), clock_.Now()).code(),
            absl::StatusCode::kDeadlineExceeded);
}

// Workers deployed before their new tier's topic was created keep the request (retryable) and say
// what to do, rather than have the consumer skip it as broken.
TEST_F(KafkaRetrySchedulerTest, AMissingTierIsRetryableAndNamesTheFix) {
  publisher_.FailWith(absl::NotFoundError("Broker: Unknown topic or partition"));
  const absl::Status scheduled = scheduler_.Schedule(Request(types::v1::CHANNEL_SMS), clock_.Now());
  EXPECT_EQ(scheduled.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(scheduled.message(), ::testing::HasSubstr("t.klaxon.sms.retry.1s does not exist"));
  EXPECT_THAT(scheduled.message(), ::testing::HasSubstr("klaxon-admin create-topics"));
}

TEST_F(KafkaRetrySchedulerTest, RejectsRequestWithoutChannel) {
  events::v1::AlertRequested critical = Request(types::v1::CHANNEL_UNSPECIFIED);
  EXPECT_EQ(scheduler_.Schedule(critical, clock_.Now()).code(), absl::StatusCode::kInvalidArgument);
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  EXPECT_EQ(scheduler_.Schedule(critical, clock_.Now()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(publisher_.published().empty());
}

}  // namespace
}  // namespace klaxon::delivery
