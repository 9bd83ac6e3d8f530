// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two queues on one Redis
// stand for two worker replicas.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "services/delivery/redis_status_check_queue.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
constexpr absl::Duration kLease = absl::Minutes(1);

events::v1::AlertRequested Check(const std::string& sid,
                                 types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  events::v1::AlertRequested check;
  check.mutable_header()->set_alert_id("alert-" + sid);
  check.mutable_header()->set_channel(channel);
  check.set_check_sid(sid);
  return check;
}

std::vector<std::string> Sids(const DueChecks& due) {
  std::vector<std::string> sids;
  for (const ClaimedCheck& check : due.checks) sids.push_back(check.sid);
  return sids;
}

class RedisStatusCheckQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  std::unique_ptr<RedisStatusCheckQueue> Queue(
      types::v1::Channel channel = types::v1::CHANNEL_SMS) {
    return std::make_unique<RedisStatusCheckQueue>(*redis_, prefix_, channel);
  }

  DueChecks Claim(RedisStatusCheckQueue& queue, absl::Time now, size_t max = 10,
                  CheckLane lane = CheckLane::kNormal) {
    absl::StatusOr<DueChecks> due = queue.ClaimDue(lane, now, max, kLease);
    EXPECT_TRUE(due.ok()) << due.status();
    return due.ok() ? *std::move(due) : DueChecks{};
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisStatusCheckQueueTest, HandsOutChecksOnlyOnceDueOldestFirst) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  ASSERT_TRUE(queue->Schedule(Check("SMlater"), kStart + absl::Seconds(10)).ok());
  ASSERT_TRUE(queue->Schedule(Check("SMsooner"), kStart + absl::Seconds(5)).ok());

  DueChecks none = Claim(*queue, kStart);
  EXPECT_TRUE(none.checks.empty());
  EXPECT_EQ(none.kept, 2);
  EXPECT_EQ(none.oldest_due_for, absl::ZeroDuration());

  DueChecks first = Claim(*queue, kStart + absl::Seconds(6));
  EXPECT_EQ(Sids(first), std::vector<std::string>{"SMsooner"});
  EXPECT_EQ(first.oldest_due_for, absl::Seconds(1));
  events::v1::AlertRequested handed;
  ASSERT_TRUE(handed.ParseFromString(first.checks[0].value));
  EXPECT_EQ(handed.header().alert_id(), "alert-SMsooner") << "the check itself comes back";

  DueChecks later = Claim(*queue, kStart + absl::Seconds(20));
  EXPECT_EQ(Sids(later), std::vector<std::string>{"SMlater"})
      << "the claimed check is leased; only the other one is due";
}

TEST_F(RedisStatusCheckQueueTest, AClaimIsHandedOutOnceUntilItsLeaseRunsOut) {
  std::unique_ptr<RedisStatusCheckQueue> replica1 = Queue();
  std::unique_ptr<RedisStatusCheckQueue> replica2 = Queue();
  ASSERT_TRUE(replica1->Schedule(Check("SMa"), kStart).ok());
  DueChecks first = Claim(*replica1, kStart);
  ASSERT_EQ(Sids(first), std::vector<std::string>{"SMa"});
  EXPECT_EQ(first.checks[0].leased_until, kStart + kLease);
  EXPECT_TRUE(Claim(*replica2, kStart + kLease - absl::Seconds(1)).checks.empty());
  DueChecks again = Claim(*replica2, kStart + kLease + absl::Seconds(1));
  EXPECT_EQ(Sids(again), std::vector<std::string>{"SMa"})
      << "a claim whose worker never finished it falls due again";
}

TEST_F(RedisStatusCheckQueueTest, FinishRemovesOnlyWhatTheClaimStillHolds) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  ASSERT_TRUE(queue->Schedule(Check("SMtaken"), kStart).ok());
  DueChecks slow = Claim(*queue, kStart);  // a claim whose lease runs out before it finishes
  ASSERT_EQ(Sids(slow), std::vector<std::string>{"SMtaken"});
  const absl::Time t30 = kStart + absl::Seconds(30);
  ASSERT_TRUE(queue->Schedule(Check("SMdone"), t30 - absl::Seconds(1)).ok());
  ASSERT_TRUE(queue->Schedule(Check("SMagain"), t30).ok());
  DueChecks first = Claim(*queue, t30);
  ASSERT_EQ(Sids(first), (std::vector<std::string>{"SMdone", "SMagain"}));
  // SMagain is scheduled again while it is handled (its next check).
  events::v1::AlertRequested next = Check("SMagain");
  next.set_check_charge(true);
  ASSERT_TRUE(queue->Schedule(next, kStart + absl::Minutes(10)).ok());
  // Another replica takes SMtaken once its first lease ran out.
  DueChecks taken = Claim(*queue, kStart + kLease + absl::Seconds(1));
  ASSERT_EQ(Sids(taken), std::vector<std::string>{"SMtaken"});

  ASSERT_TRUE(queue->Finish(CheckLane::kNormal, slow.checks).ok());
  ASSERT_TRUE(queue->Finish(CheckLane::kNormal, first.checks).ok());
  DueChecks after = Claim(*queue, kStart + absl::Minutes(10));
  EXPECT_EQ(after.kept, 2) << "SMdone is gone; SMtaken and SMagain stay";
  ASSERT_EQ(Sids(after), (std::vector<std::string>{"SMtaken", "SMagain"}));
  events::v1::AlertRequested handed;
  ASSERT_TRUE(handed.ParseFromString(after.checks[1].value));
  EXPECT_TRUE(handed.check_charge()) << "the check scheduled last is the one kept";

  ASSERT_TRUE(queue->Finish(CheckLane::kNormal, after.checks).ok());
  EXPECT_EQ(Claim(*queue, kStart + absl::Hours(1)).kept, 0);
}

TEST_F(RedisStatusCheckQueueTest, EachChannelSweepsItsOwnChecks) {
  std::unique_ptr<RedisStatusCheckQueue> sms = Queue(types::v1::CHANNEL_SMS);
  std::unique_ptr<RedisStatusCheckQueue> voice = Queue(types::v1::CHANNEL_VOICE);
  ASSERT_TRUE(sms->Schedule(Check("CAcall", types::v1::CHANNEL_VOICE), kStart).ok());
  EXPECT_TRUE(Claim(*sms, kStart).checks.empty());
  EXPECT_EQ(Sids(Claim(*voice, kStart)), std::vector<std::string>{"CAcall"});
}

TEST_F(RedisStatusCheckQueueTest, CriticalAlertsChecksWaitInTheUrgentLane) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  events::v1::AlertRequested critical = Check("SMcritical");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(queue->ScheduleFirst(critical, kStart).ok());
  ASSERT_TRUE(queue->Schedule(Check("SMnormal"), kStart).ok());
  DueChecks urgent = Claim(*queue, kStart, 10, CheckLane::kUrgent);
  EXPECT_EQ(Sids(urgent), std::vector<std::string>{"SMcritical"});
  EXPECT_EQ(Sids(Claim(*queue, kStart)), std::vector<std::string>{"SMnormal"});
  ASSERT_TRUE(queue->Finish(CheckLane::kUrgent, urgent.checks).ok());
  EXPECT_EQ(Claim(*queue, kStart + absl::Hours(1), 10, CheckLane::kUrgent).kept, 0);
}

TEST_F(RedisStatusCheckQueueTest, ASidWhoseCheckIsGoneIsDropped) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  ASSERT_TRUE(queue->Schedule(Check("SMgone"), kStart).ok());
  ASSERT_TRUE(redis_->Command({"HDEL", prefix_ + "status_check_bodies:sms:normal", "SMgone"}).ok());
  EXPECT_TRUE(Claim(*queue, kStart).checks.empty());
  EXPECT_EQ(Claim(*queue, kStart).kept, 0) << "the SID is gone from the due times too";
}

TEST_F(RedisStatusCheckQueueTest, AFirstCheckKeepsTheOneAlreadyWaiting) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  events::v1::AlertRequested charge = Check("SMa");
  charge.set_check_charge(true);
  ASSERT_TRUE(queue->Schedule(charge, kStart + absl::Minutes(2)).ok());
  // The outcome published again (a redelivered request) schedules its first check again.
  ASSERT_TRUE(queue->ScheduleFirst(Check("SMa"), kStart + absl::Seconds(30)).ok());
  EXPECT_TRUE(Claim(*queue, kStart + absl::Minutes(1)).checks.empty());
  DueChecks due = Claim(*queue, kStart + absl::Minutes(2));
  ASSERT_EQ(Sids(due), std::vector<std::string>{"SMa"});
  events::v1::AlertRequested kept;
  ASSERT_TRUE(kept.ParseFromString(due.checks[0].value));
  EXPECT_TRUE(kept.check_charge());
  ASSERT_TRUE(queue->ScheduleFirst(Check("SMb"), kStart).ok());
  EXPECT_EQ(Sids(Claim(*queue, kStart + absl::Minutes(3))), std::vector<std::string>{"SMb"})
      << "with none waiting, the first check is kept";
}

TEST_F(RedisStatusCheckQueueTest, AClaimOfNoneStillCounts) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  ASSERT_TRUE(queue->Schedule(Check("SMa"), kStart).ok());
  DueChecks none = Claim(*queue, kStart + absl::Seconds(2), 0);
  EXPECT_TRUE(none.checks.empty());
  EXPECT_EQ(none.kept, 1);
  EXPECT_EQ(none.oldest_due_for, absl::Seconds(2));
  EXPECT_EQ(Sids(Claim(*queue, kStart + absl::Seconds(2))), std::vector<std::string>{"SMa"})
      << "a claim of none leased nothing";
}

TEST_F(RedisStatusCheckQueueTest, RefusesACheckWithoutChannelOrSid) {
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  EXPECT_EQ(queue->Schedule(Check(""), kStart).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue->Schedule(Check("SMx", types::v1::CHANNEL_UNSPECIFIED), kStart).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisStatusCheckQueueTest, ARedisErrorIsUnavailable) {
  // A key of the wrong type stands in for a Redis that errs.
  ASSERT_TRUE(redis_->Command({"SET", prefix_ + "status_checks:sms:normal", "x"}).ok());
  std::unique_ptr<RedisStatusCheckQueue> queue = Queue();
  EXPECT_EQ(queue->Schedule(Check("SMx"), kStart).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(queue->ClaimDue(CheckLane::kNormal, kStart, 10, kLease).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::delivery
