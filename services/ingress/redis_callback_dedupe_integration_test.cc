// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "services/ingress/redis_callback_dedupe.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress {
namespace {

class RedisCallbackDedupeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    prefix_ = klaxon::testing::UniquePrefix();
    dedupe_ = std::make_unique<RedisCallbackDedupe>(*redis_, prefix_);
  }

  absl::StatusOr<DedupeClaim> Claim(const DedupeKeys& keys, absl::Duration lease) {
    return dedupe_->Claim({keys}, lease).front();
  }
  absl::Status MarkPublished(const DedupeKeys& keys, absl::Duration window) {
    return dedupe_->MarkPublished({keys}, window).front();
  }

  absl::Status Release(const DedupeKeys& keys) { return dedupe_->Release({keys}).front(); }

  int64_t TtlMillis(const std::string& key) {
    auto reply = redis_->Command({"PTTL", prefix_ + "twilio-callback:" + key});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply->integer : -3;
  }

  std::unique_ptr<redis::RedisClient> redis_;
  std::string prefix_;
  std::unique_ptr<RedisCallbackDedupe> dedupe_;
};

TEST_F(RedisCallbackDedupeTest, ClaimPublishAndReplay) {
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value(), DedupeClaim::kInFlight);
  EXPECT_GT(TtlMillis("token:a"), 0);
  EXPECT_LE(TtlMillis("token:a"), 30'000);
  ASSERT_TRUE(MarkPublished({"token:a"}, absl::Hours(48)).ok());
  EXPECT_EQ(Claim({"token:a"}, absl::Seconds(30)).value(), DedupeClaim::kAlreadyPublished);
  // The published mark lives for the dedupe window, at least 24 hours.
  EXPECT_GT(TtlMillis("token:a"), 47 * 3600 * 1000LL);
}

TEST_F(RedisCallbackDedupeTest, ReleaseFreesAClaimButNeverAPublishedMark) {
  ASSERT_EQ(Claim({"token:b"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  ASSERT_TRUE(Release({"token:b"}).ok());
  EXPECT_EQ(Claim({"token:b"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  ASSERT_TRUE(MarkPublished({"token:b"}, absl::Hours(24)).ok());
  ASSERT_TRUE(Release({"token:b"}).ok());
  EXPECT_EQ(Claim({"token:b"}, absl::Seconds(30)).value(), DedupeClaim::kAlreadyPublished);
}

TEST_F(RedisCallbackDedupeTest, OnlyOneOfManyConcurrentClaimsWins) {
  std::atomic<int> claimed{0};
  std::vector<std::jthread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto claim = Claim({"sid:SM1:delivered:0", "signed:abc"}, absl::Seconds(30));
      if (claim.ok() && *claim == DedupeClaim::kClaimed) ++claimed;
    });
  }
  threads.clear();
  EXPECT_EQ(claimed.load(), 1);
}

// A replay whose token changed: its token key is new, its signed-content key is not.
TEST_F(RedisCallbackDedupeTest, AnyPublishedKeyMakesAReplay) {
  ASSERT_EQ(Claim({"token:c1", "signed:c"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  EXPECT_EQ(Claim({"token:c2", "signed:c"}, absl::Seconds(30)).value(), DedupeClaim::kInFlight);
  EXPECT_EQ(TtlMillis("token:c2"), -2) << "a refused claim sets no key";
  ASSERT_TRUE(MarkPublished({"token:c1", "signed:c"}, absl::Hours(24)).ok());
  EXPECT_EQ(Claim({"token:c2", "signed:c"}, absl::Seconds(30)).value(),
            DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(Claim({"sid:SMc:delivered:0", "signed:c"}, absl::Seconds(30)).value(),
            DedupeClaim::kAlreadyPublished);
  EXPECT_GT(TtlMillis("signed:c"), 23 * 3600 * 1000LL);
}

TEST_F(RedisCallbackDedupeTest, ReleaseDropsEveryClaimOfTheCallback) {
  ASSERT_EQ(Claim({"token:d", "signed:d"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  ASSERT_TRUE(Release({"token:d", "signed:d"}).ok());
  EXPECT_EQ(TtlMillis("token:d"), -2);
  EXPECT_EQ(TtlMillis("signed:d"), -2);
  EXPECT_EQ(Claim({"token:d2", "signed:d"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
}

// A batch is one round trip with an answer per callback, in order; a callback without keys is
// refused alone.
TEST_F(RedisCallbackDedupeTest, ABatchIsAnsweredPerCallbackInOrder) {
  ASSERT_EQ(Claim({"token:e1"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  ASSERT_EQ(Claim({"token:e2"}, absl::Seconds(30)).value(), DedupeClaim::kClaimed);
  ASSERT_TRUE(MarkPublished({"token:e2"}, absl::Hours(24)).ok());

  const std::vector<absl::StatusOr<DedupeClaim>> claims = dedupe_->Claim(
      {{"token:e0", "signed:e0"}, {"token:e1"}, {"token:e2"}, {}, {"token:e3"}}, absl::Seconds(30));
  ASSERT_EQ(claims.size(), 5u);
  EXPECT_EQ(claims[0].value(), DedupeClaim::kClaimed);
  EXPECT_EQ(claims[1].value(), DedupeClaim::kInFlight);
  EXPECT_EQ(claims[2].value(), DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(claims[3].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(claims[4].value(), DedupeClaim::kClaimed);

  const std::vector<absl::Status> marks =
      dedupe_->MarkPublished({{"token:e0", "signed:e0"}, {"token:e3"}}, absl::Hours(24));
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_TRUE(marks[0].ok() && marks[1].ok());
  EXPECT_EQ(Claim({"signed:e0"}, absl::Seconds(30)).value(), DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(Claim({"token:e3"}, absl::Seconds(30)).value(), DedupeClaim::kAlreadyPublished);
}

}  // namespace
}  // namespace klaxon::ingress
