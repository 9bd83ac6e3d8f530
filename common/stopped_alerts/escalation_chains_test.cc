#include "common/stopped_alerts/escalation_chains.h"

#include <gtest/gtest.h>

#include "common/stopped_alerts/in_memory_stopped_alerts.h"

namespace klaxon::stopped_alerts {
namespace {

const ChainPage kSecondPage{.escalation_id = "0190a0b0-0000-7000-8000-000000000001",
                            .step = 2,
                            .alert_id = "0190a0b0-0000-7000-8000-000000000002",
                            .caller = "billing",
                            .channel = types::v1::CHANNEL_VOICE};
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(AcknowledgeChainTest, StopsTheChainAndNamesThePageInItsRecord) {
  InMemoryStoppedAlerts stopped;
  absl::StatusOr<std::optional<events::v1::DeliveryEvent>> record =
      AcknowledgeChain(stopped, kSecondPage, "by a key press", kNow);
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(*stopped.Find(kSecondPage.escalation_id), StopReason::kAcknowledged);
  EXPECT_EQ(stopped.last_keep_for(), kKeepStopFor);
  EXPECT_EQ(stopped.Find(kSecondPage.alert_id)->has_value(), false)
      << "the page's own stop is its acknowledger's to write";

  const events::v1::DeliveryEvent& event = **record;
  EXPECT_EQ(event.header().alert_id(), kSecondPage.escalation_id);
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(event.header().occurred_at().seconds(), 1'800'000'000);
  EXPECT_EQ(event.acknowledged().by_alert_id(), kSecondPage.alert_id);
  EXPECT_EQ(event.acknowledged().by_step(), 2u);
  EXPECT_EQ(event.acknowledged().reason(),
            "the escalation was acknowledged at step 2, by a key press");
}

TEST(AcknowledgeChainTest, AChainCancelledFirstStaysCancelledAndGetsNoRecord) {
  InMemoryStoppedAlerts stopped;
  ASSERT_TRUE(stopped.Stop(kSecondPage.escalation_id, StopReason::kCancelled, kKeepStopFor).ok());
  absl::StatusOr<std::optional<events::v1::DeliveryEvent>> record =
      AcknowledgeChain(stopped, kSecondPage, "by a key press", kNow);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_FALSE(record->has_value());
  EXPECT_EQ(*stopped.Find(kSecondPage.escalation_id), StopReason::kCancelled);
}

TEST(AcknowledgeChainTest, AcknowledgedAgainGivesTheRecordAgainSoALostPublishIsMadeGood) {
  InMemoryStoppedAlerts stopped;
  ASSERT_TRUE(AcknowledgeChain(stopped, kSecondPage, "by a key press", kNow).ok());
  absl::StatusOr<std::optional<events::v1::DeliveryEvent>> again =
      AcknowledgeChain(stopped, kSecondPage, "by a key press", kNow);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->has_value());
}

TEST(AcknowledgeChainTest, AnAlertOutsideAChainIsRefusedAndNothingIsStopped) {
  InMemoryStoppedAlerts stopped;
  ChainPage lone = kSecondPage;
  lone.escalation_id.clear();
  EXPECT_EQ(AcknowledgeChain(stopped, lone, "by a key press", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AcknowledgeChainTest, TheStoreBeingDownIsUnavailable) {
  InMemoryStoppedAlerts stopped;
  stopped.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(AcknowledgeChain(stopped, kSecondPage, "by a key press", kNow).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::stopped_alerts
