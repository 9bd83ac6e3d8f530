#include "services/delivery/in_flight_limited_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "services/delivery/dispatcher_test_ports.h"

namespace klaxon::delivery {
namespace {

using test_ports::InMemoryInFlightLimit;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Notes how many slots of `limit` were held while each of its calls ran.
class SlotWatchingSender final : public Sender {
 public:
  explicit SlotWatchingSender(const InMemoryInFlightLimit& limit) : limit_(limit) {}

  SendResult Send(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                  const PacedSender&) override {
    held_during.push_back(limit_.in_flight());
    return {.kind = SendResult::Kind::kAccepted, .sid = "SM1"};
  }
  SendResult Settle(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                    absl::Time) override {
    held_during.push_back(limit_.in_flight());
    return {.kind = SendResult::Kind::kRetryable, .reason = "no such message"};
  }
  absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested&,
                                            const std::string&) override {
    held_during.push_back(limit_.in_flight());
    if (throw_on_read) throw std::runtime_error("the REST client failed");
    return StatusReadBack{};
  }

  std::vector<int> held_during;
  bool throw_on_read = false;

 private:
  const InMemoryInFlightLimit& limit_;
};

// A limit whose store cannot be reached.
class UnreachableLimit final : public InFlightLimit {
 public:
  absl::StatusOr<std::string> Acquire(absl::Duration, types::v1::Priority) override {
    return absl::UnavailableError("redis: connection refused");
  }
  void Release(const std::string&) override { ADD_FAILURE() << "released a slot never taken"; }
};

class InFlightLimitedSenderTest : public ::testing::Test {
 protected:
  InMemoryInFlightLimit limit_{2};
  std::unique_ptr<SlotWatchingSender> owned_ = std::make_unique<SlotWatchingSender>(limit_);
  SlotWatchingSender& twilio_ = *owned_;  // owned by sender_ from here on
  InFlightLimitedSender sender_{std::move(owned_), limit_, absl::Milliseconds(10)};
};

TEST_F(InFlightLimitedSenderTest, AReadHoldsASlotWhileItRunsAndGivesItBack) {
  EXPECT_TRUE(sender_.ReadStatus({}, "SM1").ok());
  EXPECT_EQ(sender_.Settle({}, {}, absl::UnixEpoch()).kind, SendResult::Kind::kRetryable);
  EXPECT_THAT(twilio_.held_during, ElementsAre(1, 1));
  EXPECT_EQ(limit_.in_flight(), 0);
}

TEST_F(InFlightLimitedSenderTest, AReadThatThrowsGivesItsSlotBack) {
  twilio_.throw_on_read = true;
  EXPECT_THROW(sender_.ReadStatus({}, "SM1").IgnoreError(), std::runtime_error);
  EXPECT_EQ(limit_.in_flight(), 0);
}

TEST_F(InFlightLimitedSenderTest, ASendTakesNoSecondSlot) {
  // The dispatcher already holds a slot for this send.
  ASSERT_TRUE(limit_.Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  EXPECT_EQ(sender_.Send({}, {}, {}).kind, SendResult::Kind::kAccepted);
  EXPECT_THAT(twilio_.held_during, ElementsAre(1));
}

TEST_F(InFlightLimitedSenderTest, WithEverySlotTakenAReadIsNotMadeAndSaysWhy) {
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(limit_.Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());  // sends

  const absl::StatusOr<StatusReadBack> read = sender_.ReadStatus({}, "SM1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(read.status().message(), HasSubstr("KLAXON_TWILIO_MAX_IN_FLIGHT"));
  const SendResult settled = sender_.Settle({}, {}, absl::UnixEpoch());
  EXPECT_EQ(settled.kind, SendResult::Kind::kUnknown) << "tried again, never taken as not sent";
  EXPECT_THAT(settled.reason, HasSubstr("KLAXON_TWILIO_MAX_IN_FLIGHT"));
  EXPECT_TRUE(twilio_.held_during.empty()) << "Twilio was asked without a slot";
  EXPECT_EQ(limit_.in_flight(), 2);
}

TEST(InFlightLimitedSenderWithoutRedisTest, AReadGoesAheadWhenTheLimitCannotBeAsked) {
  InMemoryInFlightLimit watched(1);
  auto twilio = std::make_unique<SlotWatchingSender>(watched);
  SlotWatchingSender& calls = *twilio;
  UnreachableLimit unreachable;
  InFlightLimitedSender sender(std::move(twilio), unreachable, absl::Milliseconds(10));
  EXPECT_TRUE(sender.ReadStatus({}, "SM1").ok()) << "status checks read Twilio while Redis is down";
  EXPECT_EQ(sender.Settle({}, {}, absl::UnixEpoch()).kind, SendResult::Kind::kRetryable);
  EXPECT_EQ(calls.held_during.size(), 2u);
}

}  // namespace
}  // namespace klaxon::delivery
