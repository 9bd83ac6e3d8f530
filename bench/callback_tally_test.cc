#include "bench/callback_tally.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/caller_callbacks/signature.h"
#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

using std::chrono::milliseconds;

const absl::Time kStart = absl::FromUnixSeconds(1'795'000'000);
constexpr char kSecret[] = "bench-callback-secret-0123456789";

CallerCallback Change(std::string alert_id, int64_t sequence,
                      std::string status = "ALERT_STATUS_SENT") {
  return {.alert_id = std::move(alert_id),
          .sequence = sequence,
          .status = std::move(status),
          .occurred_at = kStart};
}

CallbackSummary Summarize(const CallbackTally& tally) {
  return tally.Summarize(kStart, kStart + absl::Seconds(60));
}

// Audit's body for a change of alert `alert_id`.
std::string Body(const std::string& alert_id, int64_t sequence) {
  return absl::StrCat(R"({"alert_id":")", alert_id, R"(","sequence":)", sequence,
                      R"(,"caller":"local","channel":"CHANNEL_SMS","status":"ALERT_STATUS_SENT",)",
                      R"("attempt":1,"error_code":0,"reason":"",)",
                      R"("occurred_at":"2026-11-25T07:00:00.123456Z"})");
}

// A POST as audit sends it: signed with `secret` at `signed_at`, its event id `event_id`.
http::Request SignedPost(std::string body, std::string event_id, absl::Time signed_at,
                         std::string_view secret = kSecret) {
  const int64_t timestamp = absl::ToUnixSeconds(signed_at);
  http::Request request{.method = "POST", .target = "/cb", .path = "/cb"};
  request.headers = {
      {caller_callbacks::kTimestampHeader, absl::StrCat(timestamp)},
      {caller_callbacks::kSignatureHeader, caller_callbacks::Sign(secret, timestamp, body)},
      {caller_callbacks::kEventIdHeader, std::move(event_id)}};
  request.body = std::move(body);
  return request;
}

TEST(ParseCallerCallbackTest, ReadsAuditsBody) {
  const absl::StatusOr<CallerCallback> callback = ParseCallerCallback(Body("a-1", 2));
  ASSERT_TRUE(callback.ok()) << callback.status();
  EXPECT_EQ(callback->alert_id, "a-1");
  EXPECT_EQ(callback->sequence, 2);
  EXPECT_EQ(callback->status, "ALERT_STATUS_SENT");
  EXPECT_EQ(callback->occurred_at,
            absl::FromCivil(absl::CivilSecond(2026, 11, 25, 7, 0, 0), absl::UTCTimeZone()) +
                absl::Microseconds(123456));
}

TEST(ParseCallerCallbackTest, RefusesASequenceBelowOne) {
  const absl::StatusOr<CallerCallback> callback = ParseCallerCallback(Body("a-1", 0));
  EXPECT_EQ(callback.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseCallerCallbackTest, RefusesATimeThatIsNotRfc3339) {
  const absl::StatusOr<CallerCallback> callback = ParseCallerCallback(
      R"({"alert_id":"a","sequence":1,"status":"ALERT_STATUS_SENT","occurred_at":"yesterday"})");
  EXPECT_EQ(callback.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseCallerCallbackTest, RefusesSomethingOtherThanAnObject) {
  EXPECT_EQ(ParseCallerCallback("[1,2]").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCallerCallback("{").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CallbackTallyTest, DelayRunsFromOccurredAtToReceipt) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 1), kStart + absl::Milliseconds(40));
  tally.Received(Change("a", 2), kStart + absl::Milliseconds(90));
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.changes, 2);
  EXPECT_EQ(summary.delay.p50, milliseconds(40));
  EXPECT_EQ(summary.delay.max, milliseconds(90));
}

TEST(CallbackTallyTest, ARepeatIsCountedOnceAsRepeatedAndNotAsAChange) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 1), kStart);
  tally.Received(Change("a", 2), kStart);
  tally.Received(Change("a", 2), kStart + absl::Seconds(5));
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.changes, 2);
  EXPECT_EQ(summary.repeated, 1);
  EXPECT_EQ(summary.out_of_order, 0);
  EXPECT_EQ(summary.delay.max, milliseconds(0));  // the repeat's delay is left out
}

TEST(CallbackTallyTest, ALaterChangeBeforeAnEarlierOneIsOutOfOrderTwice) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 1), kStart);
  tally.Received(Change("a", 3), kStart);  // skips 2
  tally.Received(Change("a", 2), kStart);  // below the highest
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.out_of_order, 2);
  EXPECT_EQ(summary.repeated, 0);
  EXPECT_EQ(summary.alerts_with_gaps, 0);  // 2 came in the end
}

TEST(CallbackTallyTest, AFirstChangeOtherThanOneIsOutOfOrder) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 2), kStart);
  EXPECT_EQ(Summarize(tally).out_of_order, 1);
}

TEST(CallbackTallyTest, AChangeThatNeverCameIsAGap) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 1), kStart);
  tally.Received(Change("a", 3), kStart);
  EXPECT_EQ(Summarize(tally).alerts_with_gaps, 1);
}

TEST(CallbackTallyTest, LastStatusIsTheHighestSequencesNotTheLastArrival) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Sent("b");
  tally.Sent("c");
  tally.Received(Change("a", 1, "ALERT_STATUS_QUEUED"), kStart);
  tally.Received(Change("a", 3, std::string(kDeliveredStatus)), kStart);
  tally.Received(Change("a", 2, "ALERT_STATUS_SENT"), kStart);
  tally.Received(Change("b", 1, "ALERT_STATUS_QUEUED"), kStart);
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.alerts, 3);
  EXPECT_EQ(summary.last_delivered, 1);
  EXPECT_EQ(summary.last_not_delivered, 1);
  EXPECT_EQ(summary.without_callback, 1);
  EXPECT_EQ(summary.last_statuses.at("ALERT_STATUS_QUEUED"), 1);
  EXPECT_EQ(summary.statuses.at("ALERT_STATUS_QUEUED"), 2);
}

TEST(CallbackTallyTest, CallbackBeforeTheSendAlertAnswerStillJoins) {
  CallbackTally tally;
  tally.Received(Change("a", 1), kStart);
  tally.Sent("a");
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.changes, 1);
  EXPECT_EQ(summary.other_changes, 0);
}

TEST(CallbackTallyTest, ChangesOfAlertsNotSentByTheRunAreCountedApart) {
  CallbackTally tally;
  tally.Received(Change("probe", 1), kStart);
  tally.Received(Change("probe", 1), kStart);
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.changes, 0);
  EXPECT_EQ(summary.repeated, 0);
  EXPECT_EQ(summary.other_changes, 2);
  EXPECT_TRUE(tally.HasCallback("probe"));
}

TEST(CallbackTallyTest, RateCountsOnlyChangesWithinTheWindow) {
  CallbackTally tally;
  tally.Sent("a");
  tally.Received(Change("a", 1), kStart + absl::Seconds(1));
  tally.Received(Change("a", 2), kStart + absl::Seconds(2));
  tally.Received(Change("a", 3), kStart + absl::Seconds(12));
  const CallbackSummary summary = tally.Summarize(kStart, kStart + absl::Seconds(10));
  EXPECT_EQ(summary.changes_in_window, 2);
  EXPECT_DOUBLE_EQ(WindowRate(summary), 0.2);
  EXPECT_EQ(summary.last_after_window, std::chrono::seconds(2));
}

TEST(RecordCallbackRequestTest, RecordsASignedCallback) {
  CallbackTally tally;
  tally.Sent("a-1");
  RecordCallbackRequest(SignedPost(Body("a-1", 1), "a-1/1", kStart), kSecret, kStart, tally);
  EXPECT_EQ(Summarize(tally).changes, 1);
  EXPECT_EQ(tally.arrivals(), 1);
}

TEST(RecordCallbackRequestTest, CountsAWrongSecretAsASignatureFailure) {
  CallbackTally tally;
  tally.Sent("a-1");
  RecordCallbackRequest(SignedPost(Body("a-1", 1), "a-1/1", kStart, "another-secret"), kSecret,
                        kStart, tally);
  const CallbackSummary summary = Summarize(tally);
  EXPECT_EQ(summary.signature_failures, 1);
  EXPECT_EQ(summary.changes, 0);
}

TEST(RecordCallbackRequestTest, CountsATamperedBodyAsASignatureFailure) {
  CallbackTally tally;
  http::Request request = SignedPost(Body("a-1", 1), "a-1/1", kStart);
  request.body = Body("a-1", 2);
  RecordCallbackRequest(request, kSecret, kStart, tally);
  EXPECT_EQ(Summarize(tally).signature_failures, 1);
}

TEST(RecordCallbackRequestTest, CountsAnEventIdThatDiffersFromTheBodyAsMalformed) {
  CallbackTally tally;
  RecordCallbackRequest(SignedPost(Body("a-1", 1), "a-1/2", kStart), kSecret, kStart, tally);
  EXPECT_EQ(Summarize(tally).malformed, 1);
}

TEST(RecordCallbackRequestTest, CountsAGetAsMalformed) {
  CallbackTally tally;
  RecordCallbackRequest({.method = "GET", .target = "/cb", .path = "/cb"}, kSecret, kStart, tally);
  EXPECT_EQ(Summarize(tally).malformed, 1);
}

}  // namespace
}  // namespace klaxon::bench
