// AlertIntake with a caller quota: where SendAlert charges it, and what a caller over it hears.
#include <gtest/gtest.h>

#include "common/messaging/testing/fake_publisher.h"
#include "common/transit/testing.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/in_memory_caller_quota.h"
#include "services/ingress/in_memory_idempotency_store.h"

namespace klaxon::ingress {
namespace {

class IgnoringObserver final : public IntakeObserver {
 public:
  void OnAccepted(std::string_view, const alerts::v1::SendAlertRequest&, std::string_view, bool,
                  absl::Duration) override {}
  void OnRejected(std::string_view, const absl::Status&) override {}
};

class AlertIntakeQuotaTest : public ::testing::Test {
 protected:
  static alerts::v1::SendAlertRequest Request(std::string key) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient("+14155552671");
    request.set_text("disk full");
    request.set_idempotency_key(std::move(key));
    return request;
  }

  InMemoryCallerQuota quota_{1};
  InMemoryIdempotencyStore store_;
  messaging::FakePublisher publisher_;
  IgnoringObserver observer_;
  int minted_ = 0;
  transit::testing::TestTransit transit_;
  AlertIntake intake_{{.topics = {.sms = "t.sms", .voice = "t.voice"}, .quota = &quota_},
                      store_,
                      publisher_,
                      transit_.cipher(),
                      observer_,
                      [this] { return "alert-" + std::to_string(++minted_); },
                      [] { return absl::FromUnixSeconds(1'700'000'000); }};
};

TEST_F(AlertIntakeQuotaTest, CallerOverQuotaIsRefusedWithResourceExhausted) {
  ASSERT_TRUE(intake_.Send("billing", Request("k1")).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> second = intake_.Send("billing", Request("k2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AlertIntakeQuotaTest, RepeatOfAnAcceptedKeyCostsNoQuota) {
  ASSERT_TRUE(intake_.Send("billing", Request("k1")).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> repeat = intake_.Send("billing", Request("k1"));
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_EQ(quota_.used("billing"), 1);
}

TEST_F(AlertIntakeQuotaTest, RefusedKeyIsChargedAgainWhenRetried) {
  ASSERT_TRUE(intake_.Send("billing", Request("k1")).ok());
  ASSERT_FALSE(intake_.Send("billing", Request("k2")).ok());
  // The refused key was reserved but never published: retrying it is not a free repeat.
  EXPECT_EQ(intake_.Send("billing", Request("k2")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(AlertIntakeQuotaTest, QuotasArePerCaller) {
  ASSERT_TRUE(intake_.Send("billing", Request("k1")).ok());
  EXPECT_TRUE(intake_.Send("pager", Request("k1")).ok());
}

}  // namespace
}  // namespace klaxon::ingress
