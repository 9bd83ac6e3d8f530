#include "services/sms-worker/ack_reply_handler.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/alert_lifetime/alert_lifetime.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/sms_acks/in_memory_ack_codes.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::sms {
namespace {

using stopped_alerts::StopReason;

constexpr char kPagedRecipient[] = "+14155550100";
constexpr char kAckedAlertId[] = "0190a1b2-0000-7000-8000-000000000001";
constexpr char kTopic[] = "klaxon.delivery.events";
// Step 2 of an escalation chain (docs/adr/0029), its code 5930; the chain's id is its first page's.
constexpr char kChainId[] = "0190a1b2-0000-7000-8000-0000000000c1";
const sms_acks::AckTarget kSecondPage{.alert_id = "0190a1b2-0000-7000-8000-0000000000c2",
                                      .caller = "billing",
                                      .escalation_id = kChainId,
                                      .escalation_step = 2};

class AckReplyHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(*codes_.Bind(kPagedRecipient, "4821",
                             {.alert_id = kAckedAlertId, .caller = "billing"},
                             clock_.Now() + absl::Hours(2)));
    ASSERT_TRUE(*codes_.Bind(kPagedRecipient, "5930", kSecondPage, clock_.Now() + absl::Hours(2)));
  }

  // The records published so far, each checked to be on the events topic keyed by its alert.
  std::vector<events::v1::DeliveryEvent> Records() const {
    std::vector<events::v1::DeliveryEvent> records;
    for (const messaging::OutboundMessage& published : publisher_.published()) {
      events::v1::DeliveryEvent& record = records.emplace_back();
      EXPECT_TRUE(record.ParseFromString(published.value));
      EXPECT_EQ(published.topic, kTopic);
      EXPECT_EQ(published.key, record.header().alert_id());
    }
    return records;
  }

  messaging::InboundMessage Reply(std::string from, std::string body) {
    events::v1::TwilioEvent event;
    events::v1::InboundMessage& inbound = *event.mutable_inbound_message();
    inbound.set_message_sid("SM1");
    inbound.set_to("+14155552671");
    transit_.Seal(inbound, std::move(from), std::move(body));
    return {.topic = "klaxon.twilio.events", .key = "token", .value = event.SerializeAsString()};
  }

  transit::testing::TestTransit transit_;
  timing::FakeClock clock_;
  sms_acks::InMemoryAckCodes codes_;
  stopped_alerts::InMemoryStoppedAlerts stopped_;
  messaging::FakePublisher publisher_;
  AckReplyHandler handler_{{.events_topic = kTopic}, codes_, stopped_, publisher_,
                           transit_.cipher(),        clock_};
};

TEST_F(AckReplyHandlerTest, TheCodeFromTheRecipientStopsTheAlertAndRecordsAnAcknowledgement) {
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, " ack 4821 ")).ok());
  EXPECT_EQ(*stopped_.Find(kAckedAlertId), StopReason::kAcknowledged);
  EXPECT_GT(stopped_.last_keep_for(), alert_lifetime::kMaxScheduleAhead +
                                          alert_lifetime::kMaxQuietHold +
                                          alert_lifetime::kMaxTimeToLive);
  const std::vector<messaging::OutboundMessage> all = publisher_.published();
  ASSERT_EQ(all.size(), 1u);
  const messaging::OutboundMessage& published = all[0];
  EXPECT_EQ(published.topic, kTopic);
  EXPECT_EQ(published.key, kAckedAlertId);
  events::v1::DeliveryEvent event;
  ASSERT_TRUE(event.ParseFromString(published.value));
  EXPECT_EQ(event.header().alert_id(), kAckedAlertId);
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.header().channel(), types::v1::CHANNEL_SMS);
  ASSERT_TRUE(event.has_acknowledged());
  EXPECT_NE(event.acknowledged().reason().find("SMS reply"), std::string::npos);
  // The reason and the record hold no phone number.
  EXPECT_EQ(published.value.find("4155550100"), std::string::npos);
}

TEST_F(AckReplyHandlerTest, AnotherNumbersOrAWrongCodeOrABareAckAcknowledgesNothing) {
  for (const auto& [from, body] :
       {std::pair{"+14155550199", "ACK 4821"}, std::pair{kPagedRecipient, "ACK 4822"},
        std::pair{kPagedRecipient, "ACK"}, std::pair{kPagedRecipient, "4821"}}) {
    ASSERT_TRUE(handler_.Handle(Reply(from, body)).ok()) << body;
  }
  EXPECT_FALSE(stopped_.Find(kAckedAlertId)->has_value());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AckReplyHandlerTest, AReplyAfterTheCodesBindingEndedAcknowledgesNothing) {
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 4821")).ok());
  EXPECT_FALSE(stopped_.Find(kAckedAlertId)->has_value());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AckReplyHandlerTest, AnAlertCancelledFirstStaysCancelledWithNoAcknowledgement) {
  ASSERT_TRUE(stopped_.Stop(kAckedAlertId, StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 4821")).ok());
  EXPECT_EQ(*stopped_.Find(kAckedAlertId), StopReason::kCancelled);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AckReplyHandlerTest, AReplyConsumedAgainAfterAFailedPublishConverges) {
  publisher_.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_EQ(handler_.Handle(Reply(kPagedRecipient, "ACK 4821")).code(),
            absl::StatusCode::kUnavailable);
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 4821")).ok());
  EXPECT_EQ(*stopped_.Find(kAckedAlertId), StopReason::kAcknowledged);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AckReplyHandlerTest, AReplyToAPageOfAnEscalationStopsTheChainAndRecordsWhoAcknowledged) {
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 5930")).ok());
  EXPECT_EQ(*stopped_.Find(kSecondPage.alert_id), StopReason::kAcknowledged);
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kAcknowledged);
  const std::vector<events::v1::DeliveryEvent> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].header().alert_id(), kSecondPage.alert_id);
  const events::v1::DeliveryEvent& chain = records[1];
  EXPECT_EQ(chain.header().alert_id(), kChainId);
  EXPECT_EQ(chain.header().caller(), "billing");
  EXPECT_EQ(chain.header().channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(chain.acknowledged().by_alert_id(), kSecondPage.alert_id);
  EXPECT_EQ(chain.acknowledged().by_step(), 2u);
  EXPECT_EQ(chain.acknowledged().reason(),
            "the escalation was acknowledged at step 2, by an SMS reply with its code");
}

TEST_F(AckReplyHandlerTest, TheEscalationIsStoppedWhileKafkaIsDownAndBothRecordsFollow) {
  publisher_.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_EQ(handler_.Handle(Reply(kPagedRecipient, "ACK 5930")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kAcknowledged)
      << "the chain's next page must not wait for Kafka";
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 5930")).ok());
  const std::vector<events::v1::DeliveryEvent> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].header().alert_id(), kChainId);
}

TEST_F(AckReplyHandlerTest, APageOfAnEscalationCancelledFirstStaysCancelledWithNoChainRecord) {
  ASSERT_TRUE(stopped_.Stop(kChainId, StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 5930")).ok());
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kCancelled);
  const std::vector<events::v1::DeliveryEvent> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].header().alert_id(), kSecondPage.alert_id);
}

TEST_F(AckReplyHandlerTest, APageCancelledFirstLeavesItsEscalationRunning) {
  ASSERT_TRUE(stopped_.Stop(kSecondPage.alert_id, StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(Reply(kPagedRecipient, "ACK 5930")).ok());
  EXPECT_FALSE(stopped_.Find(kChainId)->has_value());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AckReplyHandlerTest, RedisDownIsRetriedAndOtherEventsAreSkipped) {
  codes_.FailWith(absl::UnavailableError("redis is down"));
  EXPECT_EQ(handler_.Handle(Reply(kPagedRecipient, "ACK 4821")).code(),
            absl::StatusCode::kUnavailable);
  events::v1::TwilioEvent status;
  status.mutable_message_status()->set_message_sid("SM2");
  EXPECT_TRUE(handler_.Handle({.value = status.SerializeAsString()}).ok());
  EXPECT_EQ(handler_.Handle({.value = "not a proto"}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::sms
