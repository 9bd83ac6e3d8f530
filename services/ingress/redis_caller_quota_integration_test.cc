// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two quotas on one
// Redis stand for two ingress replicas.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "common/grpcutil/grpcutil.h"
#include "services/ingress/redis_caller_quota.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

class RedisCallerQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  std::unique_ptr<RedisCallerQuota> Replica() {
    return std::make_unique<RedisCallerQuota>(
        *redis_, prefix_,
        std::map<std::string, limits::Rate>{{"*", {.count = 3, .window = absl::Hours(1)}},
                                            {"pager", {.count = 2, .window = absl::Minutes(1)}}});
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisCallerQuotaTest, QuotaIsSharedByReplicasAndNamedWhenExceeded) {
  std::unique_ptr<RedisCallerQuota> first = Replica();
  std::unique_ptr<RedisCallerQuota> second = Replica();
  ASSERT_TRUE(first->Admit("pager").ok());
  ASSERT_TRUE(second->Admit("pager").ok());
  const absl::Status over = first->Admit("pager");
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over.message()),
              HasSubstr("caller pager is over its quota of 2 alerts per minute; retry after 30s"));
  EXPECT_EQ(grpcutil::RetryPushback(over), absl::Seconds(30));
}

TEST_F(RedisCallerQuotaTest, UnlistedCallersGetTheDefault) {
  std::unique_ptr<RedisCallerQuota> quota = Replica();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(quota->Admit("billing").ok()) << i;
  EXPECT_EQ(quota->Admit("billing").code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(RedisCallerQuotaTest, CallersHaveSeparateBuckets) {
  std::unique_ptr<RedisCallerQuota> quota = Replica();
  ASSERT_TRUE(quota->Admit("pager").ok());
  ASSERT_TRUE(quota->Admit("pager").ok());
  EXPECT_TRUE(quota->Admit("billing").ok());
}

TEST_F(RedisCallerQuotaTest, ABatchChargesEachCallerInOrder) {
  std::unique_ptr<RedisCallerQuota> quota = Replica();
  const std::vector<std::string_view> callers = {"pager", "billing", "pager", "pager"};
  const std::vector<absl::Status> admitted = quota->AdmitAll(callers);
  ASSERT_EQ(admitted.size(), 4u);
  EXPECT_TRUE(admitted[0].ok()) << admitted[0];
  EXPECT_TRUE(admitted[1].ok()) << admitted[1];
  EXPECT_TRUE(admitted[2].ok()) << admitted[2];
  // The third of pager's two a minute, in one batch as across calls.
  EXPECT_EQ(admitted[3].code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(admitted[3].message()), HasSubstr("caller pager"));
}

TEST_F(RedisCallerQuotaTest, AQuotaTooLargeToMeasureAdmitsEveryAlert) {
  // 100 million a minute: an interval of 0.6 µs, 0 in whole µs.
  RedisCallerQuota quota(*redis_, prefix_,
                         std::map<std::string, limits::Rate>{
                             {"*", {.count = 100'000'000, .window = absl::Minutes(1)}}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(quota.Admit("billing").ok()) << quota.Admit("billing");
}

TEST_F(RedisCallerQuotaTest, WithoutDefaultUnlistedCallersAreNotLimited) {
  RedisCallerQuota quota(*redis_, prefix_, {{"pager", {.count = 1, .window = absl::Minutes(1)}}});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(quota.Admit("billing").ok()) << i;
}

}  // namespace
}  // namespace klaxon::ingress
