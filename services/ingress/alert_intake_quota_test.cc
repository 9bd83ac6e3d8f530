// AlertIntake with a caller quota: where SendAlert charges it, and what a caller over it hears.
#include <gtest/gtest.h>

#include "services/ingress/in_memory_caller_quota.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using testing::SendAndWait;

using testing::Request;

class AlertIntakeQuotaTest : public ::testing::Test {
 protected:
  InMemoryCallerQuota quota_{1};
  testing::IntakeHarness harness_{{.quota = &quota_}};
  AlertIntake& intake_ = harness_.intake();
  messaging::FakePublisher& publisher_ = harness_.publisher();
};

TEST_F(AlertIntakeQuotaTest, CallerOverQuotaIsRefusedWithResourceExhausted) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> second =
      SendAndWait(intake_, "billing", Request("k2"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AlertIntakeQuotaTest, RepeatOfAnAcceptedKeyCostsNoQuota) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> repeat =
      SendAndWait(intake_, "billing", Request("k1"));
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_EQ(quota_.used("billing"), 1);
}

TEST_F(AlertIntakeQuotaTest, RefusedKeyIsChargedAgainWhenRetried) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  ASSERT_FALSE(SendAndWait(intake_, "billing", Request("k2")).ok());
  // The refused key was reserved but never published: retrying it is not a free repeat.
  EXPECT_EQ(SendAndWait(intake_, "billing", Request("k2")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(AlertIntakeQuotaTest, QuotasArePerCaller) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  EXPECT_TRUE(SendAndWait(intake_, "pager", Request("k1")).ok());
}

}  // namespace
}  // namespace klaxon::ingress
