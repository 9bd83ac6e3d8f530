#include "services/delivery/status_checker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/budgets/in_memory_budget_ledger.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/prototime/prototime.h"
#include "common/timing/fake_clock.h"
#include "services/delivery/dispatcher_test_ports.h"

namespace klaxon::delivery {
namespace {

using events::v1::AlertRequested;
using test_ports::InMemoryStatusCheckQueue;
using test_ports::RecordingStatusCheckObserver;
using test_ports::ScriptedSender;
using ::testing::ElementsAre;

using prototime::FromProto;
using prototime::ToProto;

constexpr absl::Duration kFirstCheckAfter = absl::Minutes(1);
constexpr absl::Duration kCheckAfter = absl::Minutes(10);
constexpr absl::Duration kCheckGrace = absl::Minutes(15);

class StatusCheckerTest : public ::testing::Test {
 protected:
  // Attempt 1 of alert a1, whose deadline is an hour past start_.
  AlertRequested Alert() const {
    AlertRequested request;
    request.mutable_header()->set_alert_id("a1");
    request.mutable_header()->set_attempt(1);
    *request.mutable_deadline() = ToProto(start_ + absl::Hours(1));
    return request;
  }
  // The status check of attempt 1, accepted as SM1 at start_.
  AlertRequested Check() const {
    AlertRequested check = Alert();
    check.set_check_sid("SM1");
    *check.mutable_header()->mutable_occurred_at() = ToProto(start_);
    return check;
  }
  static messaging::InboundMessage Message(const AlertRequested& check) {
    return {.topic = "t.sms.retry.1m", .key = "a1", .value = check.SerializeAsString()};
  }
  static StatusReadBack MessageStatus(const std::string& status) {
    StatusReadBack read;
    read.status.mutable_message_status()->set_message_sid("SM1");
    read.status.mutable_message_status()->set_message_status(status);
    return read;
  }
  // SM1 read as `status`, priced at 0.0158 USD for two segments.
  static StatusReadBack PricedMessage(const std::string& status) {
    StatusReadBack read = MessageStatus(status);
    read.charge.emplace();
    read.charge->set_sid("SM1");
    read.charge->set_amount_micros(15'800);
    read.charge->set_currency("USD");
    read.charge->set_segments(2);
    return read;
  }
  static std::vector<events::v1::TwilioEvent> Published(const messaging::FakePublisher& publisher) {
    std::vector<events::v1::TwilioEvent> events;
    for (const auto& message : publisher.published()) {
      events.emplace_back();
      EXPECT_TRUE(events.back().ParseFromString(message.value));
    }
    return events;
  }
  StatusCheckerOptions Options(bool read_charges) const {
    return {.twilio_events_topic = "t.twilio",
            .status_check_first = kFirstCheckAfter,
            .status_check_after = kCheckAfter,
            .status_check_max_interval = absl::Minutes(30),
            .status_check_grace = kCheckGrace,
            .read_charges = read_charges};
  }
  StatusCheckerPorts Ports() {
    return {.callbacks = callbacks_,
            .sender = sender_,
            .publisher = publisher_,
            .checks = checks_,
            .observer = observer_,
            .clock = clock_};
  }

  const absl::Time start_ = absl::FromUnixSeconds(1'700'000'000);
  timing::FakeClock clock_{start_};
  callbacks::InMemoryCallbackLedger callbacks_;
  ScriptedSender sender_;
  messaging::FakePublisher publisher_;
  InMemoryStatusCheckQueue checks_;
  RecordingStatusCheckObserver observer_;
  StatusCheckerPorts BudgetedPorts() {
    StatusCheckerPorts ports = Ports();
    ports.budgets = &budgets_;
    return ports;
  }

  budgets::InMemoryBudgetLedger budget_ledger_;
  budgets::BudgetGuard budgets_{*budgets::BudgetSettings::Parse(
                                    R"({"currency": "USD",
              "budgets": [{"name": "billing-daily", "caller": "billing", "period": "day",
                           "limit": "1"}],
              "prices": {"sms": {"*": "0.0079"}, "voice": {"*": "0.014"}}})",
                                    "budgets.json"),
                                budget_ledger_};
  // The status checks alone; `charging_` also reads what Twilio charged, and `budgeted_` settles
  // the budgets with it.
  StatusChecker checker_{Options(false), Ports()};
  StatusChecker charging_{Options(true), Ports()};
  StatusChecker budgeted_{Options(true), BudgetedPorts()};
};

TEST_F(StatusCheckerTest, TheFirstCheckIsDueStatusCheckFirstAfterTheAcceptance) {
  AlertRequested deferred = Alert();
  deferred.set_deferred_by("in_flight");
  events::v1::DeliveryOutcome accepted;
  accepted.set_twilio_sid("SM1");
  accepted.set_twilio_account("main");
  accepted.set_budget_reserved_micros(7'900);
  *accepted.mutable_budget_reserved_at() = ToProto(start_ - absl::Seconds(1));
  ASSERT_TRUE(checker_.ScheduleFirstCheck(deferred, accepted).ok());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  const AlertRequested check = checks_.scheduled()[0].request;
  EXPECT_EQ(check.check_sid(), "SM1");
  EXPECT_EQ(check.check_account(), "main");
  EXPECT_EQ(check.budget_reserved_micros(), 7'900);
  EXPECT_EQ(FromProto(check.budget_reserved_at()), start_ - absl::Seconds(1));
  EXPECT_EQ(check.header().attempt(), 1u);
  EXPECT_EQ(FromProto(check.header().occurred_at()), start_);
  EXPECT_TRUE(check.deferred_by().empty());
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + kFirstCheckAfter);
  EXPECT_TRUE(checks_.scheduled()[0].first) << "a check already waiting for the SID is kept";
}

TEST_F(StatusCheckerTest, AMessageThatIsNoCheckIsInvalidArgument) {
  EXPECT_EQ(checker_.Handle(Message(Alert())).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checker_.Handle({.topic = "t.sms.retry.1m", .value = "not a proto"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(checks_.scheduled().empty());
  EXPECT_TRUE(observer_.status_checks.empty());
}

TEST_F(StatusCheckerTest, FinalStatusIsPublishedAsATwilioEventWithoutSending) {
  sender_.status_read = MessageStatus("delivered");
  clock_.SleepFor(kCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_EQ(sender_.calls.load(), 0);
  EXPECT_THAT(sender_.read_sids, ElementsAre("SM1"));
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].topic, "t.twilio");
  EXPECT_EQ(publisher_.published()[0].key, "a1");
  events::v1::TwilioEvent event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published()[0].value));
  EXPECT_EQ(event.header().alert_id(), "a1");
  EXPECT_EQ(event.header().attempt(), 1u);
  EXPECT_EQ(event.dedupe_key(), "check:SM1:delivered");
  EXPECT_EQ(event.message_status().message_status(), "delivered");
  EXPECT_TRUE(checks_.scheduled().empty());
}

TEST_F(StatusCheckerTest, FinalStatusThatArrivedEndsTheChecksWithoutReadingTwilio) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  ASSERT_TRUE(callbacks_.RecordLoss(start_).ok());
  clock_.SleepFor(kCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(sender_.read_sids.empty());
  EXPECT_EQ(observer_.status_reads.load(), 0);
  EXPECT_TRUE(checks_.scheduled().empty());
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_THAT(observer_.status_checks, ElementsAre("final_arrived"));
}

TEST_F(StatusCheckerTest, WithoutSignOfALossAYoungAttemptIsCheckedAgainWithoutReading) {
  sender_.status_read = MessageStatus("delivered");
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(sender_.read_sids.empty());
  EXPECT_TRUE(publisher_.published().empty());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].request.check_sid(), "SM1");
  EXPECT_EQ(FromProto(checks_.scheduled()[0].request.header().occurred_at()), start_);
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + 2 * kFirstCheckAfter);
  EXPECT_THAT(observer_.status_checks, ElementsAre("waiting"));
}

TEST_F(StatusCheckerTest, AWaitingCheckComesBackNoLaterThanStatusCheckAfter) {
  clock_.SleepFor(kCheckAfter - absl::Minutes(2));
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(sender_.read_sids.empty());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + kCheckAfter);
}

TEST_F(StatusCheckerTest, LossRecordedSinceTheAcceptanceMakesTheCheckReadTwilio) {
  sender_.status_read = MessageStatus("delivered");
  ASSERT_TRUE(callbacks_.RecordLoss(start_ + absl::Seconds(10)).ok());
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_THAT(sender_.read_sids, ElementsAre("SM1"));
  EXPECT_EQ(observer_.status_reads.load(), 1);
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_THAT(observer_.status_checks, ElementsAre("final"));
}

TEST_F(StatusCheckerTest, LossRecordedLongBeforeTheAcceptanceIsNoReasonToRead) {
  ASSERT_TRUE(callbacks_.RecordLoss(start_ - absl::Minutes(1)).ok());
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(sender_.read_sids.empty());
  EXPECT_THAT(observer_.status_checks, ElementsAre("waiting"));
}

TEST_F(StatusCheckerTest, AReadAfterALossThatIsNotFinalIsCheckedAgainSoon) {
  sender_.status_read = MessageStatus("sent");
  ASSERT_TRUE(callbacks_.RecordLoss(start_ + absl::Seconds(10)).ok());
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_EQ(observer_.status_reads.load(), 1);
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + 2 * kFirstCheckAfter);
  EXPECT_THAT(observer_.status_checks, ElementsAre("pending"));
}

TEST_F(StatusCheckerTest, UnreadableLedgerPutsTheReadOffUntilStatusCheckAfter) {
  callbacks_.FailWith(absl::UnavailableError("redis down"));
  sender_.status_read = MessageStatus("delivered");
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(sender_.read_sids.empty());
  clock_.SleepFor(kCheckAfter - kFirstCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_THAT(sender_.read_sids, ElementsAre("SM1"));
  EXPECT_THAT(observer_.status_checks, ElementsAre("waiting", "final"));
}

TEST_F(StatusCheckerTest, UnpublishableFinalStatusIsHandedBack) {
  sender_.status_read = MessageStatus("failed");
  clock_.SleepFor(kCheckAfter);
  publisher_.FailWith(absl::UnavailableError("kafka down"));
  EXPECT_EQ(checker_.Handle(Message(Check())).code(), absl::StatusCode::kUnavailable);
}

TEST_F(StatusCheckerTest, PendingStatusIsCheckedAgainAfterAsLongAgain) {
  sender_.status_read = MessageStatus("sent");
  clock_.SleepFor(absl::Minutes(25));
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(publisher_.published().empty());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].request.check_sid(), "SM1");
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + absl::Minutes(50));
  EXPECT_THAT(observer_.status_checks, ElementsAre("pending"));
}

TEST_F(StatusCheckerTest, UnreadableStatusIsCheckedAgain) {
  clock_.SleepFor(kCheckAfter);
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_EQ(observer_.status_reads.load(), 1);  // the request may have reached Twilio
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + 2 * kCheckAfter);
  EXPECT_THAT(observer_.status_checks, ElementsAre("unreadable"));
}

TEST_F(StatusCheckerTest, AReadRefusedForTheRequestLimitIsNoReadAndIsCheckedAgain) {
  clock_.SleepFor(kCheckAfter);
  for (const absl::Status& refused :
       {absl::ResourceExhaustedError("no request slot to Twilio came free"),
        absl::FailedPreconditionError("no credentials for account \"other\"")}) {
    sender_.status_read = refused;
    ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  }
  EXPECT_EQ(sender_.read_sids.size(), 2u);  // asked of the sender, but Twilio processed none
  EXPECT_EQ(observer_.status_reads.load(), 0);
  EXPECT_THAT(observer_.status_checks, ElementsAre("unreadable", "unreadable"));
}

TEST_F(StatusCheckerTest, ChecksStopPastTheDeadlineAndGrace) {
  sender_.status_read = MessageStatus("sent");
  clock_.SleepFor(absl::Hours(1) + kCheckGrace - absl::Minutes(1));
  ASSERT_TRUE(checker_.Handle(Message(Check())).ok());
  EXPECT_TRUE(checks_.scheduled().empty());
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_THAT(observer_.status_checks, ElementsAre("expired"));
}

// --- what Twilio charged (docs/adr/0036) ---

TEST_F(StatusCheckerTest, AFinalStatusThatArrivedIsReadOnceForItsChargeWhichIsPublished) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  sender_.status_read = PricedMessage("delivered");
  AlertRequested check = Check();
  check.mutable_header()->set_caller("billing");
  check.set_check_account("main");
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(charging_.Handle(Message(check)).ok());
  EXPECT_THAT(sender_.read_sids, ElementsAre("SM1"));
  EXPECT_EQ(observer_.status_reads.load(), 0);  // a charge read is no sign of a lost callback
  EXPECT_TRUE(checks_.scheduled().empty());
  const std::vector<events::v1::TwilioEvent> events = Published(publisher_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].dedupe_key(), "charge:SM1");
  EXPECT_EQ(events[0].header().alert_id(), "a1");
  EXPECT_EQ(events[0].header().caller(), "billing");
  EXPECT_EQ(events[0].header().attempt(), 1u);
  EXPECT_EQ(events[0].charge().sid(), "SM1");
  EXPECT_EQ(events[0].charge().account(), "main");
  EXPECT_EQ(events[0].charge().amount_micros(), 15'800);
  EXPECT_EQ(events[0].charge().currency(), "USD");
  EXPECT_EQ(events[0].charge().segments(), 2u);
  ASSERT_EQ(observer_.charges.size(), 1u);
  EXPECT_EQ(observer_.charges[0].amount_micros(), 15'800);
  EXPECT_THAT(observer_.status_checks, ElementsAre("charged"));
}

TEST_F(StatusCheckerTest, AnUnpricedAttemptIsCheckedAgainForItsChargeUntilTwilioPricesIt) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  sender_.status_read = MessageStatus("delivered");
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(charging_.Handle(Message(Check())).ok());
  EXPECT_TRUE(publisher_.published().empty());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  const AlertRequested again = checks_.scheduled()[0].request;
  EXPECT_TRUE(again.check_charge());
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + 2 * kFirstCheckAfter);

  sender_.status_read = PricedMessage("delivered");
  clock_.SleepFor(kFirstCheckAfter);
  ASSERT_TRUE(charging_.Handle(Message(again)).ok());
  EXPECT_EQ(Published(publisher_).size(), 1u);
  EXPECT_EQ(checks_.scheduled().size(), 1u);  // nothing more scheduled
  EXPECT_THAT(observer_.status_checks, ElementsAre("charge_pending", "charged"));
}

TEST_F(StatusCheckerTest, AFinalStatusReadWithItsPricePublishesBothAndEndsTheChecks) {
  sender_.status_read = PricedMessage("delivered");
  clock_.SleepFor(kCheckAfter);
  ASSERT_TRUE(charging_.Handle(Message(Check())).ok());
  const std::vector<events::v1::TwilioEvent> events = Published(publisher_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].message_status().message_status(), "delivered");
  EXPECT_EQ(events[1].charge().amount_micros(), 15'800);
  EXPECT_TRUE(checks_.scheduled().empty());
  EXPECT_EQ(observer_.status_reads.load(), 1);
  EXPECT_THAT(observer_.status_checks, ElementsAre("final"));
}

TEST_F(StatusCheckerTest, AFinalStatusReadBeforeItsPriceLeavesACheckForTheCharge) {
  sender_.status_read = MessageStatus("undelivered");
  clock_.SleepFor(kCheckAfter);
  ASSERT_TRUE(charging_.Handle(Message(Check())).ok());
  EXPECT_EQ(Published(publisher_).size(), 1u);
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_TRUE(checks_.scheduled()[0].request.check_charge());
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + 2 * kCheckAfter);
  EXPECT_THAT(observer_.status_checks, ElementsAre("final"));
}

TEST_F(StatusCheckerTest, ChargeChecksStopOnceTwilioHasNotPricedForChargeReadFor) {
  sender_.status_read = MessageStatus("failed");  // Twilio may never price it
  AlertRequested check = Check();
  check.set_check_charge(true);
  clock_.SleepFor(absl::Minutes(10));  // the next read at 20 min is within the default 30
  ASSERT_TRUE(charging_.Handle(Message(check)).ok());
  ASSERT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_EQ(checks_.scheduled()[0].not_before, start_ + absl::Minutes(20));
  clock_.SleepFor(absl::Minutes(10));  // the next would be at 40 min
  ASSERT_TRUE(charging_.Handle(Message(check)).ok());
  EXPECT_EQ(checks_.scheduled().size(), 1u);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_THAT(observer_.status_checks, ElementsAre("charge_pending", "expired"));
}

TEST_F(StatusCheckerTest, AnUnpublishableChargeIsHandedBack) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  sender_.status_read = PricedMessage("delivered");
  publisher_.FailWith(absl::UnavailableError("kafka down"));
  const absl::Status handled = charging_.Handle(Message(Check()));
  EXPECT_EQ(handled.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(handled.message()), ::testing::HasSubstr("the charge of"));
  EXPECT_TRUE(observer_.charges.empty());
}

// --- spend budgets (docs/adr/0037) ---

TEST_F(StatusCheckerTest, AChargeIsCountedOnceLessItsReservationInThePeriodOfTheSend) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  sender_.status_read = PricedMessage("delivered");  // 0.0158 USD
  // Reserved a second before midnight UTC; the charge is read after it.
  const absl::Time reserved_at =
      budgets::PeriodEnd(budgets::Period::kDay, start_) - absl::Seconds(1);
  clock_.SleepFor(reserved_at - start_ + absl::Minutes(1));
  ASSERT_FALSE(
      budgets_.ReserveSend("billing", "main", types::v1::PRIORITY_NORMAL, 7'900, reserved_at)
          ->hold);
  AlertRequested check = Check();
  *check.mutable_header()->mutable_occurred_at() = ToProto(reserved_at);
  check.mutable_header()->set_caller("billing");
  check.set_check_account("main");
  check.set_budget_reserved_micros(7'900);
  *check.mutable_budget_reserved_at() = ToProto(reserved_at);
  ASSERT_TRUE(budgeted_.Handle(Message(check)).ok());
  // A second check of the same attempt (an outcome republished) reads and publishes again, but
  // counts nothing more.
  ASSERT_TRUE(budgeted_.Handle(Message(check)).ok());
  const budgets::Budget& daily = *budgets_.settings().For("billing", "")[0];
  EXPECT_EQ(budget_ledger_.Spent(daily, reserved_at), 15'800);
  EXPECT_EQ(budget_ledger_.Spent(daily, clock_.Now()), 0);  // nothing in the day of the read
  EXPECT_TRUE(observer_.unsettled.empty());
}

TEST_F(StatusCheckerTest, AChargeInAnotherCurrencyLeavesTheEstimateAndSaysWhy) {
  ASSERT_TRUE(callbacks_.RecordFinal({"SM1"}).front().ok());
  StatusReadBack euros = PricedMessage("delivered");
  euros.charge->set_currency("EUR");
  sender_.status_read = euros;
  AlertRequested check = Check();
  check.mutable_header()->set_caller("billing");
  check.set_budget_reserved_micros(7'900);
  ASSERT_TRUE(budgeted_.Handle(Message(check)).ok());
  EXPECT_EQ(Published(publisher_).size(), 1u);  // the charge is recorded all the same
  ASSERT_EQ(observer_.unsettled.size(), 1u);
  EXPECT_THAT(std::string(observer_.unsettled[0].message()),
              ::testing::HasSubstr("Twilio charged in EUR, the budgets are in USD"));
}

// The status words themselves are common/twilio/statuses_test.cc's.
TEST(IsFinalStatusOfEventTest, AMessageStatusIsJudgedAsAMessage) {
  events::v1::TwilioEvent event;
  event.mutable_message_status()->set_message_status("delivered");
  EXPECT_TRUE(IsFinalStatus(event));
  event.mutable_message_status()->set_message_status("completed");
  EXPECT_FALSE(IsFinalStatus(event));
}

TEST(IsFinalStatusOfEventTest, ACallStatusIsJudgedAsACall) {
  events::v1::TwilioEvent event;
  event.mutable_call_status()->set_call_status("no-answer");
  EXPECT_TRUE(IsFinalStatus(event));
  event.mutable_call_status()->set_call_status("delivered");
  EXPECT_FALSE(IsFinalStatus(event));
}

TEST(IsFinalStatusOfEventTest, AnEventWithoutAStatusIsNotFinal) {
  events::v1::TwilioEvent event;
  event.mutable_key_press()->set_digits("1");
  EXPECT_FALSE(IsFinalStatus(event));
}

}  // namespace
}  // namespace klaxon::delivery
