// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two stores on one Redis
// stand for two ingress replicas. Redis drops each key at its forget_at on its own clock, so the
// verifications here are stamped with the real time (to the microsecond, as the store keeps
// them), and `now` moves on only in what the test passes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "services/ingress/verification/redis_verification_store.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress::verification {
namespace {

using ::testing::HasSubstr;

class RedisVerificationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  // A store sharing this test's keys, as another replica would.
  std::unique_ptr<RedisVerificationStore> Replica() {
    return std::make_unique<RedisVerificationStore>(*redis_, prefix_);
  }

  Verification Fresh(const std::string& id) const {
    return Verification{.id = id,
                        .caller = "pager",
                        .recipient_index = "4f1c0a",
                        .channel = types::v1::CHANNEL_VOICE,
                        .code_digest = "digest-" + id,
                        // Sealed bytes are binary: a NUL or a high byte must survive the trip.
                        .sealed_code = std::string("sealed\0\xff-", 9) + id,
                        .created_at = now_,
                        .expires_at = now_ + absl::Minutes(10),
                        .forget_at = now_ + absl::Hours(1),
                        .alert_id = "alert-of-" + id};
  }

  // PTTL of a key of this test's prefix.
  absl::Duration TimeToLive(const std::string& key) {
    absl::StatusOr<redis::Reply> reply = redis_->Command({"PTTL", prefix_ + key});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return absl::Milliseconds(reply.ok() ? reply->integer : -1);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const absl::Time now_ = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisVerificationStoreTest, StartKeepsTheFreshVerificationAsPending) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  absl::StatusOr<StartedSend> kept = store->StartOrResend(Fresh("v1"), now_);
  ASSERT_TRUE(kept.ok()) << kept.status();
  Verification expected = Fresh("v1");
  expected.sends = 1;
  EXPECT_EQ(kept->verification, expected);
  EXPECT_EQ(kept->previous_alert_id, "");
  EXPECT_EQ(store->Find("pager", "v1").value(), expected);
  EXPECT_EQ(store->FindPending("pager", "4f1c0a").value(), "v1");
}

TEST_F(RedisVerificationStoreTest, ReplaceAlertOnlyReplacesTheAlertItWasGiven) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  EXPECT_EQ(store->ReplaceAlert("pager", "v1", "alert-of-v1", "alert-2").value(), true);
  EXPECT_EQ(store->Find("pager", "v1").value()->alert_id, "alert-2");
  // A later start named its own alert meanwhile: that one stays.
  EXPECT_EQ(store->ReplaceAlert("pager", "v1", "alert-of-v1", "").value(), false);
  EXPECT_EQ(store->ReplaceAlert("billing", "v1", "alert-2", "alert-3").value(), false);
  EXPECT_EQ(store->ReplaceAlert("pager", "unknown", "", "alert-4").value(), false);
  EXPECT_EQ(store->Find("pager", "v1").value()->alert_id, "alert-2");
  // Replacing never makes a hash for an unknown verification (it would have no expiry).
  EXPECT_EQ(TimeToLive("verification:unknown"), absl::Milliseconds(-2));
  // Put back to nothing, as after a refused first send.
  EXPECT_EQ(store->ReplaceAlert("pager", "v1", "alert-2", "").value(), true);
  EXPECT_EQ(store->Find("pager", "v1").value()->alert_id, "");
}

TEST_F(RedisVerificationStoreTest, StartWhilePendingResendsThePendingOne) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  absl::StatusOr<StartedSend> resent = store->StartOrResend(Fresh("v2"), now_ + absl::Minutes(1));
  ASSERT_TRUE(resent.ok()) << resent.status();
  Verification expected = Fresh("v1");
  expected.sends = 2;
  expected.alert_id = "alert-of-v2";  // the resend names its own alert, and the one it replaced
  EXPECT_EQ(resent->verification, expected);
  EXPECT_EQ(resent->previous_alert_id, "alert-of-v1");
  EXPECT_EQ(store->Find("pager", "v2").value(), std::nullopt);
}

TEST_F(RedisVerificationStoreTest, StartAfterThePendingOneExpiredKeepsTheFreshOne) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  absl::StatusOr<StartedSend> kept = store->StartOrResend(Fresh("v2"), now_ + absl::Minutes(10));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->verification.id, "v2");
  EXPECT_EQ(kept->verification.sends, 1);
  EXPECT_EQ(store->FindPending("pager", "4f1c0a").value(), "v2");
}

TEST_F(RedisVerificationStoreTest, CountCheckCountsUpToMaxChecks) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  for (const auto& [checks, counted] : {std::pair{1, true}, {2, true}, {3, true}, {3, false}}) {
    absl::StatusOr<std::optional<CountedCheck>> checked = store->CountCheck("pager", "v1", 3, now_);
    ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
    EXPECT_EQ((*checked)->verification.checks, checks);
    EXPECT_EQ((*checked)->counted, counted);
  }
}

TEST_F(RedisVerificationStoreTest, CountCheckDoesNotCountFromExpiry) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  absl::StatusOr<std::optional<CountedCheck>> checked =
      store->CountCheck("pager", "v1", 3, now_ + absl::Minutes(10));
  ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
  EXPECT_EQ((*checked)->verification.checks, 0);
  EXPECT_FALSE((*checked)->counted);
}

TEST_F(RedisVerificationStoreTest, CountCheckDoesNotCountAFinishedVerification) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  ASSERT_TRUE(store->Finish("pager", "v1", VerificationState::kCancelled).value());
  absl::StatusOr<std::optional<CountedCheck>> checked = store->CountCheck("pager", "v1", 3, now_);
  ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
  EXPECT_EQ((*checked)->verification.checks, 0);
  EXPECT_FALSE((*checked)->counted);
  EXPECT_EQ((*checked)->verification.state, VerificationState::kCancelled);
}

TEST_F(RedisVerificationStoreTest, CountCheckOfAnotherCallersVerificationIsNotFound) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  EXPECT_EQ(store->CountCheck("billing", "v1", 3, now_).value(), std::nullopt);
  EXPECT_EQ(store->Find("pager", "v1").value()->checks, 0);
}

TEST_F(RedisVerificationStoreTest, CountCheckOfAnUnknownVerificationIsNotFound) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  EXPECT_EQ(store->CountCheck("pager", "v1", 3, now_).value(), std::nullopt);
  EXPECT_EQ(TimeToLive("verification:v1"), absl::Milliseconds(-2)) << "no key was created";
}

TEST_F(RedisVerificationStoreTest, ConcurrentChecksCountNoMoreThanMaxChecks) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  std::atomic<int> counted{0};
  std::vector<std::thread> checkers;
  for (int i = 0; i < 20; ++i) {
    checkers.emplace_back([&] {
      absl::StatusOr<std::optional<CountedCheck>> checked =
          store->CountCheck("pager", "v1", 5, now_);
      EXPECT_TRUE(checked.ok() && checked->has_value()) << checked.status();
      if (checked.ok() && checked->has_value() && (*checked)->counted) ++counted;
    });
  }
  for (std::thread& checker : checkers) checker.join();
  EXPECT_EQ(counted.load(), 5);
  EXPECT_EQ(store->Find("pager", "v1").value()->checks, 5);
}

TEST_F(RedisVerificationStoreTest, FinishApprovesOnce) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  EXPECT_EQ(store->Finish("pager", "v1", VerificationState::kApproved).value(), true);
  EXPECT_EQ(store->Finish("pager", "v1", VerificationState::kApproved).value(), false);
  EXPECT_EQ(store->Find("pager", "v1").value()->state, VerificationState::kApproved);
}

TEST_F(RedisVerificationStoreTest, FinishOfAnUnknownVerificationIsFalse) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  EXPECT_EQ(store->Finish("pager", "v1", VerificationState::kCancelled).value(), false);
  EXPECT_EQ(TimeToLive("verification:v1"), absl::Milliseconds(-2)) << "no key was created";
}

TEST_F(RedisVerificationStoreTest, FinishFreesTheRecipientForAFreshVerification) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  ASSERT_TRUE(store->Finish("pager", "v1", VerificationState::kApproved).value());
  EXPECT_EQ(store->FindPending("pager", "4f1c0a").value(), std::nullopt);
  EXPECT_EQ(store->StartOrResend(Fresh("v2"), now_).value().verification.id, "v2");
}

TEST_F(RedisVerificationStoreTest, FinishOfAReplacedVerificationKeepsItsSuccessorPending) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  ASSERT_TRUE(store->StartOrResend(Fresh("v2"), now_ + absl::Minutes(10)).ok());
  ASSERT_TRUE(store->Finish("pager", "v1", VerificationState::kCancelled).value());
  EXPECT_EQ(store->FindPending("pager", "4f1c0a").value(), "v2");
}

TEST_F(RedisVerificationStoreTest, AnotherCallersVerificationIsNotFound) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  EXPECT_EQ(store->Find("billing", "v1").value(), std::nullopt);
  EXPECT_EQ(store->FindPending("billing", "4f1c0a").value(), std::nullopt);
  EXPECT_EQ(store->Finish("billing", "v1", VerificationState::kCancelled).value(), false);
  EXPECT_EQ(store->Find("pager", "v1").value()->state, VerificationState::kPending);
}

TEST_F(RedisVerificationStoreTest, ReplicasSeeEachOthersVerifications) {
  std::unique_ptr<RedisVerificationStore> first = Replica();
  std::unique_ptr<RedisVerificationStore> second = Replica();
  ASSERT_TRUE(first->StartOrResend(Fresh("v1"), now_).ok());
  EXPECT_EQ(second->FindPending("pager", "4f1c0a").value(), "v1");
  EXPECT_EQ(second->StartOrResend(Fresh("v2"), now_).value().verification.id, "v1");
  EXPECT_EQ(second->CountCheck("pager", "v1", 3, now_).value()->verification.checks, 1);
  EXPECT_TRUE(second->Finish("pager", "v1", VerificationState::kApproved).value());
  const std::optional<Verification> seen = first->Find("pager", "v1").value();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->sends, 2);
  EXPECT_EQ(seen->checks, 1);
  EXPECT_EQ(seen->state, VerificationState::kApproved);
}

TEST_F(RedisVerificationStoreTest, KeysExpireAtForgetAt) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(store->StartOrResend(Fresh("v1"), now_).ok());
  const absl::Duration left = Fresh("v1").forget_at - absl::Now();
  for (const char* key : {"verification:v1", "verification-pending:pager:4f1c0a"}) {
    const absl::Duration ttl = TimeToLive(key);
    EXPECT_GT(ttl, left - absl::Seconds(5)) << key;
    // The expiry is forget_at rounded up to the millisecond, and Redis counts PTTL from its
    // current millisecond rounded down: each may add up to a millisecond.
    EXPECT_LE(ttl, left + absl::Milliseconds(2)) << key;
  }
}

TEST_F(RedisVerificationStoreTest, AMalformedVerificationIsUnavailableNamingTheCommand) {
  std::unique_ptr<RedisVerificationStore> store = Replica();
  ASSERT_TRUE(
      redis_->Command({"HSET", prefix_ + "verification:v1", "caller", "pager", "state", "lost"})
          .ok());
  const absl::Status found = store->Find("pager", "v1").status();
  EXPECT_EQ(found.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(found.message()), HasSubstr("HGETALL"));
  const absl::Status checked = store->CountCheck("pager", "v1", 3, now_).status();
  EXPECT_EQ(checked.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(checked.message()), HasSubstr("CountCheck script"));
}

}  // namespace
}  // namespace klaxon::ingress::verification
