#include "services/delivery/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/budgets/in_memory_budget_ledger.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/prototime/prototime.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "services/delivery/dispatcher_test_ports.h"
#include "services/delivery/in_memory_attempt_ledger.h"
#include "services/delivery/in_memory_send_limiter.h"
#include "services/delivery/stepwise_send_gate.h"

namespace klaxon::delivery {
namespace {

using events::v1::AlertRequested;
using events::v1::DeliveryEvent;
using events::v1::DeliveryOutcome;
using test_ports::InMemoryInFlightLimit;
using test_ports::InMemoryRetryScheduler;
using test_ports::InMemoryStatusCheckQueue;
using test_ports::InMemorySuppressionList;
using test_ports::kSender;
using test_ports::RecordingStatusCheckObserver;
using test_ports::ScriptedSender;
using test_ports::ScriptedSendLimiter;
using ::testing::HasSubstr;

using prototime::FromProto;
using prototime::ToProto;

// Counts and keeps what it is told; thread-safe, since the dispatcher may call it from many
// threads.
class RecordingObserver final : public DispatchObserver {
 public:
  void OnSent(const AlertRequested&, std::string_view, const SendResult&, absl::Duration) override {
    ++sent;
  }
  void OnSettled(const AlertRequested&, const SendResult&) override {}
  void OnDecided(const AlertRequested&, const DeliveryOutcome&) override { ++decided; }
  void OnAlertAccepted(const AlertRequested&, absl::Duration since_accepted) override {
    std::lock_guard lock(mutex_);
    accept_latencies.push_back(since_accepted);
  }
  void OnRetryScheduled(const AlertRequested&, absl::Duration) override {}
  void OnDeferred(const AlertRequested&, const std::string& limit) override {
    std::lock_guard lock(mutex_);
    deferred_by.push_back(limit);
  }
  void OnDeadLettered(const AlertRequested&, std::string_view cause) override {
    std::lock_guard lock(mutex_);
    dead_letter_causes.emplace_back(cause);
  }
  void OnPacingWait(const AlertRequested&, absl::Duration wait) override {
    std::lock_guard lock(mutex_);
    pacing_waits.push_back(wait);
  }
  void OnSuppressFailed(const AlertRequested&, const absl::Status&) override {}
  void OnOutcomeRepublished(const AlertRequested&) override { ++republished; }
  void OnHandedBack(const AlertRequested&, const absl::Status&) override { ++handed_back; }

  // Read once the dispatcher is idle.
  std::atomic<int> sent = 0;
  std::atomic<int> decided = 0;
  std::atomic<int> republished = 0;
  std::atomic<int> handed_back = 0;
  std::vector<absl::Duration> accept_latencies;
  std::vector<std::string> deferred_by;
  std::vector<std::string> dead_letter_causes;
  std::vector<absl::Duration> pacing_waits;

 private:
  std::mutex mutex_;
};

constexpr absl::Duration kBase = absl::Seconds(2);
constexpr absl::Duration kCheckFirst = absl::Minutes(1);

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest()
      : policy_({.base = kBase,
                 .cap = absl::Minutes(1),
                 .max_attempts = 3,
                 .slow_down = absl::Seconds(20)},
                [this] { return draw_; }),
        dispatcher_({.outcome_topic = "t.delivery",
                     .dlq_topic = "t.dlq",
                     .worker_id = "worker-1",
                     .sms = true,
                     .claim_lease = absl::Minutes(2),
                     .settle_after = absl::Seconds(30)},
                    PortsWith(gate_, limiter_, in_flight_, routing_, transit_.cipher())) {}

  // The fixture's ports, but for the gate, limits, routing and transit cipher given.
  DispatcherPorts PortsWith(SendGate& gate, SendLimiter& limiter, InFlightLimit& in_flight,
                            const Routing& routing, transit::TransitCipher& transit) {
    return {.ledger = ledger_,
            .sender = sender_,
            .publisher = publisher_,
            .retries = retries_,
            .routing = routing,
            .breakers = breakers_,
            .gate = gate,
            .limiter = limiter,
            .in_flight = in_flight,
            .suppressions = suppressions_,
            .status_checker = status_checker_,
            .retry_policy = policy_,
            .observer = observer_,
            .clock = clock_,
            .transit = transit};
  }

  AlertRequested Alert(uint32_t attempt = 1, const std::string& alert_id = "a1") {
    AlertRequested request;
    request.mutable_header()->set_alert_id(alert_id);
    request.mutable_header()->set_caller("billing");
    request.mutable_header()->set_attempt(attempt);
    transit_.Seal(request, "+14155552671", "disk full");
    *request.mutable_accepted_at() = ToProto(start_ - absl::Milliseconds(40));
    *request.mutable_deadline() = ToProto(start_ + absl::Hours(1));
    return request;
  }
  // Step `step` of the escalation chain "c0" (docs/adr/0029), as ingress makes each page.
  AlertRequested Page(uint32_t step) {
    AlertRequested request = Alert();
    request.set_escalation_id("c0");
    request.set_escalation_step(step);
    return request;
  }
  messaging::InboundMessage Request(uint32_t attempt = 1) { return Message(Alert(attempt)); }
  static messaging::InboundMessage Message(const AlertRequested& request) {
    return {.topic = "t.sms", .key = "a1", .value = request.SerializeAsString()};
  }

  std::vector<messaging::OutboundMessage> On(const std::string& topic) const {
    std::vector<messaging::OutboundMessage> on;
    for (const messaging::OutboundMessage& message : publisher_.published()) {
      if (message.topic == topic) on.push_back(message);
    }
    return on;
  }

  DeliveryOutcome LastOutcome() const {
    std::vector<messaging::OutboundMessage> outcomes = On("t.delivery");
    EXPECT_FALSE(outcomes.empty());
    DeliveryEvent event;
    if (!outcomes.empty()) {
      EXPECT_TRUE(event.ParseFromString(outcomes.back().value));
    }
    return event.outcome();
  }

  // A dispatcher like dispatcher_ but on `limiter` and `in_flight`, sending every destination
  // from `senders`.
  std::unique_ptr<Dispatcher> DispatcherOn(SendLimiter& limiter, InFlightLimit& in_flight,
                                           std::vector<PacedSender> senders = {
                                               {.address = kSender}}) {
    return DispatcherRouting(limiter, in_flight, Routing::AllSenders(std::move(senders)));
  }
  std::unique_ptr<Dispatcher> DispatcherRouting(SendLimiter& limiter, InFlightLimit& in_flight,
                                                Routing routing) {
    SendGate& gate = *other_gates_.emplace_back(
        std::make_unique<StepwiseSendGate>(stops_, suppressions_, limiter, in_flight));
    const Routing& routes = *other_routings_.emplace_back(std::make_unique<Routing>(routing));
    return std::make_unique<Dispatcher>(
        DispatcherOptions{.outcome_topic = "t.delivery", .dlq_topic = "t.dlq", .worker_id = "w"},
        PortsWith(gate, limiter, in_flight, routes, transit_.cipher()));
  }

  // A dispatcher like dispatcher_ that reserves every send against `budgets` (docs/adr/0037).
  std::unique_ptr<Dispatcher> DispatcherWithBudgets(budgets::BudgetGuard& budgets) {
    DispatcherPorts ports = PortsWith(gate_, limiter_, in_flight_, routing_, transit_.cipher());
    ports.budgets = &budgets;
    return std::make_unique<Dispatcher>(
        DispatcherOptions{.outcome_topic = "t.delivery", .dlq_topic = "t.dlq", .worker_id = "w"},
        ports);
  }

  DeliveryEvent OnlyPublished() const {
    EXPECT_EQ(publisher_.published().size(), 1u);
    DeliveryEvent event;
    EXPECT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
    return event;
  }

  const absl::Time start_ = absl::FromUnixSeconds(1'700'000'000);
  transit::testing::TestTransit transit_;
  double draw_ = 0.5;
  timing::FakeClock clock_{start_};
  InMemoryAttemptLedger ledger_;
  ScriptedSender sender_;
  messaging::FakePublisher publisher_;
  InMemoryRetryScheduler retries_;
  InMemoryStatusCheckQueue checks_;
  stopped_alerts::InMemoryStoppedAlerts stops_;
  InMemorySuppressionList suppressions_;
  ScriptedSendLimiter limiter_;
  InMemoryInFlightLimit in_flight_;
  StepwiseSendGate gate_{stops_, suppressions_, limiter_, in_flight_};
  std::vector<std::unique_ptr<StepwiseSendGate>> other_gates_;  // DispatcherOn's
  std::vector<std::unique_ptr<Routing>> other_routings_;        // DispatcherOn's
  Routing routing_ = Routing::AllSenders({{.address = kSender}});
  // Two accounts whose breakers open after two failures in a row, for ten seconds.
  AccountBreakers breakers_{
      {.failures = 2, .window = absl::Minutes(1), .cool_down = absl::Seconds(10)},
      {"main", "backup"},
      clock_,
      nullptr};
  callbacks::InMemoryCallbackLedger callbacks_;
  RecordingStatusCheckObserver check_observer_;
  StatusChecker status_checker_{
      {.twilio_events_topic = "t.twilio", .status_check_first = kCheckFirst},
      {.callbacks = callbacks_,
       .sender = sender_,
       .publisher = publisher_,
       .checks = checks_,
       .observer = check_observer_,
       .clock = clock_}};
  RetryPolicy policy_;
  RecordingObserver observer_;
  Dispatcher dispatcher_;
};

// --- accepted, republished, claims ---

TEST_F(DispatcherTest, PublishesAcceptedOutcomeKeyedByAlert) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(publisher_.published().at(0).topic, "t.delivery");
  EXPECT_EQ(publisher_.published().at(0).key, "a1");
  DeliveryEvent event = OnlyPublished();
  EXPECT_EQ(event.header().alert_id(), "a1");
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(event.outcome().twilio_sid(), "SM1");
}

TEST_F(DispatcherTest, AcceptanceReportsTimeSinceSendAlert) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_THAT(observer_.accept_latencies, ::testing::ElementsAre(absl::Milliseconds(40)));
}

TEST_F(DispatcherTest, InFlightSlotIsReleasedAfterTheSend) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(in_flight_.in_flight(), 0);
}

TEST_F(DispatcherTest, SendClearedByTheGateIsSentWithoutAskingTheGuardAgain) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_THAT(limiter_.guard_waits(), ::testing::ElementsAre(absl::ZeroDuration()));
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_TRUE(observer_.pacing_waits.empty());
}

TEST_F(DispatcherTest, RedeliveredRequestRepublishesWithoutSendingAgain) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(observer_.republished, 1);
  ASSERT_EQ(publisher_.published().size(), 2u);
  DeliveryEvent first;
  DeliveryEvent second;
  ASSERT_TRUE(first.ParseFromString(publisher_.published()[0].value));
  ASSERT_TRUE(second.ParseFromString(publisher_.published()[1].value));
  EXPECT_EQ(second.outcome().SerializeAsString(), first.outcome().SerializeAsString());
}

TEST_F(DispatcherTest, NextAttemptIsSentSeparately) {
  ASSERT_TRUE(dispatcher_.Handle(Request(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(sender_.calls, 2);
}

TEST_F(DispatcherTest, FreshClaimByAnotherWorkerMakesUsWait) {
  ledger_.AbandonClaim("a1", 1, "worker-0", start_ - absl::Seconds(10));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DispatcherTest, ExpiredClaimIsSettledSinceItsClaimWithoutResending) {
  ledger_.AbandonClaim("a1", 1, "worker-0", start_ - absl::Minutes(3));
  sender_.settlement = {.kind = SendResult::Kind::kAccepted, .sid = "SM9"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_THAT(sender_.settled_since, ::testing::ElementsAre(start_ - absl::Minutes(3)));
  EXPECT_EQ(OnlyPublished().outcome().twilio_sid(), "SM9");
}

TEST_F(DispatcherTest, PublishFailureIsRetryableAndRetryDoesNotResend) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
}

TEST_F(DispatcherTest, OutcomeTheLedgerRefusedIsRecordedOnRetryWithoutResending) {
  ledger_.FailNextRecordOutcome(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty()) << "published before the ledger had it";

  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1) << "the recorded outcome must be republished, not resent";
}

TEST_F(DispatcherTest, LedgerDownMeansNothingIsSent) {
  ledger_.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
}

TEST_F(DispatcherTest, MalformedMessageIsInvalidArgument) {
  EXPECT_EQ(dispatcher_.Handle({.topic = "t.sms", .value = "\xff\xff"}).code(),
            absl::StatusCode::kInvalidArgument);
}

// --- personal data sealed in transit (ADR 0013) ---

TEST_F(DispatcherTest, TheSenderGetsTheOpenedRecipient) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_THAT(sender_.sent_to, ::testing::ElementsAre("+14155552671"));
}

TEST_F(DispatcherTest, ARequestWhoseKeyVersionWasRemovedGivesUpWithoutSending) {
  crypto::LocalKeyring rotated =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(3, {2, 3}));
  transit::TransitCipher cipher(rotated);
  AlertRequested shredded = Alert();  // sealed under version 1
  auto dispatcher = std::make_unique<Dispatcher>(
      DispatcherOptions{.outcome_topic = "t.delivery", .dlq_topic = "t.dlq", .worker_id = "w"},
      PortsWith(gate_, limiter_, in_flight_, routing_, cipher));
  ASSERT_TRUE(dispatcher->Handle(Message(shredded)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_GAVE_UP);
  EXPECT_THAT(LastOutcome().reason(), HasSubstr("cannot be opened"));
}

TEST_F(DispatcherTest, ARequestSealedUnderAVersionNotHeldYetIsHandedBack) {
  crypto::LocalKeyring newer =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(2, {1, 2}));
  transit::TransitCipher cipher(newer);
  AlertRequested request = Alert();
  ASSERT_TRUE(cipher.SealAlert({.recipient = "+14155552671", .text = "disk full"}, request).ok());
  EXPECT_EQ(dispatcher_.Handle(Message(request)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DispatcherTest, ARetryCarriesTheSealedRecipientAndText) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .reason = "HTTP 503"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  const AlertRequested retry = retries_.scheduled()[0].request;
  EXPECT_EQ(retry.SerializeAsString().find("4155552671"), std::string::npos);
  EXPECT_EQ(transit_.Open(retry).recipient, "+14155552671");
  EXPECT_EQ(transit_.Open(retry).text, "disk full");
}

// --- permanent ---

TEST_F(DispatcherTest, PermanentRejectionIsPublishedWithCode) {
  sender_.next = {.kind = SendResult::Kind::kRejected, .error_code = 21211, .reason = "invalid"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  DeliveryEvent event = OnlyPublished();
  EXPECT_EQ(event.outcome().kind(), DeliveryOutcome::KIND_REJECTED);
  EXPECT_EQ(event.outcome().twilio_error_code(), 21211);
  EXPECT_TRUE(retries_.scheduled().empty());
}

TEST_F(DispatcherTest, UnsubscribedRecipientIsSuppressed) {
  sender_.next = {.kind = SendResult::Kind::kRejected, .error_code = 21610, .reason = "stop"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(suppressions_.IsSuppressed("+14155552671").value_or(false), true);
}

// --- retryable and slow-down ---

TEST_F(DispatcherTest, RetryableFailureSchedulesTheNextAttemptWithJitteredBackoff) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .error_code = 0, .reason = "HTTP 503"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 2u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + kBase * 0.5);
  DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_RETRY_SCHEDULED);
  EXPECT_EQ(FromProto(outcome.retry_at()), start_ + kBase * 0.5);
}

TEST_F(DispatcherTest, BackoffRangeDoublesWithTheAttempt) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .reason = "HTTP 503"};
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + kBase * 2 * 0.5);
}

TEST_F(DispatcherTest, RetryAfterIsHonoured) {
  sender_.next = {
      .kind = SendResult::Kind::kRetryable, .reason = "HTTP 503", .retry_after = absl::Seconds(45)};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(45));
}

TEST_F(DispatcherTest, SlowDownWaitsAtLeastTheSlowDownDelay) {
  sender_.next = {.kind = SendResult::Kind::kSlowDown, .error_code = 21611, .reason = "queue"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 2u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(20));
  EXPECT_EQ(LastOutcome().twilio_error_code(), 21611);
}

TEST_F(DispatcherTest, LastAttemptFailingGoesToTheDlqWithTheReason) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .error_code = 20500, .reason = "busy"};
  ASSERT_TRUE(dispatcher_.Handle(Request(3)).ok());
  EXPECT_TRUE(retries_.scheduled().empty());
  ASSERT_EQ(On("t.dlq").size(), 1u);
  events::v1::DeadLetter letter;
  ASSERT_TRUE(letter.ParseFromString(On("t.dlq")[0].value));
  EXPECT_EQ(letter.request().header().alert_id(), "a1");
  EXPECT_EQ(letter.twilio_error_code(), 20500);
  EXPECT_THAT(letter.reason(), HasSubstr("attempt 3 of at most 3"));
  DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_THAT(outcome.reason(), HasSubstr("busy"));
  EXPECT_THAT(observer_.dead_letter_causes, ::testing::ElementsAre("max_attempts"));
}

// --- throttled by Twilio's concurrent-request limit (ADR 0043) ---

TEST_F(DispatcherTest, ThrottledLastAttemptIsSentAgainAsTheSameAttempt) {
  sender_.next = {.kind = SendResult::Kind::kThrottled,
                  .error_code = 20429,
                  .reason = "Twilio answered HTTP 429 with error 20429",
                  .retry_after = absl::Seconds(10)};
  ASSERT_TRUE(dispatcher_.Handle(Request(3)).ok());
  EXPECT_TRUE(On("t.dlq").empty());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 3u);
  EXPECT_EQ(retries_.scheduled()[0].request.deferred_by(), "twilio_throttle");
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(10));
  EXPECT_THAT(observer_.deferred_by, ::testing::ElementsAre("twilio_throttle"));
  DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_EQ(outcome.twilio_error_code(), 20429);
  EXPECT_THAT(outcome.reason(), HasSubstr("concurrent-request limit"));
  // The claim was given back: the same attempt is sent when it comes back.
  sender_.next = {.kind = SendResult::Kind::kAccepted, .sid = "SM9"};
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 2);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(LastOutcome().twilio_sid(), "SM9");
}

TEST_F(DispatcherTest, ThrottledWaitsTheInFlightDeferralAndAJitteredBackoffPerRefusalInARow) {
  sender_.next = {.kind = SendResult::Kind::kThrottled, .error_code = 20429, .reason = "429"};
  draw_ = 0.1;
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  // 1 s, as a send without a slot in flight waits, and 0.1 of the first backoff range (2 s).
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Milliseconds(1200));
  EXPECT_EQ(retries_.scheduled()[0].request.throttled(), 1u);
  // Refused again: the range doubles, as for a second attempt.
  draw_ = 0.5;
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  ASSERT_EQ(retries_.scheduled().size(), 2u);
  EXPECT_EQ(retries_.scheduled()[1].not_before, start_ + absl::Seconds(1) + kBase);
  EXPECT_EQ(retries_.scheduled()[1].request.throttled(), 2u);
  EXPECT_EQ(retries_.scheduled()[1].request.header().attempt(), 1u);
  EXPECT_TRUE(On("t.dlq").empty());
}

TEST_F(DispatcherTest, TheNextAttemptStartsWithNoRefusalsInARow) {
  AlertRequested request = Alert();
  request.set_throttled(4);
  sender_.next = {.kind = SendResult::Kind::kRetryable, .reason = "HTTP 503"};
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 2u);
  EXPECT_EQ(retries_.scheduled()[0].request.throttled(), 0u);
}

TEST_F(DispatcherTest, ThrottledWhenTheTimeToLiveRunsOutFirstIsDeadLettered) {
  AlertRequested request = Alert();
  *request.mutable_deadline() = ToProto(start_ + absl::Seconds(2));
  sender_.next = {.kind = SendResult::Kind::kThrottled,
                  .error_code = 20429,
                  .reason = "429",
                  .retry_after = absl::Seconds(5)};
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_TRUE(retries_.scheduled().empty());
  ASSERT_EQ(On("t.dlq").size(), 1u);
  EXPECT_THAT(observer_.dead_letter_causes, ::testing::ElementsAre("deadline"));
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_EQ(LastOutcome().twilio_error_code(), 20429);
}

TEST_F(DispatcherTest, ThrottledBackoffDrawnPastTheDeadlineComesBackBeforeIt) {
  // Seven refusals in a row: the whole range (the cap, 60 s), of which 0.9 is drawn, 55 s in all
  // with the in-flight deferral; 50 s are left.
  AlertRequested request = Alert();
  request.set_throttled(6);
  *request.mutable_deadline() = ToProto(start_ + absl::Seconds(50));
  sender_.next = {.kind = SendResult::Kind::kThrottled, .error_code = 20429, .reason = "429"};
  draw_ = 0.9;
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_TRUE(On("t.dlq").empty());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  // Drawn again within the time left: 1 s, and 0.9 of the 48 s between it and one in-flight
  // deferral (1 s) before the deadline.
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Milliseconds(44'200));
  EXPECT_EQ(retries_.scheduled()[0].request.throttled(), 7u);
}

TEST_F(DispatcherTest,
       ThrottledWithARetryAfterInTheLastSecondComesBackThenAndOneToTheDeadlineEnds) {
  AlertRequested request = Alert();
  *request.mutable_deadline() = ToProto(start_ + absl::Seconds(5));
  sender_.next = {.kind = SendResult::Kind::kThrottled,
                  .error_code = 20429,
                  .reason = "429",
                  .retry_after = absl::Milliseconds(4'500)};
  draw_ = 0.9;
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Milliseconds(4'500));
  sender_.next.retry_after = absl::Seconds(5);
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_THAT(observer_.dead_letter_causes, ::testing::ElementsAre("deadline"));
}

TEST_F(DispatcherTest, ThrottledWithARetryAfterOfADayWaitsFiveMinutes) {
  sender_.next = {.kind = SendResult::Kind::kThrottled,
                  .error_code = 20429,
                  .reason = "429",
                  .retry_after = absl::Hours(24)};
  draw_ = 0;
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_TRUE(On("t.dlq").empty());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Minutes(5));
}

TEST_F(DispatcherTest, RetryThatWouldComeAfterTheDeadlineGoesToTheDlq) {
  AlertRequested request = Alert();
  *request.mutable_deadline() = ToProto(start_ + absl::Milliseconds(500));
  sender_.next = {.kind = SendResult::Kind::kRetryable, .reason = "HTTP 503"};
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_TRUE(retries_.scheduled().empty());
  EXPECT_EQ(On("t.dlq").size(), 1u);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_THAT(observer_.dead_letter_causes, ::testing::ElementsAre("deadline"));
}

TEST_F(DispatcherTest, RetryThatCannotBeScheduledIsHandedBackAndMaySendAgain) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .reason = "HTTP 503"};
  retries_.FailWith(absl::UnavailableError("kafka down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());

  retries_.FailWith(absl::OkStatus());
  sender_.next = {.kind = SendResult::Kind::kAccepted, .sid = "SM2"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 2);
  EXPECT_EQ(OnlyPublished().outcome().twilio_sid(), "SM2");
}

// --- scheduled alerts (SendAlert's send_at) ---

TEST_F(DispatcherTest, ScheduledAlertWaitsOnTheTiersUnclaimedUntilItsTime) {
  AlertRequested request = Alert();
  *request.mutable_not_before() = ToProto(start_ + absl::Minutes(20));
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Minutes(20));
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_SCHEDULED);
  EXPECT_EQ(FromProto(outcome.retry_at()), start_ + absl::Minutes(20));
  EXPECT_THAT(observer_.deferred_by, ::testing::ElementsAre("schedule"));
  // Unclaimed: the attempt is still free for whichever worker handles it when it is due.
  absl::StatusOr<AttemptClaim> claim = ledger_.Claim("a1", 1, "worker-2", start_);
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->state, AttemptClaim::State::kClaimed);
}

TEST_F(DispatcherTest, AnAlertHeldByQuietHoursWaitsSayingWhose) {
  AlertRequested request = Alert();
  *request.mutable_send_at() = ToProto(start_ + absl::Hours(7));
  *request.mutable_not_before() = request.send_at();
  request.set_quiet_hours("22:00-07:00 in Europe/Berlin");
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_SCHEDULED);
  EXPECT_EQ(outcome.reason(), "the recipient's quiet hours (22:00-07:00 in Europe/Berlin)");
  EXPECT_EQ(FromProto(outcome.retry_at()), start_ + absl::Hours(7));
  EXPECT_THAT(observer_.deferred_by, ::testing::ElementsAre("quiet_hours"));
}

TEST_F(DispatcherTest, ScheduledAlertIsSentOnceItsTimeHasCome) {
  AlertRequested request = Alert();
  *request.mutable_not_before() = ToProto(start_ + absl::Minutes(20));
  clock_.Advance(absl::Minutes(20));
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
}

TEST_F(DispatcherTest, ScheduledAlertsAcceptLatencyCountsFromItsSendAt) {
  AlertRequested request = Alert();
  *request.mutable_send_at() = ToProto(start_ + absl::Hours(30));
  *request.mutable_not_before() = request.send_at();
  *request.mutable_deadline() = ToProto(start_ + absl::Hours(31));
  clock_.Advance(absl::Hours(30) + absl::Milliseconds(25));
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  EXPECT_THAT(observer_.accept_latencies, ::testing::ElementsAre(absl::Milliseconds(25)));
}

TEST_F(DispatcherTest, ScheduledAlertCancelledMeanwhileIsNeverSent) {
  AlertRequested request = Alert();
  *request.mutable_not_before() = ToProto(start_ + absl::Minutes(20));
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  clock_.Advance(absl::Minutes(20));
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled().at(0).request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_CANCELLED);
}

TEST_F(DispatcherTest, ScheduledAlertIsHandedBackWhenTheTierCannotTakeIt) {
  retries_.FailWith(absl::UnavailableError("kafka down"));
  AlertRequested request = Alert();
  *request.mutable_not_before() = ToProto(start_ + absl::Minutes(20));
  EXPECT_EQ(dispatcher_.Handle(Message(request)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(observer_.handed_back, 1);
}

// --- checks before the send ---

TEST_F(DispatcherTest, CancelledAlertIsNotSent) {
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_CANCELLED);
}

TEST_F(DispatcherTest, AcknowledgedAlertIsNotSentAgain) {
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kAcknowledged, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_ACKNOWLEDGED);
}

TEST_F(DispatcherTest, APageOfAnAcknowledgedEscalationIsCancelledAsNotPaged) {
  ASSERT_TRUE(stops_.Stop("c0", stopped_alerts::StopReason::kAcknowledged, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Message(Page(3))).ok());
  EXPECT_EQ(sender_.calls, 0);
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_CANCELLED);
  EXPECT_EQ(outcome.reason(), "not paged: the escalation was acknowledged before step 3");
}

TEST_F(DispatcherTest, APageOfACancelledEscalationIsCancelledAsNotPaged) {
  ASSERT_TRUE(stops_.Stop("c0", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Message(Page(2))).ok());
  EXPECT_EQ(sender_.calls, 0);
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_CANCELLED);
  EXPECT_EQ(outcome.reason(), "not paged: the caller cancelled the escalation");
}

TEST_F(DispatcherTest, APagesOwnStopWinsOverItsEscalations) {
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kAcknowledged, absl::Hours(1)).ok());
  ASSERT_TRUE(stops_.Stop("c0", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Message(Page(2))).ok());
  EXPECT_EQ(sender_.calls, 0);
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_ACKNOWLEDGED);
  EXPECT_THAT(outcome.reason(), HasSubstr("the alert was acknowledged"));
}

TEST_F(DispatcherTest, StopsUnreadableMeansNothingIsSent) {
  stops_.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
  stops_.FailWith(absl::OkStatus());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok()) << "the claim must have been given back";
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, PastTheDeadlineGoesToTheDlqWithoutSending) {
  clock_.SleepFor(absl::Hours(2));
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(On("t.dlq").size(), 1u);
  DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_THAT(outcome.reason(), HasSubstr("time to live"));
}

TEST_F(DispatcherTest, PastTheDeadlineTheLimitsAreNotAskedAndTheStopStillHolds) {
  clock_.SleepFor(absl::Hours(2));
  limiter_.Decide({.kind = LimitDecision::Kind::kDefer,
                   .retry_at = start_ + absl::Hours(3),
                   .limit = "recipient_1h",
                   .reason = "recipient limit 11 per hour"});
  ASSERT_TRUE(suppressions_.Suppress("+14155552671", start_).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_TRUE(retries_.scheduled().empty());
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_CANCELLED);
}

TEST_F(DispatcherTest, DlqUnavailableHandsBack) {
  clock_.SleepFor(absl::Hours(2));
  publisher_.FailWith(absl::UnavailableError("broker down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(observer_.handed_back, 1);
}

TEST_F(DispatcherTest, SuppressedRecipientIsNotSent) {
  ASSERT_TRUE(suppressions_.Suppress("+14155552671", start_).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_SUPPRESSED);
}

TEST_F(DispatcherTest, LimitedSendIsDeferredWithTheSameAttempt) {
  limiter_.Decide({.kind = LimitDecision::Kind::kDefer,
                   .retry_at = start_ + absl::Minutes(10),
                   .limit = "recipient_1h",
                   .reason = "recipient limit 11 per hour"});
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(sender_.calls, 0);
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 2u);
  EXPECT_EQ(retries_.scheduled()[0].request.deferred_by(), "recipient_1h");
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Minutes(10));
  DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_EQ(FromProto(outcome.retry_at()), start_ + absl::Minutes(10));
  EXPECT_THAT(outcome.reason(), HasSubstr("recipient limit 11 per hour"));
}

TEST_F(DispatcherTest, DeferredAttemptIsSentWhenItComesBack) {
  limiter_.Decide({.kind = LimitDecision::Kind::kDefer,
                   .retry_at = start_ + absl::Minutes(10),
                   .limit = "sender",
                   .reason = "sender pacing"});
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  limiter_.Decide({.kind = LimitDecision::Kind::kSend, .send_at = start_});
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
}

TEST_F(DispatcherTest, ReservedSlotLaterIsWaitedFor) {
  limiter_.Decide(
      {.kind = LimitDecision::Kind::kSend, .send_at = start_ + absl::Milliseconds(300)});
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_THAT(clock_.sleeps(), ::testing::ElementsAre(absl::Milliseconds(300)));
  EXPECT_THAT(observer_.pacing_waits, ::testing::ElementsAre(absl::Milliseconds(300)));
  EXPECT_EQ(sender_.calls, 1);
}

// --- the senders ---

TEST_F(DispatcherTest, SendsFromTheSenderItsSlotIsOf) {
  limiter_.Decide({.kind = LimitDecision::Kind::kSend,
                   .send_at = start_ + absl::Milliseconds(100),
                   .sender = {.address = "+14155550199"}});
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_THAT(limiter_.guarded_senders(), ::testing::ElementsAre("+14155550199"));
  EXPECT_THAT(sender_.sent_from, ::testing::ElementsAre("+14155550199"));
}

TEST_F(DispatcherTest, SpreadsSendsOverTheSendersAndKeepsEachRecipientOnItsOwn) {
  const PacedSender first{.address = "+14155550101",
                          .rate = {.count = 1, .window = absl::Seconds(1)}};
  const PacedSender second{.address = "+14155550102",
                           .rate = {.count = 1, .window = absl::Seconds(1)}};
  InMemorySendLimiter limiter({.channel = "sms", .senders = {first, second}});
  std::unique_ptr<Dispatcher> dispatcher = DispatcherOn(limiter, in_flight_, {first, second});
  const auto to = [&](const std::string& alert_id, const std::string& recipient) {
    AlertRequested request = Alert(1, alert_id);
    transit_.Seal(request, recipient, "disk full");
    return Message(request);
  };
  // Two recipients at once take one sender each, with no wait; each then stays with its own,
  // waiting a pacing interval rather than moving to the other's.
  ASSERT_TRUE(dispatcher->Handle(to("a1", "+14155552671")).ok());
  ASSERT_TRUE(dispatcher->Handle(to("a2", "+14155552672")).ok());
  ASSERT_TRUE(dispatcher->Handle(to("a3", "+14155552672")).ok());
  ASSERT_TRUE(dispatcher->Handle(to("a4", "+14155552671")).ok());
  EXPECT_THAT(sender_.sent_from,
              ::testing::ElementsAre(first.address, second.address, second.address, first.address));
}

// --- routing rules (routing.h) ---

// SMS from +1 leaves from the first two; nothing else is routed.
Routing NorthAmericaOnly() {
  return *Routing::Parse(
      R"({"rules": [{"name": "na", "prefixes": ["+1"], "channels": ["sms"],
                     "senders": ["+14155550101", "+14155550102"]}]})",
      "routing.json", types::v1::CHANNEL_SMS,
      {{.address = "+14155550101"}, {.address = "+14155550102"}, {.address = "+14155550103"}});
}

TEST_F(DispatcherTest, ReservesAmongTheMatchingRulesSenders) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, NorthAmericaOnly());
  AlertRequested request = Alert();
  request.mutable_header()->set_channel(types::v1::CHANNEL_SMS);
  ASSERT_TRUE(dispatcher->Handle(Message(request)).ok());
  EXPECT_THAT(limiter_.reserved_among(),
              ::testing::ElementsAre(::testing::ElementsAre("+14155550101", "+14155550102")));
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, AnAlertNoRuleMatchesFailsUnroutedWithoutReservingOrSending) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, NorthAmericaOnly());
  AlertRequested request = Alert();
  request.mutable_header()->set_channel(types::v1::CHANNEL_SMS);
  transit_.Seal(request, "+442071838750", "disk full");
  ASSERT_TRUE(dispatcher->Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(limiter_.reserved_among().empty());
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_UNROUTED);
  EXPECT_THAT(outcome.reason(), HasSubstr("no routing rule matches this alert (destination GB, "
                                          "+44; channel sms; caller \"billing\"; priority "
                                          "normal)"));
  // Decided for good: a redelivery republishes it without asking again.
  ASSERT_TRUE(dispatcher->Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(observer_.republished, 1);
  EXPECT_TRUE(limiter_.reserved_among().empty());
}

const SendResult kAccountFailing{.kind = SendResult::Kind::kRetryable,
                                 .account_evidence = SendResult::AccountEvidence::kFailing};

// Every destination from "main"'s sender, else "backup"'s.
Routing MainThenBackup() {
  return *Routing::Parse(
      R"({"rules": [{"name": "all", "accounts": ["main", "backup"],
                     "senders": ["+14155550101", "+14155550102"]}]})",
      "routing.json", types::v1::CHANNEL_SMS,
      {{.address = "+14155550101", .account = "main"},
       {.address = "+14155550102", .account = "backup"}});
}

TEST_F(DispatcherTest, SendsGoToTheNextAccountWhileTheFirstsBreakerIsOpen) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, MainThenBackup());
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  EXPECT_THAT(limiter_.reserved_among().back(), ::testing::ElementsAre("+14155550101"));
  breakers_.Record("main", kAccountFailing, clock_.Now());
  breakers_.Record("main", kAccountFailing, clock_.Now());
  ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, "a2"))).ok());
  EXPECT_THAT(limiter_.reserved_among().back(), ::testing::ElementsAre("+14155550102"));
  // After the cool-down one probe goes to "main" again.
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, "a3"))).ok());
  EXPECT_THAT(limiter_.reserved_among().back(), ::testing::ElementsAre("+14155550101"));
}

TEST_F(DispatcherTest, EveryAnswerIsRecordedOnTheSendersAccount) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, MainThenBackup());
  limiter_.Decide({.kind = LimitDecision::Kind::kSend,
                   .send_at = start_,
                   .sender = {.address = "+14155550101", .account = "main"}});
  sender_.next = kAccountFailing;
  ASSERT_TRUE(dispatcher->Handle(Request(1)).ok());
  ASSERT_TRUE(dispatcher->Handle(Request(2)).ok());
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
  EXPECT_EQ(breakers_.State("backup"), BreakerState::kClosed);
}

TEST_F(DispatcherTest, AnUnknownOutcomeIsSettledNotSentOnTheNextAccount) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, MainThenBackup());
  breakers_.Record("main", kAccountFailing, clock_.Now());
  // The request timed out on main: main's breaker opens, and Twilio's list cannot be read.
  sender_.next = {.kind = SendResult::Kind::kUnknown,
                  .reason = "timed out",
                  .account_evidence = SendResult::AccountEvidence::kFailing};
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  ASSERT_EQ(breakers_.State("main"), BreakerState::kOpen);
  ASSERT_EQ(sender_.calls, 1);
  // Redelivered while main rests: the attempt is settled again, never sent from backup.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(sender_.settled_since.size(), 2u);
  EXPECT_THAT(sender_.sent_from, ::testing::ElementsAre("+14155550101"));
}

TEST_F(DispatcherTest, AnAttemptWaitsWhileEveryAccountOfItsRuleIsResting) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, MainThenBackup());
  for (const char* account : {"main", "backup"}) {
    breakers_.Record(account, kAccountFailing, clock_.Now());
    breakers_.Record(account, kAccountFailing, clock_.Now());
  }
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(limiter_.reserved_among().empty());
  const DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_THAT(outcome.reason(), HasSubstr("the circuit breakers of the Twilio accounts of routing "
                                          "rule \"all\" (main until"));
  EXPECT_EQ(FromProto(outcome.retry_at()), start_ + absl::Seconds(10));
}

TEST_F(DispatcherTest, AStoppedAlertNoRuleMatchesEndsAsItsStopSays) {
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherRouting(limiter_, in_flight_, NorthAmericaOnly());
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  AlertRequested request = Alert();
  request.mutable_header()->set_channel(types::v1::CHANNEL_SMS);
  transit_.Seal(request, "+442071838750", "disk full");
  ASSERT_TRUE(dispatcher->Handle(Message(request)).ok());
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_CANCELLED);
}

// --- the send-time guard ---

const PacedSender kFivePerSecondSender{.address = "+14155550100",
                                       .rate = {.count = 5, .window = absl::Seconds(1)}};
const SendLimits kFivePerSecond{.channel = "sms", .senders = {kFivePerSecondSender}};

TEST_F(DispatcherTest, SendsOnScheduleNeverWaitForTheGuard) {
  InMemorySendLimiter limiter(kFivePerSecond);
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherOn(limiter, in_flight_, kFivePerSecond.senders);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, absl::StrCat("a", i)))).ok()) << i;
  }
  EXPECT_EQ(sender_.calls, 12);
  // Only the reserved slots were waited for, one pacing interval (208 ms) each.
  EXPECT_THAT(clock_.sleeps(),
              ::testing::Each(kFivePerSecond.PacingInterval(kFivePerSecondSender)));
  EXPECT_EQ(clock_.sleeps().size(), 11u);
}

TEST_F(DispatcherTest, ACancelMadeWhileASendWaitsForItsSlotHoldsItBack) {
  InMemorySendLimiter limiter(kFivePerSecond);
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherOn(limiter, in_flight_, kFivePerSecond.senders);
  ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, "a0"))).ok());
  // a1's slot is 208 ms later: the caller cancels it while its worker waits.
  clock_.OnSleep([this] {
    ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  });
  ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, "a1"))).ok());
  EXPECT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_CANCELLED);
  EXPECT_THAT(LastOutcome().reason(), HasSubstr("attempt 1 was not sent"));
  EXPECT_EQ(in_flight_.in_flight(), 0);
}

TEST_F(DispatcherTest, LateSendMakesTheSendThatWouldCrowdItWaitForTheGuard) {
  InMemorySendLimiter limiter(kFivePerSecond);
  std::unique_ptr<Dispatcher> dispatcher =
      DispatcherOn(limiter, in_flight_, kFivePerSecond.senders);
  // The second send's thread wakes 50 ms after its slot (208 ms): it leaves at 258 ms, and the
  // sends at 416, 624, 832 and 1040 ms keep their slots. The one reserved for 1248 ms would make
  // six in [258 ms, 1258 ms); it waits until 258 ms + 1020 ms instead.
  clock_.OnSleep([this] {
    if (clock_.sleeps().size() == 1) clock_.Advance(absl::Milliseconds(50));
  });
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(dispatcher->Handle(Message(Alert(1, absl::StrCat("a", i)))).ok()) << i;
  }
  EXPECT_EQ(sender_.calls, 7);
  EXPECT_THAT(clock_.sleeps(),
              ::testing::ElementsAre(absl::Milliseconds(208), absl::Milliseconds(158),
                                     absl::Milliseconds(208), absl::Milliseconds(208),
                                     absl::Milliseconds(208), absl::Milliseconds(208),
                                     absl::Milliseconds(30)));
  EXPECT_EQ(observer_.pacing_waits.back(), absl::Milliseconds(208 + 30));
}

// The gate's step asks the guard first (a slot due at once); when it holds the send back, the
// dispatcher takes the slot in flight and asks the guard step by step.
void HoldAtTheGatesStep(ScriptedSendLimiter& limiter, absl::Time now) {
  limiter.GuardAnswers(
      LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now + absl::Milliseconds(1)});
}

TEST_F(DispatcherTest, GuardIsAskedAgainAfterItsWaitWithTheWaitSoFar) {
  HoldAtTheGatesStep(limiter_, start_);
  limiter_.GuardAnswers(LimitDecision{.kind = LimitDecision::Kind::kSend,
                                      .send_at = start_ + absl::Milliseconds(30)});
  limiter_.GuardAnswers(LimitDecision{.kind = LimitDecision::Kind::kSend,
                                      .send_at = start_ + absl::Milliseconds(45)});
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_THAT(limiter_.guard_waits(),
              ::testing::ElementsAre(absl::ZeroDuration(), absl::ZeroDuration(),
                                     absl::Milliseconds(30), absl::Milliseconds(45)));
  EXPECT_THAT(observer_.pacing_waits, ::testing::ElementsAre(absl::Milliseconds(45)));
}

TEST_F(DispatcherTest, GuardWaitPastMaxWaitDefersWithThePacingReasonAndFreesTheSlotInFlight) {
  HoldAtTheGatesStep(limiter_, start_);
  limiter_.GuardAnswers(LimitDecision{.kind = LimitDecision::Kind::kDefer,
                                      .retry_at = start_ + absl::Seconds(1),
                                      .limit = PacingLimitLabel(),
                                      .reason = PacingReason(kFivePerSecondSender)});
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(in_flight_.in_flight(), 0);
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 2u);
  EXPECT_EQ(retries_.scheduled()[0].request.deferred_by(), "sender_pacing");
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(1));
  DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_THAT(outcome.reason(), HasSubstr("sender pacing 5 per second"));
  // The claim was given back: the deferred attempt is sent when it comes back.
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, GuardUnreadableHandsBackWithoutSending) {
  HoldAtTheGatesStep(limiter_, start_);
  limiter_.GuardAnswers(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_EQ(in_flight_.in_flight(), 0);
  EXPECT_TRUE(publisher_.published().empty());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, NoSlotInFlightDefersTheAttempt) {
  InMemoryInFlightLimit full(0);
  std::unique_ptr<Dispatcher> dispatcher = DispatcherOn(limiter_, full);
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 1u);
  EXPECT_THAT(observer_.deferred_by, ::testing::ElementsAre("in_flight"));
}

TEST_F(DispatcherTest, TheSlotsKeptForCriticalSendsDeferANormalOneAndSendACriticalOne) {
  InMemoryInFlightLimit one_kept(1, 1);
  std::unique_ptr<Dispatcher> dispatcher = DispatcherOn(limiter_, one_kept);
  ASSERT_TRUE(dispatcher->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_THAT(observer_.deferred_by, ::testing::ElementsAre("in_flight"));

  AlertRequested critical = Alert(1, "a2");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(dispatcher->Handle(Message(critical)).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(one_kept.in_flight(), 0);
}

// --- unknown outcomes ---

TEST_F(DispatcherTest, LostAnswerSettledAsAcceptedIsAccepted) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  sender_.settlement = {.kind = SendResult::Kind::kAccepted, .sid = "SM7"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_THAT(sender_.settled_since, ::testing::ElementsAre(start_));
  DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(outcome.twilio_sid(), "SM7");
}

TEST_F(DispatcherTest, LostAnswerThatCannotBeSettledIsRescheduledAsTheSameAttempt) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(30));
  EXPECT_EQ(ledger_.Peek("a1", 1)->state, AttemptClaim::State::kUnsettled);
  DeliveryOutcome outcome = OnlyPublished().outcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_THAT(outcome.reason(), HasSubstr("never resent"));
}

TEST_F(DispatcherTest, NotFoundRightAfterTheSendIsSettledAgainLater) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  sender_.settlement = {.kind = SendResult::Kind::kRetryable, .reason = "not in Twilio's list"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.header().attempt(), 1u);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_DEFERRED);
}

TEST_F(DispatcherTest, RedeliveredUnsettledAttemptIsSettledInsteadOfSent) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  clock_.SleepFor(absl::Seconds(30));
  sender_.settlement = {.kind = SendResult::Kind::kAccepted, .sid = "SM8"};
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_THAT(sender_.settled_since, ::testing::ElementsAre(start_, start_));
  EXPECT_EQ(LastOutcome().twilio_sid(), "SM8");
}

TEST_F(DispatcherTest, SettledAsNotTakenAfterTheSettleDelayIsRetriedAsTheNextAttempt) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  clock_.SleepFor(absl::Seconds(30));
  sender_.settlement = {.kind = SendResult::Kind::kRetryable, .reason = "not in Twilio's list"};
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 1);
  ASSERT_EQ(retries_.scheduled().size(), 2u);
  EXPECT_EQ(retries_.scheduled()[1].request.header().attempt(), 2u);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_RETRY_SCHEDULED);
}

TEST_F(DispatcherTest, UnsettledPastTheDeadlineGivesUpWithoutResending) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  clock_.SleepFor(absl::Hours(1));
  ASSERT_TRUE(dispatcher_.Handle(Message(retries_.scheduled()[0].request)).ok());
  EXPECT_EQ(sender_.calls, 1);
  DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_GAVE_UP);
  EXPECT_THAT(outcome.reason(), HasSubstr("not resent"));
}

TEST_F(DispatcherTest, SettlementNeverOutlastsTheDeadline) {
  AlertRequested request = Alert();
  *request.mutable_deadline() = ToProto(start_ + absl::Seconds(10));
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Message(request)).ok());
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].not_before, start_ + absl::Seconds(10));
}

TEST_F(DispatcherTest, UnsettledMarkTheLedgerRefusedIsKeptAndNeverResent) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ledger_.FailNextMarkUnsettled(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(ledger_.Peek("a1", 1)->state, AttemptClaim::State::kUnsettled);
  EXPECT_EQ(LastOutcome().kind(), DeliveryOutcome::KIND_DEFERRED);
}

TEST_F(DispatcherTest, SameAttemptHandledConcurrentlyInOneProcessIsHandedBack) {
  // The second message for the attempt arrives while the first waits for its pacing slot.
  limiter_.Decide({.kind = LimitDecision::Kind::kSend, .send_at = start_ + absl::Seconds(1)});
  absl::Status second;
  clock_.OnSleep([&] { second = dispatcher_.Handle(Request()); });
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, ConcurrentHandlingSendsEachAttemptOnce) {
  constexpr int kThreads = 8;
  constexpr int kAlerts = 50;
  std::atomic<int> failures = 0;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Every alert is handled by two threads, as a redelivery racing the first delivery.
        for (int i = 0; i < kAlerts; ++i) {
          const std::string id = "alert-" + std::to_string((t / 2) * kAlerts + i);
          if (!dispatcher_.Handle(Message(Alert(1, id))).ok()) ++failures;
        }
      });
    }
  }
  EXPECT_EQ(sender_.calls.load(), kThreads / 2 * kAlerts);
  EXPECT_EQ(in_flight_.in_flight(), 0);
  // A racing duplicate either republished the outcome or was handed back to be retried.
  EXPECT_EQ(observer_.republished.load() + failures.load(), kThreads / 2 * kAlerts);
}

// --- status checks (status_checker_test.cc tests the checks themselves) ---

TEST_F(DispatcherTest, AcceptedAttemptSchedulesAStatusCheckAndACheckFromTheTiersReachesTheChecker) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  const AlertRequested check = checks_.scheduled()[0].request;
  EXPECT_EQ(check.check_sid(), "SM1");
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + kCheckFirst);
  EXPECT_TRUE(checks_.scheduled()[0].first);
  // A check a worker before docs/adr/0045 put on a retry tier.
  clock_.SleepFor(kCheckFirst);
  ASSERT_TRUE(dispatcher_.Handle(Message(check)).ok());
  EXPECT_THAT(check_observer_.status_checks, ::testing::ElementsAre("waiting"));
  // Neither sent again nor claimed: a claim would have found the outcome and republished it.
  EXPECT_EQ(sender_.calls.load(), 1);
  EXPECT_EQ(observer_.republished.load(), 0);
  EXPECT_EQ(On("t.delivery").size(), 1u);
}

TEST_F(DispatcherTest, UnschedulableCheckIsHandedBackAndScheduledOnTheRedelivery) {
  checks_.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  checks_.FailWith(absl::OkStatus());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls.load(), 1);
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].request.check_sid(), "SM1");
}

// --- spend budgets (docs/adr/0037) ---

class DispatcherBudgetTest : public DispatcherTest {
 protected:
  // billing may spend 0.01 USD a day; an SMS segment is estimated at 0.0079 USD.
  budgets::InMemoryBudgetLedger budget_ledger_;
  budgets::BudgetGuard budgets_{*budgets::BudgetSettings::Parse(
                                    R"({"currency": "USD", "exempt": "critical",
              "budgets": [{"name": "billing-daily", "caller": "billing", "period": "day",
                           "limit": "0.01"}],
              "prices": {"sms": {"*": "0.0079"}, "voice": {"*": "0.014"}}})",
                                    "budgets.json"),
                                budget_ledger_};
  const budgets::Budget& daily_ = *budgets_.settings().For("billing", "")[0];
  std::unique_ptr<Dispatcher> dispatcher_ = DispatcherWithBudgets(budgets_);
};

TEST_F(DispatcherBudgetTest, AnAcceptedSendKeepsItsEstimateReservedForTheChargeToSettle) {
  ASSERT_TRUE(dispatcher_->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(budget_ledger_.Spent(daily_, start_), 7'900);
  const DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(outcome.budget_reserved_micros(), 7'900);
  EXPECT_EQ(FromProto(outcome.budget_reserved_at()), start_);
  ASSERT_EQ(checks_.scheduled().size(), 1u);  // the status check, carrying the reservation
  EXPECT_EQ(checks_.scheduled()[0].request.budget_reserved_micros(), 7'900);
}

TEST_F(DispatcherBudgetTest, ASendThatWouldPassABudgetWaitsUntilItResetsWithoutCallingTwilio) {
  ASSERT_TRUE(budgets_.CountCharge("billing", "", 5'000, start_, "SM0").ok());
  AlertRequested request = Alert();
  *request.mutable_deadline() = ToProto(start_ + absl::Hours(6));  // past midnight UTC
  ASSERT_TRUE(dispatcher_->Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  const absl::Time midnight = budgets::PeriodEnd(budgets::Period::kDay, start_);
  ASSERT_EQ(retries_.scheduled().size(), 1u);
  EXPECT_EQ(retries_.scheduled()[0].request.deferred_by(), "budget");
  EXPECT_EQ(retries_.scheduled()[0].not_before, midnight);
  const DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEFERRED);
  EXPECT_THAT(outcome.reason(),
              HasSubstr("budget \"billing-daily\" (0.01 USD a day for caller billing) has spent "
                        "0.005 USD"));
  EXPECT_EQ(budget_ledger_.Spent(daily_, start_), 5'000);
  EXPECT_EQ(in_flight_.in_flight(), 0);
}

TEST_F(DispatcherBudgetTest, ARefusedSendGivesItsEstimateBack) {
  ASSERT_TRUE(budgets_.CountCharge("billing", "", 1'000, start_, "SM0").ok());
  sender_.next = {.kind = SendResult::Kind::kRejected, .error_code = 21211, .reason = "invalid"};
  ASSERT_TRUE(dispatcher_->Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);  // reserved, then given back
  EXPECT_EQ(budget_ledger_.Spent(daily_, start_), 1'000);
}

TEST_F(DispatcherBudgetTest, AHoldPastTheAlertsTimeToLiveDeadLettersItNow) {
  ASSERT_TRUE(budgets_.CountCharge("billing", "", 5'000, start_, "SM0").ok());
  AlertRequested request = Alert();  // its deadline is an hour away, midnight further
  ASSERT_TRUE(dispatcher_->Handle(Message(request)).ok());
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(retries_.scheduled().empty());
  const DeliveryOutcome outcome = LastOutcome();
  EXPECT_EQ(outcome.kind(), DeliveryOutcome::KIND_DEAD_LETTERED);
  EXPECT_THAT(outcome.reason(), HasSubstr("the alert's time to live ends before the budget "
                                          "allows it"));
}

TEST_F(DispatcherBudgetTest, ACriticalAlertGoesPastASpentBudgetReservingNothing) {
  ASSERT_TRUE(budgets_.CountCharge("billing", "", 10'000, start_, "SM0").ok());
  AlertRequested critical = Alert();
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(dispatcher_->Handle(Message(critical)).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(LastOutcome().budget_reserved_micros(), 0);  // its charge will count in full
  EXPECT_EQ(budget_ledger_.Spent(daily_, start_), 10'000);
}

}  // namespace
}  // namespace klaxon::delivery
