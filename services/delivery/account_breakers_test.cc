#include "services/delivery/account_breakers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/timing/fake_clock.h"

namespace klaxon::delivery {
namespace {

const SendResult kAccepted{.kind = SendResult::Kind::kAccepted, .sid = "SM1"};
const SendResult kServerError{
    .kind = SendResult::Kind::kRetryable, .reason = "Twilio answered 503", .account_failure = true};
const SendResult kThrottled{.kind = SendResult::Kind::kRetryable, .error_code = 20429};
const SendResult kRefused{.kind = SendResult::Kind::kRejected, .error_code = 21211};

class AccountBreakersTest : public ::testing::Test {
 protected:
  void Fail(int times) {
    for (int i = 0; i < times; ++i) breakers_.Record("main", kServerError);
  }

  timing::FakeClock clock_;
  std::vector<std::string> changes_;
  AccountBreakers breakers_{
      {.failures = 3, .window = absl::Seconds(30), .cool_down = absl::Seconds(10)},
      {"main", "backup"},
      clock_,
      [this](const std::string& account, BreakerState state, const std::string&) {
        changes_.push_back(account + ":" + std::string(BreakerStateName(state)));
      }};
};

TEST_F(AccountBreakersTest, OpensAfterTheFailuresInARowAndLetsNothingThroughUntilTheCoolDown) {
  Fail(2);
  EXPECT_TRUE(breakers_.Admit("main"));
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
  EXPECT_FALSE(breakers_.Admit("main"));
  EXPECT_TRUE(breakers_.Admit("backup"));
  EXPECT_EQ(breakers_.NextTry("main"), clock_.Now() + absl::Seconds(10));
  EXPECT_EQ(changes_, std::vector<std::string>{"main:open"});
}

TEST_F(AccountBreakersTest, UsableWhileSomeAccountTakesSendsOrAProbe) {
  Fail(3);
  EXPECT_TRUE(breakers_.AnyUsable());
  for (int i = 0; i < 3; ++i) breakers_.Record("backup", kServerError);
  EXPECT_FALSE(breakers_.AnyUsable());
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(breakers_.AnyUsable());
}

TEST_F(AccountBreakersTest, AnAnswerEndsTheStreakAThrottleDoesNot) {
  Fail(2);
  breakers_.Record("main", kRefused);  // a 4xx: the account answered
  Fail(2);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
  breakers_.Record("main", kThrottled);
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
}

TEST_F(AccountBreakersTest, FailuresFurtherApartThanTheWindowDoNotAddUp) {
  Fail(2);
  clock_.Advance(absl::Seconds(31));
  Fail(2);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
}

TEST_F(AccountBreakersTest, AfterTheCoolDownOneProbeGoesAndItsSuccessCloses) {
  Fail(3);
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(breakers_.Admit("main"));
  EXPECT_EQ(breakers_.State("main"), BreakerState::kHalfOpen);
  EXPECT_FALSE(breakers_.Admit("main"));  // one probe at a time
  breakers_.Record("main", kAccepted);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
  EXPECT_TRUE(breakers_.Admit("main"));
  EXPECT_EQ(changes_, (std::vector<std::string>{"main:open", "main:half_open", "main:closed"}));
}

TEST_F(AccountBreakersTest, AFailedProbeOpensForAnotherCoolDown) {
  Fail(3);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(breakers_.Admit("main"));
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
  EXPECT_FALSE(breakers_.Admit("main"));
  EXPECT_EQ(breakers_.NextTry("main"), clock_.Now() + absl::Seconds(10));
}

TEST_F(AccountBreakersTest, AProbeThatNeverReportsIsFollowedByAnotherACoolDownLater) {
  Fail(3);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(breakers_.Admit("main"));
  clock_.Advance(absl::Seconds(9));
  EXPECT_FALSE(breakers_.Admit("main"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(breakers_.Admit("main"));
}

}  // namespace
}  // namespace klaxon::delivery
