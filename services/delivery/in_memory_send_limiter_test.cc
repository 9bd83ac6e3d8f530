#include "services/delivery/in_memory_send_limiter.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

events::v1::AlertRequested Request(const std::string& alert_id,
                                   types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(alert_id);
  request.mutable_header()->set_attempt(1);
  request.set_priority(priority);
  return request;
}

// Reserves among every sender `limiter` paces, as a routing rule for all of them would.
absl::StatusOr<LimitDecision> Reserve(InMemorySendLimiter& limiter,
                                      const events::v1::AlertRequested& request,
                                      std::string_view recipient, absl::Time now) {
  return limiter.Reserve(request, recipient, limiter.limits().senders, now);
}

constexpr char kPacedNumber[] = "+14155550000";
constexpr char kAlice[] = "+14155550101";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TEST(SendLimitsTest, PacingIntervalStretchesByTheJitterAllowance) {
  const SendLimits limits{
      .senders = {{.address = kPacedNumber, .rate = {.count = 5, .window = absl::Seconds(1)}}},
      .jitter_allowance = absl::Milliseconds(30)};
  EXPECT_EQ(limits.PacingInterval(limits.senders[0]), absl::Microseconds(206'000));
}

TEST(InMemorySendLimiterTest, SpacesSendsOneIntervalApart) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 5, .window = absl::Seconds(1)}}},
       .jitter_allowance = absl::ZeroDuration()});
  absl::StatusOr<LimitDecision> first = Reserve(limiter, Request("a1"), kAlice, kNow);
  absl::StatusOr<LimitDecision> second = Reserve(limiter, Request("a2"), "+14155550102", kNow);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->send_at, kNow);
  EXPECT_EQ(second->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(second->send_at, kNow + absl::Milliseconds(200));
}

TEST(InMemorySendLimiterTest, DefersWhenTheNextSlotIsBeyondMaxWait) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 1, .window = absl::Seconds(1)}}},
       .max_wait = absl::Milliseconds(500),
       .jitter_allowance = absl::ZeroDuration()});
  ASSERT_TRUE(Reserve(limiter, Request("a1"), kAlice, kNow).ok());
  absl::StatusOr<LimitDecision> second = Reserve(limiter, Request("a2"), kAlice, kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(second->retry_at, kNow + absl::Seconds(1));
  EXPECT_EQ(second->limit, "sender_pacing");
  EXPECT_EQ(second->reason, "sender pacing 1 per second");
}

TEST(InMemorySendLimiterTest, ACriticalSendHasItsOwnScheduleButSharesTheGuard) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 1, .window = absl::Seconds(1)}}},
       .max_wait = absl::Seconds(2),
       .jitter_allowance = absl::ZeroDuration()});
  // Normal sends have reserved the next two seconds.
  for (const char* id : {"n1", "n2", "n3"})
    ASSERT_TRUE(Reserve(limiter, Request(id), kAlice, kNow).ok());
  absl::StatusOr<LimitDecision> critical =
      Reserve(limiter, Request("c1", types::v1::PRIORITY_CRITICAL), kAlice, kNow);
  ASSERT_TRUE(critical.ok());
  EXPECT_EQ(critical->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(critical->send_at, kNow);
  // The pace holds for both lanes together: the send-time guard lets one of them leave now.
  ASSERT_EQ(
      limiter.ClearToSend(Request("n1"), {.address = kPacedNumber}, kNow, absl::ZeroDuration())
          ->send_at,
      kNow);
  const absl::StatusOr<LimitDecision> held =
      limiter.ClearToSend(Request("c1", types::v1::PRIORITY_CRITICAL), {.address = kPacedNumber},
                          kNow, absl::ZeroDuration());
  ASSERT_TRUE(held.ok());
  EXPECT_GT(held->send_at, kNow);
}

TEST(InMemorySendLimiterTest, AnExemptPriorityPassesAFullRecipientWindow) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 100, .window = absl::Seconds(1)}}},
       .recipient_windows = {{.count = 1, .window = absl::Hours(1)}}});
  ASSERT_EQ(Reserve(limiter, Request("n1"), kAlice, kNow)->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(Reserve(limiter, Request("n2"), kAlice, kNow)->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(Reserve(limiter, Request("h1", types::v1::PRIORITY_HIGH), kAlice, kNow)->kind,
            LimitDecision::Kind::kDefer);
  EXPECT_EQ(Reserve(limiter, Request("c1", types::v1::PRIORITY_CRITICAL), kAlice, kNow)->kind,
            LimitDecision::Kind::kSend);
}

TEST(InMemorySendLimiterTest, DefersAFullRecipientWindowUntilItsOldestSendExpires) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 100, .window = absl::Seconds(1)}}},
       .recipient_windows = {{.count = 2, .window = absl::Minutes(15)}}});
  ASSERT_TRUE(Reserve(limiter, Request("a1"), kAlice, kNow).ok());
  ASSERT_TRUE(Reserve(limiter, Request("a2"), kAlice, kNow + absl::Minutes(1)).ok());
  absl::StatusOr<LimitDecision> third =
      Reserve(limiter, Request("a3"), kAlice, kNow + absl::Minutes(2));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third->retry_at, kNow + absl::Minutes(15));
  EXPECT_EQ(third->limit, "recipient_15m");
  EXPECT_EQ(third->reason, "recipient limit 2 per 15 minutes");
}

TEST(InMemorySendLimiterTest, RedeliveredAttemptDoesNotCountAgainstItself) {
  InMemorySendLimiter limiter(
      {.senders = {{.address = kPacedNumber, .rate = {.count = 100, .window = absl::Seconds(1)}}},
       .recipient_windows = {{.count = 1, .window = absl::Hours(1)}}});
  ASSERT_TRUE(Reserve(limiter, Request("a1"), kAlice, kNow).ok());
  absl::StatusOr<LimitDecision> again = Reserve(limiter, Request("a1"), kAlice, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, LimitDecision::Kind::kSend);
}

// --- the send-time guard: at most 5 sends in 1 s + 20 ms ---

const SendLimits kGuarded{
    .senders = {{.address = kPacedNumber, .rate = {.count = 5, .window = absl::Seconds(1)}}},
    .max_wait = absl::Seconds(2),
    .guard_margin = absl::Milliseconds(20)};

LimitDecision ClearToSend(SendLimiter& limiter, const std::string& alert_id, absl::Time now,
                          absl::Duration waited = absl::ZeroDuration()) {
  absl::StatusOr<LimitDecision> decision =
      limiter.ClearToSend(Request(alert_id), {.address = kPacedNumber}, now, waited);
  EXPECT_TRUE(decision.ok()) << decision.status();
  return decision.value_or(LimitDecision{});
}

// Five sends 100 ms apart, from kNow.
void SendFive(SendLimiter& limiter) {
  for (int i = 0; i < 5; ++i) {
    const absl::Time at = kNow + absl::Milliseconds(100) * i;
    const LimitDecision decision = ClearToSend(limiter, absl::StrCat("a", i), at);
    ASSERT_EQ(decision.kind, LimitDecision::Kind::kSend) << i;
    ASSERT_EQ(decision.send_at, at) << i;
  }
}

TEST(InMemorySendLimiterTest, GuardHoldsTheSendAfterNUntilTheOldestLeavesTheSpan) {
  InMemorySendLimiter limiter(kGuarded);
  SendFive(limiter);
  const LimitDecision sixth = ClearToSend(limiter, "a5", kNow + absl::Milliseconds(500));
  EXPECT_EQ(sixth.kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(sixth.send_at, kNow + absl::Milliseconds(1020));
}

TEST(InMemorySendLimiterTest, GuardClearsOnceTheOldestHasLeftTheSpan) {
  InMemorySendLimiter limiter(kGuarded);
  SendFive(limiter);
  const absl::Time at = kNow + absl::Milliseconds(1020);
  EXPECT_EQ(ClearToSend(limiter, "a5", at).send_at, at);
}

TEST(InMemorySendLimiterTest, HeldSendIsNotRecorded) {
  InMemorySendLimiter limiter(kGuarded);
  SendFive(limiter);
  ASSERT_GT(ClearToSend(limiter, "a5", kNow + absl::Milliseconds(500)).send_at,
            kNow + absl::Milliseconds(500));
  // Four sends (100..400 ms) in the span: had a5 been recorded, there would be five.
  const absl::Time at = kNow + absl::Milliseconds(1020);
  EXPECT_EQ(ClearToSend(limiter, "a6", at).send_at, at);
}

TEST(InMemorySendLimiterTest, GuardCountsAnAttemptAskedTwiceOnce) {
  InMemorySendLimiter limiter(kGuarded);
  SendFive(limiter);
  const absl::Time at = kNow + absl::Milliseconds(500);
  EXPECT_EQ(ClearToSend(limiter, "a4", at).send_at, at);
}

TEST(InMemorySendLimiterTest, GuardDefersWhenItsWaitWouldPassMaxWait) {
  InMemorySendLimiter limiter(kGuarded);
  SendFive(limiter);
  // 1.5 s waited already, 520 ms to go.
  const LimitDecision sixth =
      ClearToSend(limiter, "a5", kNow + absl::Milliseconds(500), absl::Milliseconds(1500));
  EXPECT_EQ(sixth.kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(sixth.retry_at, kNow + absl::Milliseconds(1020));
  EXPECT_EQ(sixth.limit, "sender_pacing");
  EXPECT_EQ(sixth.reason, "sender pacing 5 per second");
}

// --- choosing among senders (ChooseSender), the same rules as the Redis script's ---

constexpr char kBob[] = "+14155550102";
constexpr char kCarol[] = "+14155550103";

PacedSender Paced(const char* address, int64_t per_second) {
  return {.address = address, .rate = {.count = per_second, .window = absl::Seconds(1)}};
}

std::string SenderOf(InMemorySendLimiter& limiter, const std::string& alert_id,
                     const char* recipient, absl::Time* send_at = nullptr) {
  absl::StatusOr<LimitDecision> decision = Reserve(limiter, Request(alert_id), recipient, kNow);
  if (!decision.ok() || decision->kind != LimitDecision::Kind::kSend) return "(none)";
  if (send_at != nullptr) *send_at = decision->send_at;
  return decision->sender.address;
}

TEST(InMemorySendLimiterTest, TakesTheSenderWithTheEarliestSlot) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 1)},
                               .jitter_allowance = absl::ZeroDuration()});
  absl::Time third_at;
  EXPECT_EQ(SenderOf(limiter, "a1", kAlice), "+14155550001");
  EXPECT_EQ(SenderOf(limiter, "a2", kBob), "+14155550002");
  EXPECT_EQ(SenderOf(limiter, "a3", kCarol, &third_at), "+14155550001");
  EXPECT_EQ(third_at, kNow + absl::Seconds(1));
}

TEST(InMemorySendLimiterTest, KeepsARecipientOnItsSenderWhileItsSlotIsWithinMaxWait) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 10)},
                               .jitter_allowance = absl::ZeroDuration()});
  ASSERT_EQ(SenderOf(limiter, "a1", kAlice), "+14155550001");
  ASSERT_EQ(SenderOf(limiter, "a2", kBob), "+14155550002");
  // The second sender is free 100 ms from now, Alice's own in a second: she waits for hers.
  absl::Time send_at;
  EXPECT_EQ(SenderOf(limiter, "a3", kAlice, &send_at), "+14155550001");
  EXPECT_EQ(send_at, kNow + absl::Seconds(1));
}

TEST(InMemorySendLimiterTest, ARecipientsSenderIsKeptForTheStickinessAfterItsLastSend) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 10)},
                               .jitter_allowance = absl::ZeroDuration(),
                               .stickiness = absl::Minutes(10)});
  const auto sender_at = [&](const std::string& alert_id, absl::Time at) {
    absl::StatusOr<LimitDecision> decision = Reserve(limiter, Request(alert_id), kAlice, at);
    return decision.ok() ? decision->sender.address : "(none)";
  };
  ASSERT_EQ(SenderOf(limiter, "b1", kBob), "+14155550001");  // the first sender is busy a second
  ASSERT_EQ(sender_at("a1", kNow), "+14155550002");
  // Nine minutes later the first is free again, yet Alice stays with hers, nine minutes on too.
  ASSERT_TRUE(Reserve(limiter, Request("b2"), kBob, kNow + absl::Minutes(9)).ok());
  EXPECT_EQ(sender_at("a2", kNow + absl::Minutes(9)), "+14155550002");
  EXPECT_EQ(sender_at("a3", kNow + absl::Minutes(18)), "+14155550002");
  // Past the stickiness after her last send, she takes the sender free first again.
  EXPECT_EQ(sender_at("a4", kNow + absl::Minutes(29)), "+14155550001");
}

TEST(InMemorySendLimiterTest, LeavesItsSenderWhenThatOnesSlotIsBeyondMaxWait) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 1)},
                               .max_wait = absl::Milliseconds(500),
                               .jitter_allowance = absl::ZeroDuration()});
  ASSERT_EQ(SenderOf(limiter, "a1", kAlice), "+14155550001");
  EXPECT_EQ(SenderOf(limiter, "a2", kAlice), "+14155550002");
  EXPECT_EQ(SenderOf(limiter, "a3", kBob), "(none)");  // both busy for a second
}

TEST(InMemorySendLimiterTest, DefersWhenEverySenderIsBusy) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 2)},
                               .max_wait = absl::Milliseconds(400),
                               .jitter_allowance = absl::ZeroDuration()});
  ASSERT_EQ(SenderOf(limiter, "a1", kAlice), "+14155550001");
  ASSERT_EQ(SenderOf(limiter, "a2", kBob), "+14155550002");
  absl::StatusOr<LimitDecision> third = Reserve(limiter, Request("a3"), kCarol, kNow);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(third->retry_at, kNow + absl::Milliseconds(500));
  EXPECT_EQ(third->limit, "sender_pacing");
  EXPECT_EQ(third->reason,
            "sender pacing: all 2 senders busy (the first free is paced 2 per second)");
}

TEST(InMemorySendLimiterTest, GuardCountsEachSenderApart) {
  InMemorySendLimiter limiter({.senders = {Paced(kPacedNumber, 5), Paced("+14155550002", 5)}});
  SendFive(limiter);
  const absl::Time at = kNow + absl::Milliseconds(500);
  absl::StatusOr<LimitDecision> other =
      limiter.ClearToSend(Request("b1"), {.address = "+14155550002"}, at, absl::ZeroDuration());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->send_at, at);
  EXPECT_EQ(other->sender.address, "+14155550002");
  EXPECT_GT(ClearToSend(limiter, "a5", at).send_at, at);
}

// --- a routing rule's senders (Reserve's `among`) ---

TEST(InMemorySendLimiterTest, ChoosesOnlyAmongTheSendersItIsGiven) {
  InMemorySendLimiter limiter(
      {.senders = {Paced("+14155550001", 1), Paced("+14155550002", 1), Paced("+14155550003", 1)},
       .jitter_allowance = absl::ZeroDuration()});
  const std::vector<PacedSender> rule = {Paced("+14155550002", 1), Paced("+14155550003", 1)};
  const auto sender_among = [&](const std::string& alert_id, const char* recipient) {
    absl::StatusOr<LimitDecision> decision =
        limiter.Reserve(Request(alert_id), recipient, rule, kNow);
    return decision.ok() && decision->kind == LimitDecision::Kind::kSend ? decision->sender.address
                                                                         : "(deferred or failed)";
  };
  EXPECT_EQ(sender_among("a1", kAlice), "+14155550002");
  EXPECT_EQ(sender_among("a2", kBob), "+14155550003");
  // The first sender is free, but not the rule's: the third send waits for the rule's second.
  absl::StatusOr<LimitDecision> third = limiter.Reserve(Request("a3"), kCarol, rule, kNow);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->sender.address, "+14155550001");
  EXPECT_EQ(third->send_at, kNow + absl::Seconds(1));
}

TEST(InMemorySendLimiterTest, ARecipientsSenderOutsideTheRuleIsNotKept) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1), Paced("+14155550002", 1)},
                               .jitter_allowance = absl::ZeroDuration()});
  ASSERT_EQ(SenderOf(limiter, "a1", kAlice), "+14155550001");
  const std::vector<PacedSender> rule = {Paced("+14155550002", 1)};
  absl::StatusOr<LimitDecision> next = limiter.Reserve(Request("a2"), kAlice, rule, kNow);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->sender.address, "+14155550002");
}

TEST(InMemorySendLimiterTest, RefusesNoSendersAndSendersItDoesNotPace) {
  InMemorySendLimiter limiter({.senders = {Paced("+14155550001", 1)}});
  EXPECT_EQ(limiter.Reserve(Request("a1"), kAlice, {}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::vector<PacedSender> unknown = {Paced("+14155559999", 1)};
  EXPECT_EQ(limiter.Reserve(Request("a1"), kAlice, unknown, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InMemorySendLimiterTest, GuardRefusesASenderItDoesNotPace) {
  InMemorySendLimiter limiter(kGuarded);
  EXPECT_EQ(
      limiter.ClearToSend(Request("a1"), {.address = "+14155559999"}, kNow, absl::ZeroDuration())
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::delivery
