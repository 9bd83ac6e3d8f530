// Runs redis-server: each test starts a Redis of its own (tests/support/private_redis.h). Every
// branch of the gate's script, each checked to be one round trip to Redis (INFO stats before and
// after, which counts every client of the server, so the server is the test's alone), and each
// checked to take nothing it does not hand over. Stops and opt-outs are written by their own
// adapters, so the gate is proven to read the keys and values ingress and the sms-worker write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/stopped_alerts/redis_stopped_alerts.h"
#include "services/delivery/redis_limits_test_values.h"
#include "services/delivery/redis_send_gate.h"
#include "services/delivery/redis_suppression_list.h"
#include "services/delivery/stepwise_send_gate.h"
#include "tests/support/private_redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

using redis_limits_test::kAlice;
using redis_limits_test::kSender;
using redis_limits_test::kTolerance;

// `escalation_id` set: step 2 of that escalation chain (docs/adr/0029).
events::v1::AlertRequested GateRequest(const std::string& alert_id,
                                       const std::string& escalation_id = "") {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(alert_id);
  request.mutable_header()->set_attempt(1);
  if (!escalation_id.empty()) {
    request.set_escalation_id(escalation_id);
    request.set_escalation_step(2);
  }
  return request;
}

// The one sender every configuration of these tests paces (at its own rate), which the gate
// reserves among; the limits look a sender up by its address.
const PacedSender kPaced{.address = kSender, .rate = {.count = 5, .window = absl::Seconds(1)}};
const GateChecks kSms{.suppression = true, .reserve_among = {&kPaced, 1}};
const SendLimits kFivePerSecondOncePerHour{
    .channel = "sms",
    .senders = {kPaced},
    .recipient_windows = {{.count = 1, .window = absl::Hours(1)}},
    .max_wait = absl::Seconds(2)};

class RedisSendGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(private_redis_.Start(redis_));
    Configure(kFivePerSecondOncePerHour);
  }

  void Configure(SendLimits limits) {
    gate_.reset();
    limiter_ = std::make_unique<RedisSendLimiter>(*redis_, prefix_, std::move(limits), tokens_);
    in_flight_ = std::make_unique<RedisInFlightLimit>(
        *redis_, RedisInFlightOptions{.key_prefix = prefix_, .owner = "w1", .limit = 2}, clock_);
    gate_ = std::make_unique<RedisSendGate>(*redis_, prefix_, *limiter_, *in_flight_, tokens_);
  }

  // Round trips to Redis so far, all clients together (the server is the test's own, so they are
  // the test's). Redis counts the replies it writes
  // (total_writes_processed), one per round trip of a client that waits for each reply, as ours
  // do; commands a script runs inside Redis (which INFO commandstats counts) write none. The reply
  // to the INFO that asked is written after it counted, so it is taken off on the next call.
  int64_t RoundTrips() {
    absl::StatusOr<redis::Reply> info = redis_->Command({"INFO", "stats"});
    EXPECT_TRUE(info.ok()) << info.status();
    for (absl::string_view line : absl::StrSplit(info.ok() ? info->str : "", "\r\n")) {
      int64_t writes = 0;
      if (absl::ConsumePrefix(&line, "total_writes_processed:") &&
          absl::SimpleAtoi(line, &writes)) {
        return writes - ++infos_;
      }
    }
    ADD_FAILURE() << "INFO stats has no total_writes_processed";
    return 0;
  }

  // Opens the gate for `request`, proving it took one command on Redis.
  GateDecision Open(const events::v1::AlertRequested& request, GateChecks checks = kSms,
                    const std::string& recipient = kAlice) {
    const int64_t before = RoundTrips();
    absl::StatusOr<GateDecision> decision = gate_->Open(request, recipient, now_, checks);
    EXPECT_EQ(RoundTrips() - before, 1) << "Open is one round trip";
    EXPECT_TRUE(decision.ok()) << decision.status();
    return decision.value_or(GateDecision{});
  }
  GateDecision Open(const std::string& alert_id, GateChecks checks = kSms,
                    const std::string& recipient = kAlice) {
    return Open(GateRequest(alert_id), checks, recipient);
  }

  int64_t SlotsInFlight() { return Int({"ZCARD", prefix_ + "limits:twilio_in_flight"}); }
  int64_t GuardedSends() {
    return Int({"ZCARD", prefix_ + "limits:sent:sms:" + std::string(kSender)});
  }
  bool PacingSlotTaken() {
    return Int({"EXISTS", prefix_ + "limits:sender:sms:" + std::string(kSender)}) == 1;
  }
  int64_t Int(const std::vector<std::string>& command) {
    absl::StatusOr<redis::Reply> reply = redis_->Command(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer : -1;
  }

  // Nothing reserved, in flight or guarded for any attempt.
  void ExpectNothingTaken() {
    EXPECT_FALSE(PacingSlotTaken());
    EXPECT_EQ(SlotsInFlight(), 0);
    EXPECT_EQ(GuardedSends(), 0);
  }

  // A server of its own: RoundTrips() counts every client's.
  klaxon::testing::PrivateRedis private_redis_;
  const absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  const log::PhoneRedactor tokens_ = *log::PhoneRedactor::Create("0123456789abcdef-test");
  timing::RealClock clock_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisSendLimiter> limiter_;
  std::unique_ptr<RedisInFlightLimit> in_flight_;
  std::unique_ptr<RedisSendGate> gate_;
  int64_t infos_ = 0;  // INFOs RoundTrips() sent
};

TEST_F(RedisSendGateTest, IdleSenderIsClearedInOneRoundTripHoldingASlotInFlight) {
  const GateDecision decision = Open("a1");
  ASSERT_EQ(decision.kind, GateDecision::Kind::kCleared);
  EXPECT_FALSE(decision.in_flight_slot.empty());
  EXPECT_TRUE(PacingSlotTaken());
  EXPECT_EQ(SlotsInFlight(), 1);
  EXPECT_EQ(GuardedSends(), 1);
  in_flight_->Release(decision.in_flight_slot);
  EXPECT_EQ(SlotsInFlight(), 0);
}

TEST_F(RedisSendGateTest, ClearedSendNamesItsSenderWhoseGuardRecordedIt) {
  constexpr char kSecond[] = "+14155552672";
  Configure({.channel = "sms",
             .senders = {{.address = kSender, .rate = {.count = 1, .window = absl::Seconds(1)}},
                         {.address = kSecond, .rate = {.count = 1, .window = absl::Seconds(1)}}},
             .jitter_allowance = absl::ZeroDuration()});
  const std::vector<PacedSender> both = {{.address = kSender}, {.address = kSecond}};
  const GateChecks checks{.suppression = true, .reserve_among = both};
  const GateDecision first = Open("a1", checks);
  ASSERT_EQ(first.kind, GateDecision::Kind::kCleared);
  EXPECT_EQ(first.limit.sender.address, kSender);
  const GateDecision second = Open("a2", checks, "+14155550102");
  ASSERT_EQ(second.kind, GateDecision::Kind::kCleared);
  EXPECT_EQ(second.limit.sender.address, kSecond);
  EXPECT_EQ(GuardedSends(), 1);
  EXPECT_EQ(Int({"ZCARD", prefix_ + "limits:sent:sms:" + kSecond}), 1);
  in_flight_->Release(first.in_flight_slot);
  in_flight_->Release(second.in_flight_slot);
}

TEST_F(RedisSendGateTest, CancelledAlertIsStoppedAndTakesNothing) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  ASSERT_TRUE(stops.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Minutes(1)).ok());
  const GateDecision decision = Open("a1");
  ASSERT_EQ(decision.kind, GateDecision::Kind::kStopped);
  EXPECT_EQ(decision.stop, stopped_alerts::StopReason::kCancelled);
  EXPECT_FALSE(decision.chain_stopped) << "an alert in no chain is stopped by its own stop only";
  ExpectNothingTaken();
}

TEST_F(RedisSendGateTest, AcknowledgedAlertIsStoppedEvenPastItsDeadline) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  ASSERT_TRUE(stops.Stop("a1", stopped_alerts::StopReason::kAcknowledged, absl::Minutes(1)).ok());
  const GateDecision decision = Open("a1", GateChecks{});
  ASSERT_EQ(decision.kind, GateDecision::Kind::kStopped);
  EXPECT_EQ(decision.stop, stopped_alerts::StopReason::kAcknowledged);
  EXPECT_FALSE(decision.chain_stopped);
  ExpectNothingTaken();
}

TEST_F(RedisSendGateTest, APageOfAnAcknowledgedEscalationIsStoppedByItsChainAndTakesNothing) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  ASSERT_TRUE(stops.Stop("c1", stopped_alerts::StopReason::kAcknowledged, absl::Minutes(1)).ok());
  const GateDecision decision = Open(GateRequest("a2", "c1"));
  ASSERT_EQ(decision.kind, GateDecision::Kind::kStopped);
  EXPECT_TRUE(decision.chain_stopped);
  EXPECT_EQ(decision.stop, stopped_alerts::StopReason::kAcknowledged);
  ExpectNothingTaken();
}

TEST_F(RedisSendGateTest, APagesOwnStopWinsOverItsEscalations) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  ASSERT_TRUE(stops.Stop("a2", stopped_alerts::StopReason::kCancelled, absl::Minutes(1)).ok());
  ASSERT_TRUE(stops.Stop("c1", stopped_alerts::StopReason::kAcknowledged, absl::Minutes(1)).ok());
  const GateDecision decision = Open(GateRequest("a2", "c1"));
  ASSERT_EQ(decision.kind, GateDecision::Kind::kStopped);
  EXPECT_FALSE(decision.chain_stopped);
  EXPECT_EQ(decision.stop, stopped_alerts::StopReason::kCancelled);
}

TEST_F(RedisSendGateTest, FindStopReadsTheAlertsStopThenItsChainsInOneRoundTrip) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  absl::StatusOr<std::optional<FoundStop>> none = gate_->FindStop(GateRequest("a2", "c1"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(stops.Stop("c1", stopped_alerts::StopReason::kAcknowledged, absl::Minutes(1)).ok());
  absl::StatusOr<std::optional<FoundStop>> chain = gate_->FindStop(GateRequest("a2", "c1"));
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_TRUE(chain->has_value());
  EXPECT_TRUE((*chain)->chain);
  EXPECT_EQ((*chain)->reason, stopped_alerts::StopReason::kAcknowledged);

  ASSERT_TRUE(stops.Stop("a2", stopped_alerts::StopReason::kCancelled, absl::Minutes(1)).ok());
  absl::StatusOr<std::optional<FoundStop>> own = gate_->FindStop(GateRequest("a2", "c1"));
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_TRUE(own->has_value());
  EXPECT_FALSE((*own)->chain);
  EXPECT_EQ((*own)->reason, stopped_alerts::StopReason::kCancelled);
}

TEST_F(RedisSendGateTest, AnEscalationsStopLeavesAnotherEscalationsPagesToBeSent) {
  stopped_alerts::RedisStoppedAlerts stops(*redis_, prefix_);
  ASSERT_TRUE(stops.Stop("c1", stopped_alerts::StopReason::kAcknowledged, absl::Minutes(1)).ok());
  EXPECT_EQ(Open(GateRequest("a2", "c2")).kind, GateDecision::Kind::kCleared);
}

TEST_F(RedisSendGateTest, SuppressedRecipientTakesNothingAndALiftedOneIsCleared) {
  RedisSuppressionList suppressions(*redis_, prefix_, tokens_);
  ASSERT_TRUE(suppressions.Suppress(kAlice, now_).ok());
  EXPECT_EQ(Open("a1").kind, GateDecision::Kind::kSuppressed);
  ExpectNothingTaken();
  ASSERT_TRUE(suppressions.Lift(kAlice, now_ + absl::Seconds(1)).ok());
  EXPECT_EQ(Open("a1").kind, GateDecision::Kind::kCleared);
}

TEST_F(RedisSendGateTest, SuppressionIsNotAskedWhenNotChecked) {
  RedisSuppressionList suppressions(*redis_, prefix_, tokens_);
  ASSERT_TRUE(suppressions.Suppress(kAlice, now_).ok());
  EXPECT_EQ(Open("a1", {.reserve_among = kSms.reserve_among}).kind, GateDecision::Kind::kCleared);
}

TEST_F(RedisSendGateTest, UnaskedToReserveTakesNothing) {
  EXPECT_EQ(Open("a1", {.suppression = true}).kind, GateDecision::Kind::kUnreserved);
  ExpectNothingTaken();
}

TEST_F(RedisSendGateTest, FullRecipientWindowDefersAndTakesNothing) {
  const GateDecision first = Open("a1");
  ASSERT_EQ(first.kind, GateDecision::Kind::kCleared);
  in_flight_->Release(first.in_flight_slot);
  const std::string pacing_key = prefix_ + "limits:sender:sms:" + std::string(kSender);
  const absl::StatusOr<redis::Reply> slot_before = redis_->Command({"GET", pacing_key});
  const GateDecision second = Open("a2");
  ASSERT_EQ(second.kind, GateDecision::Kind::kDeferred);
  EXPECT_EQ(second.limit.limit, "recipient_1h");
  EXPECT_NEAR(absl::ToDoubleSeconds(second.limit.retry_at - (now_ + absl::Hours(1))), 0,
              absl::ToDoubleSeconds(kTolerance));
  const absl::StatusOr<redis::Reply> slot_after = redis_->Command({"GET", pacing_key});
  ASSERT_TRUE(slot_before.ok() && slot_after.ok());
  EXPECT_EQ(slot_after->str, slot_before->str) << "a deferral takes no pacing slot";
  EXPECT_EQ(SlotsInFlight(), 0);
  EXPECT_EQ(GuardedSends(), 1);  // the first send's only
}

TEST_F(RedisSendGateTest, PacingSlotLaterIsReservedWithoutASlotInFlight) {
  const GateDecision first = Open("a1", kSms, "+14155550102");
  ASSERT_EQ(first.kind, GateDecision::Kind::kCleared);
  in_flight_->Release(first.in_flight_slot);
  const GateDecision second = Open("a2");
  ASSERT_EQ(second.kind, GateDecision::Kind::kReserved);
  EXPECT_NEAR(absl::ToDoubleSeconds(second.limit.send_at - now_),
              absl::ToDoubleSeconds(
                  kFivePerSecondOncePerHour.PacingInterval(kFivePerSecondOncePerHour.senders[0])),
              absl::ToDoubleSeconds(kTolerance));
  EXPECT_EQ(SlotsInFlight(), 0);
  EXPECT_EQ(GuardedSends(), 1);
}

TEST_F(RedisSendGateTest, PacingSlotTooFarDefersAndTakesNothing) {
  Configure({.channel = "sms",
             .senders = {{.address = kSender, .rate = {.count = 1, .window = absl::Seconds(10)}}},
             .max_wait = absl::Seconds(2)});
  const GateDecision first = Open("a1");
  ASSERT_EQ(first.kind, GateDecision::Kind::kCleared);
  in_flight_->Release(first.in_flight_slot);
  const GateDecision second = Open("a2");
  ASSERT_EQ(second.kind, GateDecision::Kind::kDeferred);
  EXPECT_EQ(second.limit.limit, "sender_pacing");
  EXPECT_EQ(SlotsInFlight(), 0);
}

TEST_F(RedisSendGateTest, NoSlotInFlightFreeReservesTheSlotDueNowAndTakesNeitherLeaseNorGuard) {
  RedisInFlightLimit other(
      *redis_, RedisInFlightOptions{.key_prefix = prefix_, .owner = "w2", .limit = 2}, clock_);
  ASSERT_TRUE(other.Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  ASSERT_TRUE(other.Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  const GateDecision decision = Open("a1");
  ASSERT_EQ(decision.kind, GateDecision::Kind::kReserved);
  EXPECT_LE(decision.limit.send_at, now_);
  EXPECT_EQ(SlotsInFlight(), 2);
  EXPECT_EQ(GuardedSends(), 0);
}

TEST_F(RedisSendGateTest, GuardHoldingBackReservesTheSlotDueNowAndTakesNoSlotInFlight) {
  Configure({.channel = "sms",
             .senders = {{.address = kSender, .rate = {.count = 1, .window = absl::Seconds(1)}}},
             .jitter_allowance = absl::ZeroDuration()});
  // Another attempt left just now (the guard's log), though no slot was reserved for it.
  absl::StatusOr<LimitDecision> left =
      limiter_->ClearToSend(GateRequest("b1"), {.address = kSender}, now_, {});
  ASSERT_TRUE(left.ok()) << left.status();
  ASSERT_EQ(GuardedSends(), 1);
  const GateDecision decision = Open("a1");
  ASSERT_EQ(decision.kind, GateDecision::Kind::kReserved);
  EXPECT_LE(decision.limit.send_at, now_);
  EXPECT_EQ(decision.limit.sender.address, kSender);
  EXPECT_EQ(SlotsInFlight(), 0);
  EXPECT_EQ(GuardedSends(), 1);
}

// The same attempts through the one script and through the separate Redis adapters step by step
// (the round trips a send took before the gate), on keys of their own: the same decisions, and
// the commands each took.
TEST_F(RedisSendGateTest, DecidesAsTheSeparateAdaptersDoInFewerRoundTrips) {
  struct Side {
    std::string prefix;
    std::unique_ptr<stopped_alerts::RedisStoppedAlerts> stops;
    std::unique_ptr<RedisSuppressionList> suppressions;
    std::unique_ptr<RedisSendLimiter> limiter;
    std::unique_ptr<RedisInFlightLimit> in_flight;
    std::unique_ptr<SendGate> gate;
    std::vector<int64_t> commands;
  };
  auto side = [&](const std::string& prefix, bool one_script) {
    Side s{.prefix = prefix};
    s.stops = std::make_unique<stopped_alerts::RedisStoppedAlerts>(*redis_, prefix);
    s.suppressions = std::make_unique<RedisSuppressionList>(*redis_, prefix, tokens_);
    s.limiter =
        std::make_unique<RedisSendLimiter>(*redis_, prefix, kFivePerSecondOncePerHour, tokens_);
    s.in_flight = std::make_unique<RedisInFlightLimit>(
        *redis_, RedisInFlightOptions{.key_prefix = prefix, .owner = "w1", .limit = 2}, clock_);
    if (one_script) {
      s.gate = std::make_unique<RedisSendGate>(*redis_, prefix, *s.limiter, *s.in_flight, tokens_);
    } else {
      s.gate =
          std::make_unique<StepwiseSendGate>(*s.stops, *s.suppressions, *s.limiter, *s.in_flight);
    }
    return s;
  };
  Side sides[2] = {side(prefix_ + "one:", true), side(prefix_ + "steps:", false)};
  for (Side& s : sides) {
    ASSERT_TRUE(
        s.stops->Stop("stopped", stopped_alerts::StopReason::kCancelled, absl::Minutes(1)).ok());
    ASSERT_TRUE(s.suppressions->Suppress("+14155550199", now_).ok());
  }
  struct Attempt {
    std::string alert_id;
    std::string recipient;
    GateChecks checks;
    std::string escalation_id;
  };
  const std::vector<Attempt> attempts = {
      {"a1", kAlice, kSms},                     // idle sender: cleared
      {"a2", "+14155550102", kSms},             // the next pacing slot: reserved
      {"a3", kAlice, kSms},                     // Alice's window is full: deferred
      {"stopped", "+14155550103", kSms},        // stopped
      {"a4", "+14155550199", kSms},             // suppressed
      {"a5", "+14155550104", GateChecks{}},     // unreserved (voice, past its deadline)
      {"a6", "+14155550105", kSms, "stopped"},  // a page of a stopped escalation chain
  };
  std::vector<GateDecision::Kind> kinds[2];
  std::vector<bool> chain_stopped[2];
  for (Side& s : sides) {
    for (const Attempt& attempt : attempts) {
      const int64_t before = RoundTrips();
      absl::StatusOr<GateDecision> decision =
          s.gate->Open(GateRequest(attempt.alert_id, attempt.escalation_id), attempt.recipient,
                       now_, attempt.checks);
      s.commands.push_back(RoundTrips() - before);
      ASSERT_TRUE(decision.ok()) << decision.status();
      kinds[&s - sides].push_back(decision->kind);
      chain_stopped[&s - sides].push_back(decision->chain_stopped);
    }
  }
  EXPECT_EQ(kinds[0], kinds[1]);
  EXPECT_THAT(kinds[0], ::testing::ElementsAre(
                            GateDecision::Kind::kCleared, GateDecision::Kind::kReserved,
                            GateDecision::Kind::kDeferred, GateDecision::Kind::kStopped,
                            GateDecision::Kind::kSuppressed, GateDecision::Kind::kUnreserved,
                            GateDecision::Kind::kStopped));
  EXPECT_EQ(chain_stopped[0], chain_stopped[1]);
  EXPECT_THAT(chain_stopped[0],
              ::testing::ElementsAre(false, false, false, false, false, false, true));
  EXPECT_THAT(sides[0].commands, ::testing::Each(1));
  // Before the gate: stop (and the chain's stop), opt-out, reservation, slot in flight, guard.
  EXPECT_THAT(sides[1].commands, ::testing::ElementsAre(5, 3, 3, 1, 2, 1, 2));
}

}  // namespace
}  // namespace klaxon::delivery
