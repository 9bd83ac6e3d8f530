#include "services/voice-worker/escalation_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "common/messaging/testing/fake_publisher.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "google/protobuf/util/time_util.h"
#include "services/voice-worker/testing/in_memory_escalation_store.h"

namespace klaxon::voice {
namespace {

using events::v1::AlertRequested;
using events::v1::DeliveryEvent;
using events::v1::DeliveryOutcome;
using events::v1::TwilioEvent;
using google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;

constexpr char kAlert[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
// An escalation chain (docs/adr/0029) whose first page is another alert: its id.
constexpr char kChain[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c00";
constexpr char kRecipient[] = "+14155550100";
constexpr char kOutcomes[] = "klaxon.delivery.events";
constexpr char kSmsRequests[] = "klaxon.sms.requests";
constexpr char kSmsUrgentRequests[] = "klaxon.sms.requests.urgent";

class FakeRetryScheduler final : public delivery::RetryScheduler {
 public:
  absl::Status Schedule(const AlertRequested& request, absl::Time not_before) override {
    if (!status.ok()) return status;
    scheduled.emplace_back(request, not_before);
    return absl::OkStatus();
  }
  absl::Status status = absl::OkStatus();
  std::vector<std::pair<AlertRequested, absl::Time>> scheduled;
};

class EscalationHandlerTest : public ::testing::Test {
 protected:
  // Remembers the call `attempt` of a voice alert with the given policy, as EscalationSender does.
  void Remember(uint32_t attempt, uint32_t max_calls, bool sms_fallback,
                std::optional<absl::Duration> spacing = absl::Seconds(2)) {
    AlertRequested request;
    request.mutable_header()->set_alert_id(kAlert);
    request.mutable_header()->set_caller("ops");
    request.mutable_header()->set_channel(types::v1::CHANNEL_VOICE);
    request.mutable_header()->set_attempt(attempt);
    transit_.Seal(request, kRecipient, "disk full");
    *request.mutable_deadline() =
        TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(clock_.Now() + absl::Hours(1)));
    request.mutable_voice()->set_max_calls(max_calls);
    request.mutable_voice()->set_sms_fallback(sms_fallback);
    request.set_priority(priority_);
    request.set_escalation_id(escalation_id_);
    request.set_escalation_step(escalation_step_);
    request.set_throttled(throttled_);
    if (spacing) {
      *request.mutable_voice()->mutable_call_spacing() =
          TimeUtil::SecondsToDuration(absl::ToInt64Seconds(*spacing));
    }
    ASSERT_TRUE(store_.Remember(request, clock_.Now() + absl::Hours(2)).ok());
    ASSERT_TRUE(recipients_.Add(kRecipient, kAlert, clock_.Now() + absl::Hours(2)).ok());
  }

  static messaging::InboundMessage Message(const TwilioEvent& event) {
    return {.topic = "klaxon.twilio.events", .key = kAlert, .value = event.SerializeAsString()};
  }

  static messaging::InboundMessage CallEnded(uint32_t attempt, const std::string& status,
                                             const std::string& answered_by = "") {
    TwilioEvent event;
    event.mutable_header()->set_alert_id(kAlert);
    event.mutable_header()->set_attempt(attempt);
    event.mutable_call_status()->set_call_sid("CA0001");
    event.mutable_call_status()->set_call_status(status);
    event.mutable_call_status()->set_answered_by(answered_by);
    return Message(event);
  }

  static messaging::InboundMessage KeyPress(uint32_t attempt) {
    TwilioEvent event;
    event.mutable_header()->set_alert_id(kAlert);
    event.mutable_header()->set_attempt(attempt);
    event.mutable_key_press()->set_digits("1");
    return Message(event);
  }

  messaging::InboundMessage Reply(const std::string& body) {
    TwilioEvent event;
    event.mutable_inbound_message()->set_message_sid("SM1");
    transit_.Seal(*event.mutable_inbound_message(), kRecipient, body);
    return Message(event);
  }

  // The alert's outcomes published, each keyed by the alert.
  std::vector<DeliveryEvent> Outcomes() const {
    std::vector<DeliveryEvent> outcomes;
    for (const DeliveryEvent& event : OnOutcomeTopic()) {
      if (event.has_outcome()) outcomes.push_back(event);
    }
    return outcomes;
  }

  // The escalation chains' records published (AlertAcknowledged about a chain).
  std::vector<DeliveryEvent> ChainRecords() const {
    std::vector<DeliveryEvent> records;
    for (const DeliveryEvent& event : OnOutcomeTopic()) {
      if (event.has_acknowledged()) records.push_back(event);
    }
    return records;
  }

  // Every event published to kOutcomes, each checked to be keyed by the alert it is about.
  std::vector<DeliveryEvent> OnOutcomeTopic() const {
    std::vector<DeliveryEvent> events;
    for (const messaging::OutboundMessage& message : publisher_.published()) {
      if (message.topic != kOutcomes) continue;
      DeliveryEvent& event = events.emplace_back();
      EXPECT_TRUE(event.ParseFromString(message.value));
      EXPECT_EQ(message.key, event.header().alert_id());
    }
    return events;
  }

  // The SMS fallbacks published to `topic`.
  std::vector<AlertRequested> SmsRequests(std::string_view topic = kSmsRequests) const {
    std::vector<AlertRequested> requests;
    for (const messaging::OutboundMessage& message : publisher_.published()) {
      if (message.topic != topic) continue;
      AlertRequested request;
      EXPECT_TRUE(request.ParseFromString(message.value));
      requests.push_back(request);
    }
    return requests;
  }

  timing::FakeClock clock_;
  transit::testing::TestTransit transit_;
  testing::InMemoryEscalationStore store_;
  testing::InMemoryRecipientAlerts recipients_;
  stopped_alerts::InMemoryStoppedAlerts stopped_;
  FakeRetryScheduler scheduler_;
  messaging::FakePublisher publisher_;
  // Of the alert Remember keeps.
  types::v1::Priority priority_ = types::v1::PRIORITY_UNSPECIFIED;
  std::string escalation_id_;  // set: the alert is step `escalation_step_` of that chain
  uint32_t escalation_step_ = 0;
  uint32_t throttled_ = 0;  // Twilio refused the call this many times in a row before taking it
  EscalationHandler handler_{{.outcome_topic = kOutcomes,
                              .sms_request_topic = kSmsRequests,
                              .sms_urgent_request_topic = kSmsUrgentRequests},
                             {.store = store_,
                              .recipients = recipients_,
                              .stopped = stopped_,
                              .scheduler = scheduler_,
                              .publisher = publisher_,
                              .clock = clock_,
                              .transit = transit_.cipher()}};
};

TEST_F(EscalationHandlerTest, NoAnswerSchedulesTheNextCallAfterTheSpacing) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  ASSERT_EQ(scheduler_.scheduled.size(), 1u);
  const auto& [next, not_before] = scheduler_.scheduled[0];
  EXPECT_EQ(next.header().attempt(), 2u);
  EXPECT_EQ(next.header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(transit_.Open(next).recipient, kRecipient);
  EXPECT_EQ(not_before, clock_.Now() + absl::Seconds(2));
  const std::vector<DeliveryEvent> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].header().attempt(), 1u);
  EXPECT_EQ(outcomes[0].outcome().kind(), DeliveryOutcome::KIND_RETRY_SCHEDULED);
  EXPECT_EQ(outcomes[0].outcome().twilio_status(), "no-answer");
  EXPECT_EQ(TimeUtil::TimestampToSeconds(outcomes[0].outcome().retry_at()),
            absl::ToUnixSeconds(clock_.Now() + absl::Seconds(2)));
  EXPECT_THAT(outcomes[0].outcome().reason(), HasSubstr("call 1 not answered (no-answer)"));
}

TEST_F(EscalationHandlerTest, UnsetPolicyCallsThreeTimesSixtySecondsApart) {
  Remember(2, 0, false, std::nullopt);
  ASSERT_TRUE(handler_.Handle(CallEnded(2, "busy")).ok());
  ASSERT_EQ(scheduler_.scheduled.size(), 1u);
  EXPECT_EQ(scheduler_.scheduled[0].second, clock_.Now() + absl::Seconds(60));
}

TEST_F(EscalationHandlerTest, MachineAnsweringCountsAsNotAnswered) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "completed", "machine_start")).ok());
  ASSERT_EQ(scheduler_.scheduled.size(), 1u);
  EXPECT_THAT(Outcomes().at(0).outcome().reason(), HasSubstr("(machine_start)"));
}

TEST_F(EscalationHandlerTest, DuplicateCallbackSchedulesOneNextCall) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  EXPECT_EQ(scheduler_.scheduled.size(), 1u);
  EXPECT_EQ(Outcomes().size(), 1u);
}

TEST_F(EscalationHandlerTest, LastCallFallsBackToSmsAsTheNextAttempt) {
  Remember(2, 2, true);
  ASSERT_TRUE(handler_.Handle(CallEnded(2, "no-answer")).ok());
  EXPECT_TRUE(scheduler_.scheduled.empty());
  const std::vector<AlertRequested> sms = SmsRequests();
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].header().alert_id(), kAlert);
  EXPECT_EQ(sms[0].header().channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(sms[0].header().attempt(), 3u);
  EXPECT_EQ(transit_.Open(sms[0]).text, "disk full");
  EXPECT_TRUE(sms[0].has_deadline());
  EXPECT_EQ(Outcomes().at(0).outcome().kind(), DeliveryOutcome::KIND_FALLBACK_TO_SMS);
}

// A refusal for Twilio's concurrency limit backs off per attempt (ADR 0043): the next call and
// the SMS fallback start from none.
TEST_F(EscalationHandlerTest, TheNextCallStartsWithNoRefusalsInARow) {
  throttled_ = 3;
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  ASSERT_EQ(scheduler_.scheduled.size(), 1u);
  EXPECT_EQ(scheduler_.scheduled[0].first.throttled(), 0u);
}

TEST_F(EscalationHandlerTest, TheSmsFallbackStartsWithNoRefusalsInARow) {
  throttled_ = 3;
  Remember(2, 2, true);
  ASSERT_TRUE(handler_.Handle(CallEnded(2, "no-answer")).ok());
  const std::vector<AlertRequested> sms = SmsRequests();
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].throttled(), 0u);
}

TEST_F(EscalationHandlerTest, ACriticalAlertsSmsFallbackTakesTheUrgentTopic) {
  priority_ = types::v1::PRIORITY_CRITICAL;
  Remember(1, 1, true);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "busy")).ok());
  EXPECT_TRUE(SmsRequests().empty());
  const std::vector<AlertRequested> sms = SmsRequests(kSmsUrgentRequests);
  ASSERT_EQ(sms.size(), 1u);
  EXPECT_EQ(sms[0].priority(), types::v1::PRIORITY_CRITICAL);
}

TEST_F(EscalationHandlerTest, LastCallWithoutFallbackIsUnreachedAndEndsTheEscalation) {
  Remember(3, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(3, "failed")).ok());
  EXPECT_TRUE(scheduler_.scheduled.empty());
  EXPECT_TRUE(SmsRequests().empty());
  EXPECT_EQ(Outcomes().at(0).outcome().kind(), DeliveryOutcome::KIND_UNREACHED);
  EXPECT_TRUE(recipients_.List(kRecipient, clock_.Now())->empty());
}

TEST_F(EscalationHandlerTest, HumanAnsweringEndsTheEscalationWithoutAnOutcome) {
  Remember(1, 3, true);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "completed", "human")).ok());
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_TRUE(scheduler_.scheduled.empty());
  EXPECT_TRUE(recipients_.List(kRecipient, clock_.Now())->empty());
}

TEST_F(EscalationHandlerTest, ProgressOfACallTakesNoStep) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "ringing")).ok());
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_TRUE(scheduler_.scheduled.empty());
}

TEST_F(EscalationHandlerTest, StoppedAlertIsNotCalledAgain) {
  Remember(1, 3, false);
  ASSERT_TRUE(stopped_.Stop(kAlert, stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  EXPECT_TRUE(scheduler_.scheduled.empty());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(EscalationHandlerTest, CallOfAnUnknownAlertIsSkipped) {
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  EXPECT_TRUE(scheduler_.scheduled.empty());
}

TEST_F(EscalationHandlerTest, FailedSchedulingIsRetryableAndTheRetryTakesTheStep) {
  Remember(1, 3, false);
  scheduler_.status = absl::UnavailableError("kafka down");
  EXPECT_EQ(handler_.Handle(CallEnded(1, "no-answer")).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
  scheduler_.status = absl::OkStatus();
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "no-answer")).ok());
  EXPECT_EQ(scheduler_.scheduled.size(), 1u);
}

TEST_F(EscalationHandlerTest, KeyPressAcknowledgesAndStopsTheAlert) {
  Remember(2, 3, true);
  ASSERT_TRUE(handler_.Handle(KeyPress(2)).ok());
  EXPECT_EQ(*stopped_.Find(kAlert), stopped_alerts::StopReason::kAcknowledged);
  EXPECT_GE(stopped_.last_keep_for(), absl::Hours(1));
  const std::vector<DeliveryEvent> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].outcome().kind(), DeliveryOutcome::KIND_ACKNOWLEDGED);
  EXPECT_EQ(outcomes[0].header().attempt(), 2u);
  EXPECT_EQ(outcomes[0].header().caller(), "ops");
}

TEST_F(EscalationHandlerTest, DuplicateKeyPressIsReportedOnce) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_EQ(Outcomes().size(), 1u);
}

TEST_F(EscalationHandlerTest, KeyPressAfterACancelReportsNothing) {
  Remember(1, 3, false);
  ASSERT_TRUE(stopped_.Stop(kAlert, stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(EscalationHandlerTest, AckReplyAcknowledgesTheRecipientsAlertInEscalation) {
  Remember(2, 3, false);
  ASSERT_TRUE(handler_.Handle(Reply("  ack\n")).ok());
  EXPECT_EQ(*stopped_.Find(kAlert), stopped_alerts::StopReason::kAcknowledged);
  const std::vector<DeliveryEvent> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].outcome().kind(), DeliveryOutcome::KIND_ACKNOWLEDGED);
  EXPECT_THAT(outcomes[0].outcome().reason(), HasSubstr("SMS reply"));
}

TEST_F(EscalationHandlerTest, OtherReplyAcknowledgesNothing) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(Reply("acknowledged")).ok());
  EXPECT_FALSE(stopped_.Find(kAlert)->has_value());
}

TEST_F(EscalationHandlerTest, AcknowledgedAlertIsNotCalledAgain) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  ASSERT_TRUE(handler_.Handle(CallEnded(1, "completed", "machine_end_beep")).ok());
  EXPECT_TRUE(scheduler_.scheduled.empty());
}

TEST_F(EscalationHandlerTest, KeyPressOnAPageOfAnEscalationStopsTheChainAndRecordsWhoAcknowledged) {
  escalation_id_ = kChain;
  escalation_step_ = 2;
  Remember(1, 1, false);
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_EQ(*stopped_.Find(kAlert), stopped_alerts::StopReason::kAcknowledged);
  EXPECT_EQ(*stopped_.Find(kChain), stopped_alerts::StopReason::kAcknowledged);
  const std::vector<DeliveryEvent> records = ChainRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].header().alert_id(), kChain);
  EXPECT_EQ(records[0].header().caller(), "ops");
  EXPECT_EQ(records[0].header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(records[0].acknowledged().by_alert_id(), kAlert);
  EXPECT_EQ(records[0].acknowledged().by_step(), 2u);
  EXPECT_EQ(records[0].acknowledged().reason(),
            "the escalation was acknowledged at step 2, by a key press during call 1");
  const std::vector<DeliveryEvent> outcomes = Outcomes();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].outcome().kind(), DeliveryOutcome::KIND_ACKNOWLEDGED);
  EXPECT_EQ(outcomes[0].outcome().reason(), "acknowledged by a key press during call 1");
}

TEST_F(EscalationHandlerTest, AckReplyToAPageOfAnEscalationStopsTheChain) {
  escalation_id_ = kChain;
  escalation_step_ = 3;
  Remember(1, 1, false);
  ASSERT_TRUE(handler_.Handle(Reply("ACK")).ok());
  EXPECT_EQ(*stopped_.Find(kChain), stopped_alerts::StopReason::kAcknowledged);
  const std::vector<DeliveryEvent> records = ChainRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].acknowledged().reason(),
            "the escalation was acknowledged at step 3, by an SMS reply of ACK");
}

TEST_F(EscalationHandlerTest, AKeyPressFindingTheStepTakenStillStopsTheChain) {
  escalation_id_ = kChain;
  escalation_step_ = 2;
  Remember(1, 1, false);
  // As a worker that knew no chains left it: the page stopped and its step taken.
  ASSERT_TRUE(
      stopped_.Stop(kAlert, stopped_alerts::StopReason::kAcknowledged, absl::Hours(1)).ok());
  ASSERT_TRUE(*store_.ClaimStep(kAlert, "acknowledged", clock_.Now() + absl::Hours(1)));
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_EQ(*stopped_.Find(kChain), stopped_alerts::StopReason::kAcknowledged);
  EXPECT_EQ(ChainRecords().size(), 1u);
  EXPECT_TRUE(Outcomes().empty()) << "the page's outcome is the step's, reported once";
}

TEST_F(EscalationHandlerTest, TheEscalationIsStoppedWhileKafkaIsDownAndTheRecordsFollow) {
  escalation_id_ = kChain;
  escalation_step_ = 2;
  Remember(1, 1, false);
  publisher_.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_EQ(handler_.Handle(KeyPress(1)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*stopped_.Find(kChain), stopped_alerts::StopReason::kAcknowledged)
      << "the chain's next page must not wait for Kafka";
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_EQ(ChainRecords().size(), 1u);
  EXPECT_EQ(Outcomes().size(), 1u);
}

TEST_F(EscalationHandlerTest, KeyPressOnAPageOfACancelledEscalationLeavesItCancelled) {
  escalation_id_ = kChain;
  escalation_step_ = 2;
  Remember(1, 1, false);
  ASSERT_TRUE(stopped_.Stop(kChain, stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_EQ(*stopped_.Find(kChain), stopped_alerts::StopReason::kCancelled);
  EXPECT_TRUE(ChainRecords().empty());
  EXPECT_EQ(Outcomes().size(), 1u) << "the call was still acknowledged";
}

TEST_F(EscalationHandlerTest, KeyPressOnAnAlertOutsideAnEscalationRecordsNoChain) {
  Remember(1, 3, false);
  ASSERT_TRUE(handler_.Handle(KeyPress(1)).ok());
  EXPECT_TRUE(ChainRecords().empty());
}

TEST_F(EscalationHandlerTest, GarbageIsInvalidArgument) {
  EXPECT_EQ(handler_.Handle({.value = "\xff\xff"}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::voice
