#include "services/audit/query/alert_search.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/testing/fake_alert_queries.h"

namespace klaxon::audit::alert_search_test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kBlindIndexKey[] = "a test key for the recipient blind index, 32+ bytes";
constexpr char kRecipient[] = "+14155550100";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'000'000);

std::string AlertId(int n) {
  char id[37];
  std::snprintf(id, sizeof(id), "0190f1c4-7a3e-7b12-9c4d-%012d", n);
  return id;
}

AlertRecord Alert(int n, std::string caller = "billing") {
  return {.alert_id = AlertId(n),
          .caller = std::move(caller),
          .channel = n % 2 == 0 ? klaxon::types::v1::CHANNEL_SMS : klaxon::types::v1::CHANNEL_VOICE,
          .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
          .requested = true,
          .recipient_country_code = "1",
          .recipient_last4 = "0100",
          // Several alerts share a creation time, so the id has to break ties.
          .created_at = kT0 + absl::Seconds(n / 3)};
}

class AlertSearchTest : public ::testing::Test {
 protected:
  crypto::BlindIndex blind_index_ = crypto::BlindIndex::Create(kBlindIndexKey).value();
  FakeAlertQueries queries_;
  AlertSearch search_{queries_, blind_index_};
};

TEST_F(AlertSearchTest, PagesThroughEveryAlertNewestFirstWithoutDuplicatesOrGaps) {
  for (int n = 0; n < 23; ++n) queries_.Put(Alert(n));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<AlertPage> page =
        search_.ListAlerts("billing", {.page_size = 5, .page_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const AlertRecord& alert : page->alerts) seen.push_back(alert.alert_id);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(seen.size(), 23u);
  for (int n = 0; n < 23; ++n) EXPECT_EQ(seen[static_cast<size_t>(n)], AlertId(22 - n));
}

TEST_F(AlertSearchTest, LastFullPageHasNoNextToken) {
  for (int n = 0; n < 5; ++n) queries_.Put(Alert(n));
  absl::StatusOr<AlertPage> page = search_.ListAlerts("billing", {.page_size = 5});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->alerts.size(), 5u);
  EXPECT_THAT(page->next_page_token, IsEmpty());
}

TEST_F(AlertSearchTest, PageSizeZeroMeansFifty) {
  ASSERT_TRUE(search_.ListAlerts("billing", {}).ok());
  EXPECT_EQ(queries_.last_limit(), kDefaultPageSize + 1);
}

TEST_F(AlertSearchTest, PageSizeOutOfRangeIsInvalidArgumentNamingTheField) {
  for (int32_t size : {-1, 501}) {
    absl::StatusOr<AlertPage> page = search_.ListAlerts("billing", {.page_size = size});
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(page.status().message(), HasSubstr("page_size"));
  }
}

TEST_F(AlertSearchTest, RecipientFiltersByItsBlindIndex) {
  queries_.Put(Alert(1), blind_index_.Compute(kRecipient));
  queries_.Put(Alert(2), blind_index_.Compute("+14155550199"));
  absl::StatusOr<AlertPage> page = search_.ListAlerts("billing", {.recipient = kRecipient});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->alerts.size(), 1u);
  EXPECT_EQ(page->alerts[0].alert_id, AlertId(1));
  EXPECT_EQ(queries_.last_filter().recipient_index, blind_index_.Compute(kRecipient));
}

TEST_F(AlertSearchTest, MalformedRecipientIsInvalidArgumentWithoutTheNumber) {
  absl::StatusOr<AlertPage> page = search_.ListAlerts("billing", {.recipient = "4155550100"});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(page.status().message(), HasSubstr("recipient"));
  EXPECT_THAT(std::string(page.status().message()), ::testing::Not(HasSubstr("4155550100")));
}

TEST_F(AlertSearchTest, StatusChannelAndPeriodReachTheQuery) {
  ASSERT_TRUE(search_
                  .ListAlerts("billing", {.status = klaxon::types::v1::ALERT_STATUS_FAILED,
                                          .channel = klaxon::types::v1::CHANNEL_VOICE,
                                          .created_from = kT0,
                                          .created_before = kT0 + absl::Hours(1)})
                  .ok());
  const AlertFilter filter = queries_.last_filter();
  EXPECT_EQ(filter.caller, "billing");
  EXPECT_EQ(filter.status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(filter.channel, klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(filter.created_from, kT0);
  EXPECT_EQ(filter.created_before, kT0 + absl::Hours(1));
  EXPECT_FALSE(filter.recipient_index.has_value());
}

TEST_F(AlertSearchTest, UnknownChannelIsInvalidArgument) {
  absl::StatusOr<AlertPage> page =
      search_.ListAlerts("billing", {.channel = static_cast<Channel>(7)});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(page.status().message(), HasSubstr("channel"));
}

TEST_F(AlertSearchTest, EmptyPeriodIsInvalidArgument) {
  absl::StatusOr<AlertPage> page =
      search_.ListAlerts("billing", {.created_from = kT0, .created_before = kT0});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(page.status().message(), HasSubstr("created_before"));
}

TEST_F(AlertSearchTest, TokenIsRefusedWhenTheFiltersChange) {
  for (int n = 0; n < 3; ++n) queries_.Put(Alert(n));
  absl::StatusOr<AlertPage> first = search_.ListAlerts("billing", {.page_size = 1});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<AlertPage> next =
      search_.ListAlerts("billing", {.status = klaxon::types::v1::ALERT_STATUS_QUEUED,
                                     .page_size = 1,
                                     .page_token = first->next_page_token});
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(next.status().message(), HasSubstr("page_token"));
  EXPECT_THAT(next.status().message(), HasSubstr("other filters"));
}

TEST_F(AlertSearchTest, TokenOfAnotherCallerIsRefused) {
  for (int n = 0; n < 3; ++n) queries_.Put(Alert(n));
  absl::StatusOr<AlertPage> first = search_.ListAlerts("billing", {.page_size = 1});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(search_.ListAlerts("payments", {.page_size = 1, .page_token = first->next_page_token})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AlertSearchTest, MalformedTokensAreInvalidArgumentNamingTheField) {
  for (const std::string& token :
       {std::string("not base64!"), absl::WebSafeBase64Escape("12:not-a-uuid:abcd"),
        absl::WebSafeBase64Escape("x:" + AlertId(1) + ":abcd"),
        absl::WebSafeBase64Escape("only-one-part")}) {
    absl::StatusOr<AlertPage> page = search_.ListAlerts("billing", {.page_token = token});
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_THAT(page.status().message(), HasSubstr("page_token")) << token;
  }
}

TEST(PageTokenTest, RoundTripsThePosition) {
  const AlertFilter filter{.caller = "billing", .status = klaxon::types::v1::ALERT_STATUS_SENT};
  const ListCursor cursor{.created_at = kT0 + absl::Microseconds(7), .alert_id = AlertId(9)};
  absl::StatusOr<ListCursor> decoded = DecodePageToken(filter, EncodePageToken(filter, cursor));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, cursor);
}

TEST_F(AlertSearchTest, AuditTrailOfAnotherCallersAlertIsNotFound) {
  queries_.Put(Alert(1, "payments"));
  EXPECT_EQ(search_.GetAuditTrail("billing", AlertId(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AlertSearchTest, AuditTrailReturnsTheEvents) {
  queries_.Put(Alert(1));
  queries_.AddEvent(AlertId(1), {.occurred_at = kT0, .kind = "requested"});
  absl::StatusOr<std::vector<AuditEventRecord>> trail =
      search_.GetAuditTrail("billing", AlertId(1));
  ASSERT_TRUE(trail.ok()) << trail.status();
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ((*trail)[0].kind, "requested");
}

TEST_F(AlertSearchTest, AuditTrailOfMalformedIdIsInvalidArgument) {
  EXPECT_EQ(search_.GetAuditTrail("billing", "nope").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AlertSearchTest, ReportNeedsFromAndBefore) {
  absl::StatusOr<DeliveryReportRecord> report =
      search_.GetDeliveryReport("billing", std::nullopt, kT0);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("from"));
  report = search_.GetDeliveryReport("billing", kT0, std::nullopt);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("before"));
}

TEST_F(AlertSearchTest, ReportBeforeMustFollowFrom) {
  absl::StatusOr<DeliveryReportRecord> report = search_.GetDeliveryReport("billing", kT0, kT0);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("before"));
}

TEST_F(AlertSearchTest, ReportSpansAtMost366Days) {
  EXPECT_TRUE(search_.GetDeliveryReport("billing", kT0, kT0 + absl::Hours(366 * 24)).ok());
  absl::StatusOr<DeliveryReportRecord> report =
      search_.GetDeliveryReport("billing", kT0, kT0 + absl::Hours(366 * 24) + absl::Seconds(1));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("366 days"));
}

TEST(SuccessRateTest, IsSucceededOverEnded) {
  EXPECT_DOUBLE_EQ(
      SuccessRate({.alerts = 10, .succeeded = 3, .failed = 1, .not_sent = 4, .pending = 2}), 0.75);
}

TEST(SuccessRateTest, IsZeroWhenNothingEnded) {
  EXPECT_DOUBLE_EQ(SuccessRate({.alerts = 4, .not_sent = 2, .pending = 2}), 0);
}

}  // namespace
}  // namespace klaxon::audit::alert_search_test
