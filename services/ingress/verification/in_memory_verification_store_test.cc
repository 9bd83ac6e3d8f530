#include "services/ingress/verification/in_memory_verification_store.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

namespace klaxon::ingress::verification {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

Verification Fresh(const std::string& id) {
  return Verification{.id = id,
                      .caller = "pager",
                      .recipient_index = "4f1c0a",
                      .channel = types::v1::CHANNEL_SMS,
                      .code_digest = "digest-" + id,
                      .sealed_code = "sealed-" + id,
                      .created_at = kNow,
                      .expires_at = kNow + absl::Minutes(10),
                      .forget_at = kNow + absl::Hours(1),
                      .alert_id = "alert-of-" + id};
}

TEST(InMemoryVerificationStoreTest, StartKeepsTheFreshVerificationAsPending) {
  InMemoryVerificationStore store;
  absl::StatusOr<StartedSend> kept = store.StartOrResend(Fresh("v1"), kNow);
  ASSERT_TRUE(kept.ok()) << kept.status();
  Verification expected = Fresh("v1");
  expected.sends = 1;
  EXPECT_EQ(kept->verification, expected);
  EXPECT_EQ(kept->previous_alert_id, "");
  EXPECT_EQ(store.Find("pager", "v1").value(), expected);
  EXPECT_EQ(store.FindPending("pager", "4f1c0a").value(), "v1");
}

TEST(InMemoryVerificationStoreTest, ReplaceAlertOnlyReplacesTheAlertItWasGiven) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  EXPECT_EQ(store.ReplaceAlert("pager", "v1", "alert-of-v1", "alert-2").value(), true);
  EXPECT_EQ(store.Find("pager", "v1").value()->alert_id, "alert-2");
  // A later start named its own alert meanwhile: that one stays.
  EXPECT_EQ(store.ReplaceAlert("pager", "v1", "alert-of-v1", "").value(), false);
  EXPECT_EQ(store.ReplaceAlert("billing", "v1", "alert-2", "alert-3").value(), false);
  EXPECT_EQ(store.ReplaceAlert("pager", "unknown", "", "alert-4").value(), false);
  EXPECT_EQ(store.Find("pager", "v1").value()->alert_id, "alert-2");
}

TEST(InMemoryVerificationStoreTest, StartWhilePendingResendsThePendingOne) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  absl::StatusOr<StartedSend> resent = store.StartOrResend(Fresh("v2"), kNow + absl::Minutes(1));
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_EQ(resent->verification.id, "v1");
  EXPECT_EQ(resent->verification.code_digest, "digest-v1");
  EXPECT_EQ(resent->verification.sends, 2);
  // The resend names its own alert, and says which it replaced.
  EXPECT_EQ(resent->verification.alert_id, "alert-of-v2");
  EXPECT_EQ(resent->previous_alert_id, "alert-of-v1");
  EXPECT_EQ(store.Find("pager", "v2").value(), std::nullopt);
}

TEST(InMemoryVerificationStoreTest, StartAfterThePendingOneExpiredKeepsTheFreshOne) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  absl::StatusOr<StartedSend> kept = store.StartOrResend(Fresh("v2"), kNow + absl::Minutes(10));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->verification.id, "v2");
  EXPECT_EQ(kept->verification.sends, 1);
  EXPECT_EQ(store.FindPending("pager", "4f1c0a").value(), "v2");
}

TEST(InMemoryVerificationStoreTest, CountCheckCountsUpToMaxChecks) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  for (const auto& [checks, counted] : {std::pair{1, true}, {2, true}, {3, true}, {3, false}}) {
    absl::StatusOr<std::optional<CountedCheck>> checked = store.CountCheck("pager", "v1", 3, kNow);
    ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
    EXPECT_EQ((*checked)->verification.checks, checks);
    EXPECT_EQ((*checked)->counted, counted);
  }
}

TEST(InMemoryVerificationStoreTest, CountCheckDoesNotCountFromExpiry) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  absl::StatusOr<std::optional<CountedCheck>> checked =
      store.CountCheck("pager", "v1", 3, kNow + absl::Minutes(10));
  ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
  EXPECT_EQ((*checked)->verification.checks, 0);
  EXPECT_FALSE((*checked)->counted);
}

TEST(InMemoryVerificationStoreTest, CountCheckDoesNotCountAFinishedVerification) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  ASSERT_TRUE(store.Finish("pager", "v1", VerificationState::kCancelled).value());
  absl::StatusOr<std::optional<CountedCheck>> checked = store.CountCheck("pager", "v1", 3, kNow);
  ASSERT_TRUE(checked.ok() && checked->has_value()) << checked.status();
  EXPECT_EQ((*checked)->verification.checks, 0);
  EXPECT_FALSE((*checked)->counted);
  EXPECT_EQ((*checked)->verification.state, VerificationState::kCancelled);
}

TEST(InMemoryVerificationStoreTest, CountCheckOfAnotherCallersVerificationIsNotFound) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  EXPECT_EQ(store.CountCheck("billing", "v1", 3, kNow).value(), std::nullopt);
  EXPECT_EQ(store.Find("pager", "v1").value()->checks, 0);
}

TEST(InMemoryVerificationStoreTest, FinishApprovesOnce) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  EXPECT_EQ(store.Finish("pager", "v1", VerificationState::kApproved).value(), true);
  EXPECT_EQ(store.Finish("pager", "v1", VerificationState::kApproved).value(), false);
  EXPECT_EQ(store.Find("pager", "v1").value()->state, VerificationState::kApproved);
}

TEST(InMemoryVerificationStoreTest, FinishOfAnUnknownVerificationIsFalse) {
  InMemoryVerificationStore store;
  EXPECT_EQ(store.Finish("pager", "v1", VerificationState::kCancelled).value(), false);
}

TEST(InMemoryVerificationStoreTest, FinishingAsPendingIsRefused) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  EXPECT_EQ(store.Finish("pager", "v1", VerificationState::kPending).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InMemoryVerificationStoreTest, FinishFreesTheRecipientForAFreshVerification) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  ASSERT_TRUE(store.Finish("pager", "v1", VerificationState::kApproved).value());
  EXPECT_EQ(store.FindPending("pager", "4f1c0a").value(), std::nullopt);
  EXPECT_EQ(store.StartOrResend(Fresh("v2"), kNow).value().verification.id, "v2");
}

TEST(InMemoryVerificationStoreTest, FinishOfAReplacedVerificationKeepsItsSuccessorPending) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  ASSERT_TRUE(store.StartOrResend(Fresh("v2"), kNow + absl::Minutes(10)).ok());
  ASSERT_TRUE(store.Finish("pager", "v1", VerificationState::kCancelled).value());
  EXPECT_EQ(store.FindPending("pager", "4f1c0a").value(), "v2");
}

TEST(InMemoryVerificationStoreTest, AnotherCallersVerificationIsNotFound) {
  InMemoryVerificationStore store;
  ASSERT_TRUE(store.StartOrResend(Fresh("v1"), kNow).ok());
  EXPECT_EQ(store.Find("billing", "v1").value(), std::nullopt);
  EXPECT_EQ(store.FindPending("billing", "4f1c0a").value(), std::nullopt);
  EXPECT_EQ(store.Finish("billing", "v1", VerificationState::kCancelled).value(), false);
}

TEST(InMemoryVerificationStoreTest, AFailedStoreAnswersItsStatus) {
  InMemoryVerificationStore store;
  store.FailWith(absl::UnavailableError("redis is down"));
  EXPECT_EQ(store.StartOrResend(Fresh("v1"), kNow).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Find("pager", "v1").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::ingress::verification
