// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two limiters on one
// Redis stand for two worker replicas. The script runs on Redis's clock, so expected times carry
// a tolerance for the real time the test itself takes.
#include <gtest/gtest.h>

#include <vector>

#include "services/delivery/redis_limits_test_values.h"
#include "services/delivery/redis_send_limiter.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

using redis_limits_test::kAlice;
using redis_limits_test::kSender;
using redis_limits_test::kTolerance;

events::v1::AlertRequested Request(const std::string& alert_id,
                                   types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(alert_id);
  request.mutable_header()->set_attempt(1);
  request.set_priority(priority);
  return request;
}

class RedisSendLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  // A limiter sharing this test's keys, as another replica would.
  std::unique_ptr<RedisSendLimiter> Replica(SendLimits limits) {
    return std::make_unique<RedisSendLimiter>(*redis_, prefix_, std::move(limits), tokens_);
  }

  // Reserves among every sender `limiter` paces, as a routing rule for all of them would.
  LimitDecision Reserve(RedisSendLimiter& limiter, const std::string& alert_id,
                        const std::string& recipient = kAlice) {
    absl::StatusOr<LimitDecision> decision =
        limiter.Reserve(Request(alert_id), recipient, limiter.keys().limits().senders, now_);
    EXPECT_TRUE(decision.ok()) << decision.status();
    return decision.value_or(LimitDecision{});
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  const log::PhoneRedactor tokens_ = *log::PhoneRedactor::Create("0123456789abcdef-test");
  std::unique_ptr<redis::RedisClient> redis_;
};

const SendLimits kFivePerSecond{
    .channel = "sms",
    .senders = {{.address = kSender, .rate = {.count = 5, .window = absl::Seconds(1)}}},
    .max_wait = absl::Seconds(2)};

TEST_F(RedisSendLimiterTest, TwoReplicasShareOnePaceAndDeferPastMaxWait) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(kFivePerSecond),
                                                   Replica(kFivePerSecond)};
  const absl::Duration interval = kFivePerSecond.PacingInterval(kFivePerSecond.senders[0]);
  // Slots 0..9 wait at most 9 intervals (1.854 s) and fit max_wait; the 11th would wait 2.06 s.
  for (int i = 0; i < 10; ++i) {
    const LimitDecision decision =
        Reserve(*replicas[i % 2], absl::StrCat("a", i), absl::StrCat("+1415555", 1000 + i));
    ASSERT_EQ(decision.kind, LimitDecision::Kind::kSend) << i;
    EXPECT_NEAR(absl::ToDoubleSeconds(decision.send_at - now_), absl::ToDoubleSeconds(interval * i),
                absl::ToDoubleSeconds(kTolerance))
        << i;
  }
  const LimitDecision deferred = Reserve(*replicas[0], "a10", "+14155552000");
  EXPECT_EQ(deferred.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(deferred.limit, "sender_pacing");
  EXPECT_EQ(deferred.reason, "sender pacing 5 per second");
  EXPECT_NEAR(absl::ToDoubleSeconds(deferred.retry_at - now_), absl::ToDoubleSeconds(interval * 10),
              absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, ACriticalSendIsNotScheduledBehindNormalOnes) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(kFivePerSecond),
                                                   Replica(kFivePerSecond)};
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(
        Reserve(*replicas[i % 2], absl::StrCat("n", i), absl::StrCat("+1415555", 1000 + i)).kind,
        LimitDecision::Kind::kSend);
  }
  // Normal sends hold the next two seconds of slots; a critical one on the other replica is due
  // at once, and the next critical one an interval later.
  std::vector<absl::Time> critical_at;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<LimitDecision> critical =
        replicas[1]->Reserve(Request(absl::StrCat("c", i), types::v1::PRIORITY_CRITICAL), kAlice,
                             kFivePerSecond.senders, now_);
    ASSERT_TRUE(critical.ok()) << critical.status();
    ASSERT_EQ(critical->kind, LimitDecision::Kind::kSend);
    // Its own schedule: due at once, then an interval apart (Redis's clock runs on meanwhile,
    // so the second is at most an interval after the first and not much less).
    critical_at.push_back(critical->send_at);
  }
  EXPECT_NEAR(absl::ToDoubleSeconds(critical_at[0] - now_), 0, absl::ToDoubleSeconds(kTolerance));
  EXPECT_GE(critical_at[1] - critical_at[0],
            kFivePerSecond.PacingInterval(kFivePerSecond.senders[0]) * 0.9);
  EXPECT_LE(critical_at[1] - critical_at[0],
            kFivePerSecond.PacingInterval(kFivePerSecond.senders[0]));
}

TEST_F(RedisSendLimiterTest, AnExemptPriorityPassesAFullRecipientWindow) {
  SendLimits limits = kFivePerSecond;
  limits.recipient_windows = {{.count = 1, .window = absl::Hours(1)}};
  std::unique_ptr<RedisSendLimiter> limiter = Replica(limits);
  ASSERT_EQ(Reserve(*limiter, "n1").kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(Reserve(*limiter, "n2").kind, LimitDecision::Kind::kDefer);
  absl::StatusOr<LimitDecision> critical =
      limiter->Reserve(Request("c1", types::v1::PRIORITY_CRITICAL), kAlice, limits.senders, now_);
  ASSERT_TRUE(critical.ok()) << critical.status();
  EXPECT_EQ(critical->kind, LimitDecision::Kind::kSend);
}

TEST_F(RedisSendLimiterTest, SendersArePacedApart) {
  std::unique_ptr<RedisSendLimiter> first = Replica(kFivePerSecond);
  SendLimits other = kFivePerSecond;
  other.senders[0].address = "+14155552672";
  std::unique_ptr<RedisSendLimiter> second = Replica(other);
  ASSERT_EQ(Reserve(*first, "a1").kind, LimitDecision::Kind::kSend);
  const LimitDecision decision = Reserve(*second, "a2", "+14155550102");
  EXPECT_LT(decision.send_at - now_, kTolerance);
}

const SendLimits kRecipientWindows{
    .channel = "sms",
    .senders = {{.address = kSender, .rate = {.count = 1000, .window = absl::Seconds(1)}}},
    .recipient_windows = {{.count = 2, .window = absl::Minutes(15)},
                          {.count = 3, .window = absl::Hours(1)}}};

TEST_F(RedisSendLimiterTest, FullRecipientWindowDefersAcrossReplicasUntilItExpires) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(kRecipientWindows),
                                                   Replica(kRecipientWindows)};
  ASSERT_EQ(Reserve(*replicas[0], "a1").kind, LimitDecision::Kind::kSend);
  ASSERT_EQ(Reserve(*replicas[1], "a2").kind, LimitDecision::Kind::kSend);
  const LimitDecision third = Reserve(*replicas[0], "a3");
  EXPECT_EQ(third.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third.limit, "recipient_15m");
  EXPECT_EQ(third.reason, "recipient limit 2 per 15 minutes");
  EXPECT_NEAR(absl::ToDoubleSeconds(third.retry_at - now_), 15 * 60,
              absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, EachWindowIsChecked) {
  SendLimits limits = kRecipientWindows;
  limits.recipient_windows = {{.count = 3, .window = absl::Minutes(15)},
                              {.count = 2, .window = absl::Hours(1)}};
  std::unique_ptr<RedisSendLimiter> limiter = Replica(limits);
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  ASSERT_EQ(Reserve(*limiter, "a2").kind, LimitDecision::Kind::kSend);
  const LimitDecision third = Reserve(*limiter, "a3");
  EXPECT_EQ(third.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third.limit, "recipient_1h");
}

TEST_F(RedisSendLimiterTest, OtherRecipientsAreNotHeldByOnesWindow) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(kRecipientWindows);
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  ASSERT_EQ(Reserve(*limiter, "a2").kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(Reserve(*limiter, "a3", "+14155550102").kind, LimitDecision::Kind::kSend);
}

TEST_F(RedisSendLimiterTest, RedeliveredAttemptDoesNotCountAgainstItself) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(kRecipientWindows);
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  ASSERT_EQ(Reserve(*limiter, "a2").kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(Reserve(*limiter, "a2").kind, LimitDecision::Kind::kSend);
}

TEST_F(RedisSendLimiterTest, DeferredSendReservesNoPacingSlot) {
  SendLimits limits = kRecipientWindows;
  limits.senders = {{.address = kSender, .rate = {.count = 1, .window = absl::Seconds(1)}}};
  limits.recipient_windows = {{.count = 1, .window = absl::Hours(1)}};
  std::unique_ptr<RedisSendLimiter> limiter = Replica(limits);
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  ASSERT_EQ(Reserve(*limiter, "a2").kind, LimitDecision::Kind::kDefer);
  // Had a2 taken the slot after a1's, this one would wait two intervals, not one.
  const LimitDecision other = Reserve(*limiter, "a3", "+14155550102");
  ASSERT_EQ(other.kind, LimitDecision::Kind::kSend);
  EXPECT_LT(other.send_at - now_, limits.PacingInterval(limits.senders[0]) + kTolerance);
}

// --- the send-time guard: at most 5 sends in 1 s + 20 ms ---

LimitDecision ClearToSend(SendLimiter& limiter, const std::string& alert_id, absl::Time now,
                          absl::Duration waited = absl::ZeroDuration()) {
  absl::StatusOr<LimitDecision> decision =
      limiter.ClearToSend(Request(alert_id), {.address = kSender}, now, waited);
  EXPECT_TRUE(decision.ok()) << decision.status();
  return decision.value_or(LimitDecision{});
}

TEST_F(RedisSendLimiterTest, ReplicasShareTheGuardWhichHoldsTheSendAfterNUntilTheOldestLeaves) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(kFivePerSecond),
                                                   Replica(kFivePerSecond)};
  for (int i = 0; i < 5; ++i) {
    const LimitDecision decision = ClearToSend(*replicas[i % 2], absl::StrCat("a", i), now_);
    ASSERT_EQ(decision.kind, LimitDecision::Kind::kSend) << i;
    ASSERT_EQ(decision.send_at, now_) << i;
  }
  const LimitDecision sixth = ClearToSend(*replicas[1], "a5", now_);
  EXPECT_EQ(sixth.kind, LimitDecision::Kind::kSend);
  EXPECT_NEAR(absl::ToDoubleSeconds(sixth.send_at - now_),
              absl::ToDoubleSeconds(kFivePerSecond.GuardSpan(kFivePerSecond.senders[0])),
              absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, GuardCountsAnAttemptAskedTwiceOnce) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(kFivePerSecond),
                                                   Replica(kFivePerSecond)};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(ClearToSend(*replicas[0], absl::StrCat("a", i), now_).send_at, now_) << i;
  }
  // Asked again by the other replica (a redelivery): still four sends, so a4 fits.
  ASSERT_EQ(ClearToSend(*replicas[1], "a3", now_).send_at, now_);
  EXPECT_EQ(ClearToSend(*replicas[1], "a4", now_).send_at, now_);
  // Full now, but an attempt never counts against itself.
  EXPECT_EQ(ClearToSend(*replicas[0], "a4", now_).send_at, now_);
  EXPECT_GT(ClearToSend(*replicas[0], "a5", now_).send_at, now_);
}

TEST_F(RedisSendLimiterTest, GuardDefersWhenItsWaitWouldPassMaxWait) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(kFivePerSecond);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(ClearToSend(*limiter, absl::StrCat("a", i), now_).send_at, now_) << i;
  }
  const LimitDecision sixth = ClearToSend(*limiter, "a5", now_, absl::Milliseconds(1500));
  EXPECT_EQ(sixth.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(sixth.limit, "sender_pacing");
  EXPECT_EQ(sixth.reason, "sender pacing 5 per second");
  EXPECT_NEAR(absl::ToDoubleSeconds(sixth.retry_at - now_),
              absl::ToDoubleSeconds(kFivePerSecond.GuardSpan(kFivePerSecond.senders[0])),
              absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, RecipientKeyHoldsNoPhoneNumber) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(kRecipientWindows);
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  absl::StatusOr<redis::Reply> keys = redis_->Command({"KEYS", prefix_ + "*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_FALSE(keys->elements.empty());
  for (const std::optional<std::string>& key : keys->elements) {
    EXPECT_EQ(key->find("4155550101"), std::string::npos) << *key;
  }
}

// --- several senders: the same choice as ChooseSender (send_limits.h) ---

SendLimits TwoSenders(int64_t first_per_second, int64_t second_per_second) {
  return {.channel = "sms",
          .senders = {{.address = "+14155552671",
                       .rate = {.count = first_per_second, .window = absl::Seconds(1)}},
                      {.address = "+14155552672",
                       .rate = {.count = second_per_second, .window = absl::Seconds(1)}}},
          .max_wait = absl::Milliseconds(500),
          .jitter_allowance = absl::ZeroDuration()};
}

TEST_F(RedisSendLimiterTest, ReplicasSpreadSendsOverTheSendersEarliestSlotFirst) {
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(TwoSenders(1, 1)),
                                                   Replica(TwoSenders(1, 1))};
  EXPECT_EQ(Reserve(*replicas[0], "a1", kAlice).sender.address, "+14155552671");
  EXPECT_EQ(Reserve(*replicas[1], "a2", "+14155550102").sender.address, "+14155552672");
  // Both busy for a second, past max_wait: deferred, reserving nothing.
  const LimitDecision third = Reserve(*replicas[0], "a3", "+14155550103");
  EXPECT_EQ(third.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third.reason,
            "sender pacing: all 2 senders busy (the first free is paced 1 per second)");
  EXPECT_NEAR(absl::ToDoubleSeconds(third.retry_at - now_), 1, absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, KeepsARecipientOnItsSenderAcrossReplicasWhileItsSlotIsWithinMaxWait) {
  SendLimits limits = TwoSenders(4, 100);
  std::unique_ptr<RedisSendLimiter> replicas[2] = {Replica(limits), Replica(limits)};
  ASSERT_EQ(Reserve(*replicas[0], "a1", kAlice).sender.address, "+14155552671");
  ASSERT_EQ(Reserve(*replicas[0], "a2", "+14155550102").sender.address, "+14155552672");
  // The second sender is free in 10 ms, Alice's own in 250 ms: she waits for hers.
  const LimitDecision again = Reserve(*replicas[1], "a3", kAlice);
  EXPECT_EQ(again.sender.address, "+14155552671");
  EXPECT_NEAR(absl::ToDoubleSeconds(again.send_at - now_), 0.25, absl::ToDoubleSeconds(kTolerance));
}

TEST_F(RedisSendLimiterTest, LeavesItsSenderWhenThatOnesSlotIsBeyondMaxWait) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(TwoSenders(1, 1));
  ASSERT_EQ(Reserve(*limiter, "a1", kAlice).sender.address, "+14155552671");
  EXPECT_EQ(Reserve(*limiter, "a2", kAlice).sender.address, "+14155552672");
}

TEST_F(RedisSendLimiterTest, ChoosesOnlyAmongTheRulesSendersAndForgetsAStickyOneOutsideThem) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(TwoSenders(1, 1));
  ASSERT_EQ(Reserve(*limiter, "a1", kAlice).sender.address, "+14155552671");
  // A rule that names only the second sender: Alice's sender of last time is not among them.
  const std::vector<PacedSender> rule = {limiter->keys().limits().senders[1]};
  absl::StatusOr<LimitDecision> routed = limiter->Reserve(Request("a2"), kAlice, rule, now_);
  ASSERT_TRUE(routed.ok()) << routed.status();
  EXPECT_EQ(routed->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(routed->sender.address, "+14155552672");
  // Both slots are now a second away: a third send among the rule's one sender is deferred, its
  // reason counting the rule's senders only.
  absl::StatusOr<LimitDecision> third = limiter->Reserve(Request("a3"), "+14155550103", rule, now_);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third->reason, "sender pacing 1 per second");
}

TEST_F(RedisSendLimiterTest, RefusesNoSendersAndSendersItDoesNotPace) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(TwoSenders(1, 1));
  EXPECT_EQ(limiter->Reserve(Request("a1"), kAlice, {}, now_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::vector<PacedSender> unknown = {{.address = "+14155559999"}};
  EXPECT_EQ(limiter->Reserve(Request("a1"), kAlice, unknown, now_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisSendLimiterTest, GuardCountsEachSenderApart) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(TwoSenders(1, 1));
  ASSERT_EQ(ClearToSend(*limiter, "a1", now_).send_at, now_);
  absl::StatusOr<LimitDecision> other =
      limiter->ClearToSend(Request("a2"), {.address = "+14155552672"}, now_, absl::ZeroDuration());
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->send_at, now_);
  // The first sender's one send a second is taken, and waiting for the next passes max_wait.
  EXPECT_EQ(ClearToSend(*limiter, "a3", now_).kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(
      limiter->ClearToSend(Request("a4"), {.address = "+14155559999"}, now_, absl::ZeroDuration())
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisSendLimiterTest, StickySenderKeyHoldsNoPhoneNumber) {
  std::unique_ptr<RedisSendLimiter> limiter = Replica(TwoSenders(1, 1));
  ASSERT_EQ(Reserve(*limiter, "a1").kind, LimitDecision::Kind::kSend);
  absl::StatusOr<redis::Reply> keys = redis_->Command({"KEYS", prefix_ + "limits:sticky:*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0]->find("4155550101"), std::string::npos) << *keys->elements[0];
}

}  // namespace
}  // namespace klaxon::delivery
