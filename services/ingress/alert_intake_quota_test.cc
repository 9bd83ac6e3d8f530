// AlertIntake with a caller quota and a spend budget: where SendAlert charges them, and what a
// caller over them hears.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "common/budgets/in_memory_budget_ledger.h"
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

TEST_F(AlertIntakeQuotaTest, ABatchChargesEachNewAlertAndRefusesOnlyThoseOverQuota) {
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), Request("k2")};
  std::vector<absl::StatusOr<alerts::v1::SendAlertResponse>> answers(2, absl::UnknownError(""));
  std::vector<IntakeCall> calls;
  for (size_t i = 0; i < requests.size(); ++i) {
    calls.push_back({.caller = "billing",
                     .request = &requests[i],
                     .done = [&answers, i](absl::StatusOr<alerts::v1::SendAlertResponse> answer) {
                       answers[i] = std::move(answer);
                     }});
  }
  intake_.SendAll(std::move(calls));
  EXPECT_TRUE(answers[0].ok()) << answers[0].status();
  EXPECT_EQ(answers[1].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(quota_.used("billing"), 1);
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].key, answers[0]->alert_id());
}

TEST_F(AlertIntakeQuotaTest, QuotasArePerCaller) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  EXPECT_TRUE(SendAndWait(intake_, "pager", Request("k1")).ok());
}

// A caller's spend budget (docs/adr/0037): SendAlert refuses the caller once it is spent, except
// for an exempt priority, and an alert already accepted is answered as before.
class AlertIntakeBudgetTest : public ::testing::Test {
 protected:
  static budgets::BudgetSettings Settings() {
    return *budgets::BudgetSettings::Parse(
        R"({"currency": "USD", "exempt": "critical",
            "budgets": [{"name": "billing-daily", "caller": "billing", "period": "day",
                         "limit": "0.01"}],
            "prices": {"sms": {"*": "0.0079"}, "voice": {"*": "0.014"}}})",
        "budgets.json");
  }

  budgets::InMemoryBudgetLedger ledger_;
  budgets::BudgetGuard guard_{Settings(), ledger_};
  testing::IntakeHarness harness_{{.budgets = &guard_}};
  AlertIntake& intake_ = harness_.intake();
  messaging::FakePublisher& publisher_ = harness_.publisher();
};

TEST_F(AlertIntakeBudgetTest, ACallerWhoseBudgetIsSpentIsRefusedNamingItUnlessExempt) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 10'000, harness_.clock().Now(), "SM1").ok());
  const absl::StatusOr<alerts::v1::SendAlertResponse> refused =
      SendAndWait(intake_, "billing", Request("k2"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("budget \"billing-daily\" (0.01 USD a day for caller billing)"));
  EXPECT_EQ(publisher_.published().size(), 1u);
  // The accepted alert's repeat still answers with its id.
  EXPECT_TRUE(SendAndWait(intake_, "billing", Request("k1")).ok());
  // Another caller, and a critical alert, go through.
  EXPECT_TRUE(SendAndWait(intake_, "pager", Request("k3")).ok());
  alerts::v1::SendAlertRequest critical = Request("k4");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  EXPECT_TRUE(SendAndWait(intake_, "billing", critical).ok());
}

}  // namespace
}  // namespace klaxon::ingress
