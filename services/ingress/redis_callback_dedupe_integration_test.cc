// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
// RedisCallbackDedupe against the CallbackDedupe contract (the fake the webhook handler's tests
// use is held to the same one), plus what only Redis shows: leases and windows as TTLs.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/ids/id_generator.h"
#include "services/ingress/redis_callback_dedupe.h"
#include "services/ingress/testing/callback_dedupe_contract.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress {
namespace {

struct RedisHarness {
  void SetUp() {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);
    dedupe_ = std::make_unique<RedisCallbackDedupe>(*redis_, prefix_, claim_tokens_);
  }
  CallbackDedupe& dedupe() { return *dedupe_; }
  // A key past its TTL reads as gone at once, so OutliveLease waits about this long.
  absl::Duration ShortLease() { return absl::Milliseconds(20); }
  void OutliveLease(const DedupeKeys& keys) {
    for (const std::string& key : keys) {
      ASSERT_TRUE(klaxon::testing::PollUntil([&] { return TtlMillis(key) == -2; }))
          << key << " outlived its lease";
    }
  }

  // The key's PTTL: -2 when it does not exist.
  int64_t TtlMillis(const std::string& key) {
    auto reply = redis_->Command({"PTTL", prefix_ + "twilio-callback:" + key});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply->integer : -3;
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::string prefix_;
  ids::CountingIdGenerator claim_tokens_{"claim-"};
  std::unique_ptr<RedisCallbackDedupe> dedupe_;
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, CallbackDedupeContractTest, RedisHarness);
}  // namespace testing

namespace {

class RedisCallbackDedupeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(harness_.SetUp()); }

  absl::StatusOr<ClaimAnswer> Claim(const DedupeKeys& keys, absl::Duration lease) {
    return harness_.dedupe().Claim({keys}, lease).front();
  }
  absl::Status MarkPublished(const DedupeKeys& keys, absl::Duration window) {
    return harness_.dedupe().MarkPublished({keys}, window).front();
  }
  absl::Status Release(const DedupeKeys& keys, std::string token) {
    return harness_.dedupe().Release({{.keys = keys, .token = std::move(token)}}).front();
  }
  int64_t TtlMillis(const std::string& key) { return harness_.TtlMillis(key); }

  RedisHarness harness_;
};

TEST_F(RedisCallbackDedupeTest, ClaimPublishAndReplay) {
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value().outcome, DedupeClaim::kClaimed);
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value().outcome, DedupeClaim::kInFlight);
  EXPECT_GT(TtlMillis("token:a"), 0);
  EXPECT_LE(TtlMillis("token:a"), 30'000);
  ASSERT_TRUE(MarkPublished({"token:a"}, absl::Hours(48)).ok());
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value().outcome, DedupeClaim::kAlreadyPublished);
  // The published mark lives for the dedupe window, at least 24 hours.
  EXPECT_GT(TtlMillis("token:a"), 47 * 3600 * 1000LL);
}

// A replay whose token changed: its token key is new, its signed-content key is not.
TEST_F(RedisCallbackDedupeTest, AnyPublishedKeyMakesAReplay) {
  ASSERT_EQ(Claim({"token:c1", "signed:c"}, absl::Seconds(30)).value().outcome,
            DedupeClaim::kClaimed);
  EXPECT_EQ(Claim({"token:c2", "signed:c"}, absl::Seconds(30)).value().outcome,
            DedupeClaim::kInFlight);
  EXPECT_EQ(TtlMillis("token:c2"), -2) << "a refused claim sets no key";
  ASSERT_TRUE(MarkPublished({"token:c1", "signed:c"}, absl::Hours(24)).ok());
  EXPECT_EQ(Claim({"token:c2", "signed:c"}, absl::Seconds(30)).value().outcome,
            DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(Claim({"sid:SMc:delivered:0", "signed:c"}, absl::Seconds(30)).value().outcome,
            DedupeClaim::kAlreadyPublished);
  EXPECT_GT(TtlMillis("signed:c"), 23 * 3600 * 1000LL);
}

TEST_F(RedisCallbackDedupeTest, ReleaseDropsEveryClaimOfTheCallback) {
  const absl::StatusOr<ClaimAnswer> claim = Claim({"token:d", "signed:d"}, absl::Seconds(30));
  ASSERT_EQ(claim.value().outcome, DedupeClaim::kClaimed);
  ASSERT_TRUE(Release({"token:d", "signed:d"}, claim->token).ok());
  EXPECT_EQ(TtlMillis("token:d"), -2);
  EXPECT_EQ(TtlMillis("signed:d"), -2);
  EXPECT_EQ(Claim({"token:d2", "signed:d"}, absl::Seconds(30)).value().outcome,
            DedupeClaim::kClaimed);
}

}  // namespace
}  // namespace klaxon::ingress
