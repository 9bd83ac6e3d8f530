#include "services/voice-worker/escalation_sender.h"

#include <gtest/gtest.h>

#include "common/timing/fake_clock.h"
#include "services/voice-worker/testing/in_memory_escalation_store.h"

namespace klaxon::voice {
namespace {

constexpr char kEscalatedAlert[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kPagedRecipient[] = "+14155550100";

// Accepts every call, counting them and what was remembered when each was placed.
class CountingSender final : public delivery::Sender {
 public:
  explicit CountingSender(testing::InMemoryEscalationStore& store) : store_(store) {}
  delivery::SendResult Send(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                            const delivery::PacedSender&) override {
    ++calls;
    remembered_before_call = store_.requests.contains(kEscalatedAlert);
    return {.kind = delivery::SendResult::Kind::kAccepted, .sid = "CA0001"};
  }
  delivery::SendResult Settle(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                              absl::Time) override {
    return {.kind = delivery::SendResult::Kind::kAccepted, .sid = "CA0001"};
  }
  absl::StatusOr<delivery::StatusReadBack> ReadStatus(const events::v1::AlertRequested&,
                                                      const std::string&) override {
    return absl::UnimplementedError("not read in these tests");
  }
  int calls = 0;
  bool remembered_before_call = false;

 private:
  testing::InMemoryEscalationStore& store_;
};

class EscalationSenderTest : public ::testing::Test {
 protected:
  EscalationSenderTest() {
    request_.mutable_header()->set_alert_id(kEscalatedAlert);
    request_.mutable_header()->set_attempt(1);
  }
  events::v1::AlertRequested request_;
  const transit::AlertPersonalData personal_{.recipient = kPagedRecipient, .text = "disk full"};
  timing::FakeClock clock_;
  testing::InMemoryEscalationStore store_;
  testing::InMemoryRecipientAlerts recipients_;
  CountingSender calls_{store_};
  EscalationSender sender_{calls_, store_, recipients_, clock_};
};

TEST_F(EscalationSenderTest, RemembersTheRequestAndRecipientBeforeCalling) {
  const delivery::SendResult result =
      sender_.Send(request_, personal_, {.address = "+14155552671"});
  EXPECT_EQ(result.kind, delivery::SendResult::Kind::kAccepted);
  EXPECT_TRUE(calls_.remembered_before_call);
  EXPECT_EQ(*recipients_.List(kPagedRecipient, clock_.Now()),
            std::vector<std::string>{kEscalatedAlert});
}

TEST_F(EscalationSenderTest, UnstorableStateIsRetryableWithoutCalling) {
  store_.status = absl::UnavailableError("redis down");
  EXPECT_EQ(sender_.Send(request_, personal_, {.address = "+14155552671"}).kind,
            delivery::SendResult::Kind::kRetryable);
  EXPECT_EQ(calls_.calls, 0);
}

}  // namespace
}  // namespace klaxon::voice
