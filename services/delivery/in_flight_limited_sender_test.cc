#include "services/delivery/in_flight_limited_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "services/delivery/dispatcher_test_ports.h"

namespace klaxon::delivery {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Notes how many slots of `limit` were held while each of its calls ran.
class SlotWatchingSender final : public Sender {
 public:
  explicit SlotWatchingSender(const test_ports::InMemoryInFlightLimit& limit) : limit_(limit) {}

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
    return StatusReadBack{};
  }

  std::vector<int> held_during;

 private:
  const test_ports::InMemoryInFlightLimit& limit_;
};

TEST(InFlightLimitedSenderTest, AReadHoldsASlotWhileItRunsAndGivesItBack) {
  test_ports::InMemoryInFlightLimit limit(2);
  SlotWatchingSender twilio(limit);
  InFlightLimitedSender sender(twilio, limit, absl::Milliseconds(10));
  EXPECT_TRUE(sender.ReadStatus({}, "SM1").ok());
  EXPECT_EQ(sender.Settle({}, {}, absl::UnixEpoch()).kind, SendResult::Kind::kRetryable);
  EXPECT_THAT(twilio.held_during, ElementsAre(1, 1));
  EXPECT_EQ(limit.in_flight(), 0);
}

TEST(InFlightLimitedSenderTest, ASendTakesNoSecondSlot) {
  test_ports::InMemoryInFlightLimit limit(1);
  SlotWatchingSender twilio(limit);
  InFlightLimitedSender sender(twilio, limit, absl::Milliseconds(10));
  // The send gate already holds the only slot for this send.
  ASSERT_TRUE(limit.Acquire(absl::ZeroDuration()).ok());
  EXPECT_EQ(sender.Send({}, {}, {}).kind, SendResult::Kind::kAccepted);
  EXPECT_THAT(twilio.held_during, ElementsAre(1));
}

TEST(InFlightLimitedSenderTest, WithEverySlotTakenAReadIsNotMadeAndSaysWhy) {
  test_ports::InMemoryInFlightLimit limit(1);
  SlotWatchingSender twilio(limit);
  InFlightLimitedSender sender(twilio, limit, absl::Milliseconds(10));
  ASSERT_TRUE(limit.Acquire(absl::ZeroDuration()).ok());  // a send in flight

  const absl::StatusOr<StatusReadBack> read = sender.ReadStatus({}, "SM1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(read.status().message(), HasSubstr("KLAXON_TWILIO_MAX_IN_FLIGHT"));
  const SendResult settled = sender.Settle({}, {}, absl::UnixEpoch());
  EXPECT_EQ(settled.kind, SendResult::Kind::kUnknown) << "tried again, never taken as not sent";
  EXPECT_THAT(settled.reason, HasSubstr("KLAXON_TWILIO_MAX_IN_FLIGHT"));
  EXPECT_TRUE(twilio.held_during.empty()) << "Twilio was asked without a slot";
  EXPECT_EQ(limit.in_flight(), 1);
}

}  // namespace
}  // namespace klaxon::delivery
