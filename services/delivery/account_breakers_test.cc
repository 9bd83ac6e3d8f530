#include "services/delivery/account_breakers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/timing/fake_clock.h"

namespace klaxon::delivery {
namespace {

using Evidence = SendResult::AccountEvidence;
const SendResult kAccepted{
    .kind = SendResult::Kind::kAccepted, .sid = "SM1", .account_evidence = Evidence::kAnswered};
const SendResult kServerError{.kind = SendResult::Kind::kRetryable,
                              .reason = "Twilio answered 503",
                              .account_evidence = Evidence::kFailing};
const SendResult kThrottled{.kind = SendResult::Kind::kThrottled, .error_code = 20429};
const SendResult kRefused{.kind = SendResult::Kind::kRejected,
                          .error_code = 21211,
                          .account_evidence = Evidence::kAnswered};
// Made without calling Twilio (a TwiML too long, Redis down before the call).
const SendResult kLocal{.kind = SendResult::Kind::kRejected, .reason = "TwiML too long"};

class AccountBreakersTest : public ::testing::Test {
 protected:
  void Fail(int times) {
    for (int i = 0; i < times; ++i) breakers_.Record("main", kServerError, clock_.Now());
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
  for (int i = 0; i < 3; ++i) breakers_.Record("backup", kServerError, clock_.Now());
  EXPECT_FALSE(breakers_.AnyUsable());
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(breakers_.AnyUsable());
}

TEST_F(AccountBreakersTest, AnAnswerEndsTheStreakAThrottleDoesNot) {
  Fail(2);
  breakers_.Record("main", kRefused, clock_.Now());  // a 4xx: the account answered
  Fail(2);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
  breakers_.Record("main", kThrottled, clock_.Now());
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
}

TEST_F(AccountBreakersTest, OnlyFailuresWithinTheSlidingWindowAddUp) {
  Fail(2);
  clock_.Advance(absl::Seconds(31));
  Fail(2);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
  // The window slides: failures 20 s apart keep opening it however long the outage.
  clock_.Advance(absl::Seconds(20));
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
}

TEST_F(AccountBreakersTest, AResultMadeWithoutCallingTwilioSaysNothing) {
  Fail(2);
  breakers_.Record("main", kLocal, clock_.Now());
  Fail(1);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
}

TEST_F(AccountBreakersTest, ALateAnswerNeitherClosesAnOpenBreakerNorDecidesAProbe) {
  const absl::Time before = clock_.Now();
  Fail(3);
  breakers_.Record("main", kAccepted, before);  // sent before it opened
  EXPECT_EQ(breakers_.State("main"), BreakerState::kOpen);
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(breakers_.Admit("main"));
  breakers_.Record("main", kAccepted, before);
  EXPECT_EQ(breakers_.State("main"), BreakerState::kHalfOpen);
  breakers_.Record("main", kAccepted, clock_.Now());
  EXPECT_EQ(breakers_.State("main"), BreakerState::kClosed);
}

TEST_F(AccountBreakersTest, AfterTheCoolDownOneProbeGoesAndItsSuccessCloses) {
  Fail(3);
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(breakers_.Admit("main"));
  EXPECT_EQ(breakers_.State("main"), BreakerState::kHalfOpen);
  EXPECT_FALSE(breakers_.Admit("main"));  // one probe at a time
  breakers_.Record("main", kAccepted, clock_.Now());
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
