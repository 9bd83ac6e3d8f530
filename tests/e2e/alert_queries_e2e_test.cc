// AlertQuery's reads end to end (docs/adr/0008, "Queries are the caller's own"): alerts of one
// caller go through the whole suite (SendAlert at ingress, the workers, the Twilio sandbox and its
// status callbacks, audit in Postgres), some delivered, one undelivered with Twilio's error code,
// one a call, one abroad, two to the same recipient; then ListAlerts filters and pages them,
// GetAuditTrail and GetDeliveryReport account for them, WatchAlert follows a new one to its end,
// klaxonctl shows the same through the command line, and a second caller sees none of them.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/alert_status/alert_status.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"

namespace klaxon::e2e::alert_queries_test {
namespace {

using alerts::v1::Alert;
using alerts::v1::AuditEvent;
using alerts::v1::AuditTrail;
using alerts::v1::DeliveryReport;
using alerts::v1::DeliveryReportRow;
using alerts::v1::ListAlertsRequest;
using google::protobuf::util::TimeUtil;
using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// Long enough for consumer group joins on a loaded two-core machine.
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr char kText[] = "queries-e2e: disk full on db-4";
// Fictional numbers (555-04xx; 020 7946 0xxx is the UK's range for drama).
constexpr char kTwiceRecipient[] = "+14155550401";
constexpr char kUndeliveredRecipient[] = "+14155550402";
constexpr char kCalledRecipient[] = "+14155550403";
constexpr char kAbroadRecipient[] = "+442079460404";
constexpr char kWatchedRecipient[] = "+14155550405";
constexpr int32_t kUnreachableHandset = 30003;

// Equal to DeliveryReportRow{key, alerts, succeeded, failed, not_sent 0, pending 0} and its
// success rate.
MATCHER_P5(RowIs, key, alerts, succeeded, failed, success_rate, "") {
  const DeliveryReportRow& row = arg;
  return row.key() == key && row.alerts() == alerts && row.succeeded() == succeeded &&
         row.failed() == failed && row.not_sent() == 0 && row.pending() == 0 &&
         std::abs(row.success_rate() - success_rate) < 1e-9;
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

std::vector<std::string> Ids(const std::vector<Alert>& alerts) {
  std::vector<std::string> ids;
  for (const Alert& alert : alerts) ids.push_back(alert.alert_id());
  return ids;
}

// The whole stream of one WatchAlert: every alert it wrote and how it ended.
struct Watched {
  std::vector<Alert> alerts;
  grpc::Status status;
};

// What klaxonctl printed (stdout and stderr) and its exit code.
struct CliRun {
  int exit_code = -1;
  std::string output;
};

class AlertQueriesE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  // One suite and one set of alerts for every test: starting the suite and driving the alerts to
  // their ends is most of the time this takes. Tests that send more do it after `sent_before_`,
  // so the seeded period stays as it was.
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(StartSharedSuite());
    ASSERT_NO_FATAL_FAILURE(SeedAlerts());
    seeded_ = true;
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedSuiteTest::SetUp());
    ASSERT_TRUE(seeded_) << "the alerts were not seeded: see the failures of SetUpTestSuite";
  }

  // The first caller's alerts, sent in this order, with a second caller's alert to a recipient
  // the first also uses in between; then waits until each has ended as expected.
  static void SeedAlerts() {
    suite_->AddSandboxFaults(
        absl::StrCat(R"({"type": "delivery", "kind": "message", "to": ")", kUndeliveredRecipient,
                     R"(", "outcome": "undelivered", "error_code": )", kUnreachableHandset, "}"));
    sent_from_ = absl::Now();
    first_ = Send(types::v1::CHANNEL_SMS, kTwiceRecipient, "first");
    other_callers_ = Send(types::v1::CHANNEL_SMS, kTwiceRecipient, "other", Suite::kOtherApiKey);
    second_ = Send(types::v1::CHANNEL_SMS, kTwiceRecipient, "second");
    undelivered_ = Send(types::v1::CHANNEL_SMS, kUndeliveredRecipient, "undelivered");
    middle_ = absl::Now();
    called_ = Send(types::v1::CHANNEL_VOICE, kCalledRecipient, "called");
    abroad_ = Send(types::v1::CHANNEL_SMS, kAbroadRecipient, "abroad");
    sent_before_ = absl::Now();

    auto query = suite_->QueryStub();
    for (const auto& [alert_id, status] :
         std::vector<std::pair<std::string, types::v1::AlertStatus>>{
             {first_, types::v1::ALERT_STATUS_DELIVERED},
             {second_, types::v1::ALERT_STATUS_DELIVERED},
             {undelivered_, types::v1::ALERT_STATUS_UNDELIVERED},
             {called_, types::v1::ALERT_STATUS_DELIVERED},
             {abroad_, types::v1::ALERT_STATUS_DELIVERED}}) {
      ASSERT_FALSE(alert_id.empty());
      ASSERT_EQ(WaitForStatus(*query, alert_id, status, kWait).status(), status) << alert_id;
    }
    ASSERT_FALSE(other_callers_.empty());
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(other_callers_);
    Alert other;
    const grpc::Status rpc =
        query->GetAlert(Suite::CallContext(kWait, Suite::kOtherApiKey).get(), request, &other);
    ASSERT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
  }

  // Sends an alert as the caller of `api_key` and returns its id; a refusal fails the test. A call
  // is made once: no second call to wait for.
  static std::string Send(types::v1::Channel channel, const std::string& recipient,
                          const std::string& key, const std::string& api_key = Suite::kApiKey) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    if (channel == types::v1::CHANNEL_VOICE) request.mutable_voice()->set_max_calls(1);
    request.set_recipient(recipient);
    request.set_text(kText);
    request.set_idempotency_key(key);
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc = suite_->IntakeStub()->SendAlert(
        Suite::CallContext(absl::Seconds(10), api_key).get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response.alert_id();
  }

  // A request for the first caller's seeded alerts, from `from` until before `before`.
  static ListAlertsRequest Between(absl::Time from, absl::Time before) {
    ListAlertsRequest request;
    *request.mutable_created_from() = ToTimestamp(from);
    *request.mutable_created_before() = ToTimestamp(before);
    return request;
  }
  static ListAlertsRequest Seeded() { return Between(sent_from_, sent_before_); }

  // Every alert ListAlerts returns for `request`, page after page; an error, a page larger than
  // asked or one that never ends fails the test.
  static std::vector<Alert> ListAll(ListAlertsRequest request,
                                    const std::string& api_key = Suite::kApiKey) {
    constexpr int kMaxPages = 100;
    auto query = suite_->QueryStub();
    std::vector<Alert> alerts;
    for (int page = 0; page < kMaxPages; ++page) {
      alerts::v1::ListAlertsResponse response;
      const grpc::Status rpc = query->ListAlerts(
          Suite::CallContext(absl::Seconds(10), api_key).get(), request, &response);
      EXPECT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
      if (request.page_size() > 0) {
        EXPECT_LE(response.alerts_size(), request.page_size());
      }
      alerts.insert(alerts.end(), response.alerts().begin(), response.alerts().end());
      if (!rpc.ok() || response.next_page_token().empty()) return alerts;
      request.set_page_token(response.next_page_token());
    }
    ADD_FAILURE() << "ListAlerts still had pages after " << kMaxPages;
    return alerts;
  }

  static std::vector<std::string> ListIds(ListAlertsRequest request,
                                          const std::string& api_key = Suite::kApiKey) {
    return Ids(ListAll(std::move(request), api_key));
  }

  static Watched Watch(const std::string& alert_id, const std::string& api_key = Suite::kApiKey) {
    auto query = suite_->QueryStub();
    const auto context = Suite::CallContext(kWait, api_key);
    alerts::v1::WatchAlertRequest request;
    request.set_alert_id(alert_id);
    const std::unique_ptr<grpc::ClientReader<Alert>> reader =
        query->WatchAlert(context.get(), request);
    Watched watched;
    Alert alert;
    while (reader->Read(&alert)) watched.alerts.push_back(alert);
    watched.status = reader->Finish();
    return watched;
  }

  static grpc::Status GetAuditTrail(const std::string& alert_id, const std::string& api_key,
                                    AuditTrail* trail) {
    alerts::v1::GetAuditTrailRequest request;
    request.set_alert_id(alert_id);
    return suite_->QueryStub()->GetAuditTrail(Suite::CallContext(absl::Seconds(10), api_key).get(),
                                              request, trail);
  }

  // The trail of an SMS once it holds Twilio's acceptance and the callback that reported
  // `reported`: an outcome and a callback arrive by different topics, so either may come last.
  static AuditTrail WaitForTrail(const std::string& alert_id, types::v1::AlertStatus reported) {
    return e2e::WaitForTrail(
        *suite_->QueryStub(), alert_id,
        [reported](const AuditTrail& trail) {
          bool accepted = false;
          bool callback = false;
          for (const AuditEvent& event : trail.events()) {
            accepted = accepted || event.kind() == "accepted";
            callback = callback || (event.kind() == "message_status" && event.status() == reported);
          }
          return accepted && callback;
        },
        kWait);
  }

  static DeliveryReport GetDeliveryReport(absl::Time from, absl::Time before,
                                          const std::string& api_key = Suite::kApiKey) {
    alerts::v1::GetDeliveryReportRequest request;
    *request.mutable_from() = ToTimestamp(from);
    *request.mutable_before() = ToTimestamp(before);
    DeliveryReport report;
    const grpc::Status rpc = suite_->QueryStub()->GetDeliveryReport(
        Suite::CallContext(absl::Seconds(10), api_key).get(), request, &report);
    EXPECT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
    return report;
  }

  // Runs the built klaxonctl against audit as the first caller, with nothing from the test's
  // environment but the sanitizer settings.
  static CliRun Klaxonctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {suite_->Binary("klaxonctl"), "--audit", suite_->AuditAddress(),
                                     "--api-key", Suite::kApiKey};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ChildProcess process(
        argv, testing::SanitizerEnvironment(),
        absl::StrCat(suite_->LogDir(), "/klaxonctl-", ++klaxonctl_runs_, ".log"));
    const std::optional<int> exit_code = process.WaitForExit(kWait);
    EXPECT_TRUE(exit_code.has_value())
        << "klaxonctl " << absl::StrJoin(args, " ") << " did not exit within " << kWait;
    return {.exit_code = exit_code.value_or(-1), .output = process.Log()};
  }

  static std::string Rfc3339(absl::Time time) {
    return absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone());
  }

  static inline bool seeded_ = false;
  static inline int klaxonctl_runs_ = 0;  // names each run's log
  static inline absl::Time sent_from_;
  static inline absl::Time middle_;  // after undelivered_, before called_
  static inline absl::Time sent_before_;
  static inline std::string first_;          // SMS to kTwiceRecipient, delivered
  static inline std::string second_;         // SMS to kTwiceRecipient, delivered
  static inline std::string undelivered_;    // SMS, undelivered with kUnreachableHandset
  static inline std::string called_;         // call, answered: delivered
  static inline std::string abroad_;         // SMS to +44, delivered
  static inline std::string other_callers_;  // the second caller's SMS to kTwiceRecipient
};

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, ListAlertsByRecipientReturnsOnlyThatRecipients) {
  ListAlertsRequest request;
  request.set_recipient(kTwiceRecipient);
  const std::vector<Alert> alerts = ListAll(request);
  EXPECT_THAT(Ids(alerts), UnorderedElementsAre(first_, second_));
  for (const Alert& alert : alerts) {
    EXPECT_EQ(alert.recipient_country_code(), "1");
    EXPECT_EQ(alert.recipient_last4(), "0401");
    // A list holds no personal data and no attempts; GetAlert has them.
    EXPECT_EQ(alert.recipient(), "");
    EXPECT_EQ(alert.text(), "");
    EXPECT_EQ(alert.attempts_size(), 0);
  }
  request.set_recipient(kAbroadRecipient);
  EXPECT_THAT(ListIds(request), ElementsAre(abroad_));
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, ListAlertsByStatusReturnsThoseThatEndedSo) {
  ListAlertsRequest request = Seeded();
  request.set_status(types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_THAT(ListIds(request), UnorderedElementsAre(first_, second_, called_, abroad_));
  request.set_status(types::v1::ALERT_STATUS_UNDELIVERED);
  const std::vector<Alert> undelivered = ListAll(request);
  ASSERT_THAT(Ids(undelivered), ElementsAre(undelivered_));
  EXPECT_EQ(undelivered[0].twilio_error_code(), kUnreachableHandset);
  request.set_status(types::v1::ALERT_STATUS_FAILED);
  EXPECT_THAT(ListIds(request), IsEmpty());
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, ListAlertsByChannelReturnsThatChannels) {
  ListAlertsRequest request = Seeded();
  request.set_channel(types::v1::CHANNEL_VOICE);
  EXPECT_THAT(ListIds(request), ElementsAre(called_));
  request.set_channel(types::v1::CHANNEL_SMS);
  EXPECT_THAT(ListIds(request), UnorderedElementsAre(first_, second_, undelivered_, abroad_));
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, ListAlertsByTimeRangeExcludesAlertsOutsideIt) {
  EXPECT_THAT(ListIds(Between(sent_from_, middle_)),
              UnorderedElementsAre(first_, second_, undelivered_));
  EXPECT_THAT(ListIds(Between(middle_, sent_before_)), UnorderedElementsAre(called_, abroad_));
  EXPECT_THAT(ListIds(Between(sent_from_ - absl::Hours(1), sent_from_)), IsEmpty());
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, ListAlertsPagesNewestFirstWithoutRepeatsOrGaps) {
  ListAlertsRequest request = Seeded();
  request.set_page_size(2);
  // ListAll checks each page holds at most two; five alerts take three pages.
  const std::vector<std::string> paged = ListIds(request);
  EXPECT_THAT(paged, ElementsAre(abroad_, called_, undelivered_, second_, first_));
  EXPECT_EQ(paged, ListIds(Seeded()));  // the same as one page of the default size

  alerts::v1::ListAlertsResponse page;
  ASSERT_TRUE(suite_->QueryStub()->ListAlerts(Suite::CallContext().get(), request, &page).ok());
  EXPECT_EQ(page.alerts_size(), 2);
  EXPECT_NE(page.next_page_token(), "");
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, AnotherCallerSeesNoneOfTheAlerts) {
  ListAlertsRequest request;
  EXPECT_THAT(ListIds(request, Suite::kOtherApiKey), ElementsAre(other_callers_));
  request.set_recipient(kTwiceRecipient);
  EXPECT_THAT(ListIds(request, Suite::kOtherApiKey), ElementsAre(other_callers_));

  auto query = suite_->QueryStub();
  for (const std::string& alert_id : {first_, second_, undelivered_, called_, abroad_}) {
    SCOPED_TRACE(alert_id);
    alerts::v1::GetAlertRequest get;
    get.set_alert_id(alert_id);
    Alert alert;
    EXPECT_EQ(query->GetAlert(Suite::CallContext(kWait, Suite::kOtherApiKey).get(), get, &alert)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
    AuditTrail trail;
    EXPECT_EQ(GetAuditTrail(alert_id, Suite::kOtherApiKey, &trail).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(trail.events(), IsEmpty());
    const Watched watched = Watch(alert_id, Suite::kOtherApiKey);
    EXPECT_EQ(watched.status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(watched.alerts, IsEmpty());
  }

  const DeliveryReport report = GetDeliveryReport(sent_from_, sent_before_, Suite::kOtherApiKey);
  EXPECT_THAT(report.total(), RowIs("", 1, 1, 0, 1.0));
  EXPECT_THAT(report.by_channel(), ElementsAre(RowIs("sms", 1, 1, 0, 1.0)));
  EXPECT_THAT(report.by_error_code(), IsEmpty());
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, WatchAlertFollowsANewAlertUntilDelivered) {
  const std::string alert_id = Send(types::v1::CHANNEL_SMS, kWatchedRecipient, "watched");
  ASSERT_FALSE(alert_id.empty());
  const Watched watched = Watch(alert_id);

  // The stream ended by itself, before its deadline, after the final status.
  EXPECT_TRUE(watched.status.ok())
      << watched.status.error_code() << " " << watched.status.error_message();
  ASSERT_THAT(watched.alerts, Not(IsEmpty()));
  EXPECT_EQ(watched.alerts.back().status(), types::v1::ALERT_STATUS_DELIVERED);
  for (size_t i = 0; i < watched.alerts.size(); ++i) {
    const Alert& alert = watched.alerts[i];
    SCOPED_TRACE(absl::StrCat("message ", i, ": ", alert.ShortDebugString()));
    EXPECT_EQ(alert.alert_id(), alert_id);
    EXPECT_EQ(alert.recipient(), "");
    EXPECT_EQ(alert.text(), "");
    if (i == 0) continue;
    // A message only for a change, and never back to a lower rank.
    const types::v1::AlertStatus before = watched.alerts[i - 1].status();
    EXPECT_NE(alert.status(), before);
    EXPECT_GE(alert_status::Rank(alert.status()), alert_status::Rank(before));
  }
  const Alert now =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(now.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(watched.alerts.back().twilio_sid(), now.twilio_sid());
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, AuditTrailListsTheEventsInOrderWithoutPersonalData) {
  const AuditTrail trail = WaitForTrail(first_, types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(trail.alert_id(), first_);
  ASSERT_THAT(trail.events(), Not(IsEmpty()));
  EXPECT_EQ(trail.events(0).kind(), "requested");
  EXPECT_EQ(trail.events(0).status(), types::v1::ALERT_STATUS_QUEUED);

  // Where each event sits. Only the request's place is fixed: the sandbox posts its callbacks
  // concurrently, so, as with Twilio, "delivered" may arrive before "sent" (TWILIO.md), and the
  // worker's acceptance may be stamped after both, since the sandbox calls back 10 ms after
  // accepting. The trail lists each in the order it was recorded.
  std::optional<int> accepted;
  std::optional<int> sent_callback;
  std::optional<int> delivered_callback;
  const std::string sid =
      WaitForStatus(*suite_->QueryStub(), first_, types::v1::ALERT_STATUS_DELIVERED, kWait)
          .twilio_sid();
  for (int i = 0; i < trail.events_size(); ++i) {
    const AuditEvent& event = trail.events(i);
    SCOPED_TRACE(absl::StrCat("event ", i, ": ", event.ShortDebugString()));
    if (i > 0) {
      EXPECT_LE(TimeUtil::TimestampToMicroseconds(trail.events(i - 1).occurred_at()),
                TimeUtil::TimestampToMicroseconds(event.occurred_at()));
    }
    EXPECT_EQ(event.attempt(), 1u);
    EXPECT_EQ(event.channel(), types::v1::CHANNEL_SMS);
    if (event.kind() == "accepted") {
      accepted = i;
      EXPECT_EQ(event.status(), types::v1::ALERT_STATUS_SENT);
      EXPECT_EQ(event.twilio_sid(), sid);
    } else if (event.kind() == "message_status") {
      EXPECT_EQ(event.twilio_sid(), sid);
      if (event.status() == types::v1::ALERT_STATUS_SENT) sent_callback = i;
      if (event.status() == types::v1::ALERT_STATUS_DELIVERED) delivered_callback = i;
    }
  }
  ASSERT_TRUE(accepted.has_value() && sent_callback.has_value() && delivered_callback.has_value())
      << trail.DebugString();
  EXPECT_GT(*accepted, 0);
  EXPECT_GT(*sent_callback, 0);
  EXPECT_GT(*delivered_callback, 0);

  // Only GetAlert opens the recipient and the text; the trail has neither, in any form.
  const std::string printed = trail.DebugString();
  EXPECT_THAT(printed, Not(HasSubstr(std::string(kTwiceRecipient).substr(1))));
  EXPECT_THAT(printed, Not(HasSubstr(kText)));

  const AuditTrail undelivered = WaitForTrail(undelivered_, types::v1::ALERT_STATUS_UNDELIVERED);
  bool reported = false;
  for (const AuditEvent& event : undelivered.events()) {
    if (event.kind() != "message_status" || event.status() != types::v1::ALERT_STATUS_UNDELIVERED) {
      continue;
    }
    reported = true;
    EXPECT_EQ(event.twilio_error_code(), kUnreachableHandset);
    EXPECT_THAT(event.reason(), HasSubstr("30003"));
  }
  EXPECT_TRUE(reported) << undelivered.DebugString();
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, DeliveryReportCountsWhatWasSent) {
  const DeliveryReport report = GetDeliveryReport(sent_from_, sent_before_);
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(report.from()), absl::ToUnixMicros(sent_from_));
  EXPECT_EQ(TimeUtil::TimestampToMicroseconds(report.before()), absl::ToUnixMicros(sent_before_));
  // The second caller's alert of the same period is not counted.
  EXPECT_THAT(report.total(), RowIs("", 5, 4, 1, 0.8));
  EXPECT_THAT(report.by_channel(),
              ElementsAre(RowIs("sms", 4, 3, 1, 0.75), RowIs("voice", 1, 1, 0, 1.0)));
  EXPECT_THAT(report.by_country(),
              ElementsAre(RowIs("1", 4, 3, 1, 0.75), RowIs("44", 1, 1, 0, 1.0)));
  EXPECT_THAT(report.by_error_code(),
              ElementsAre(RowIs(absl::StrCat(kUnreachableHandset), 1, 0, 1, 0.0)));

  EXPECT_THAT(GetDeliveryReport(sent_from_ - absl::Hours(1), sent_from_).total(),
              RowIs("", 0, 0, 0, 0.0));
}

TEST_F(AlertQueriesE2eKafkaRedisPostgresTest, KlaxonctlListsWatchesTrailsAndReports) {
  const CliRun list =
      Klaxonctl({"list", "--from", Rfc3339(sent_from_), "--before", Rfc3339(sent_before_)});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  // One row per alert: id, status, channel, masked recipient.
  EXPECT_THAT(list.output, ContainsRegex(absl::StrCat(first_, " +DELIVERED +sms +\\+1 ••• 0401")));
  EXPECT_THAT(list.output, ContainsRegex(absl::StrCat(second_, " +DELIVERED +sms +\\+1 ••• 0401")));
  EXPECT_THAT(list.output,
              ContainsRegex(absl::StrCat(undelivered_, " +UNDELIVERED +sms +\\+1 ••• 0402")));
  EXPECT_THAT(list.output,
              ContainsRegex(absl::StrCat(called_, " +DELIVERED +voice +\\+1 ••• 0403")));
  EXPECT_THAT(list.output,
              ContainsRegex(absl::StrCat(abroad_, " +DELIVERED +sms +\\+44 ••• 0404")));
  EXPECT_THAT(list.output, Not(HasSubstr(other_callers_)));

  // No --max-wait: as a person would run it, trusting the stream to end.
  const CliRun watch = Klaxonctl({"watch", undelivered_});
  EXPECT_EQ(watch.exit_code, 0) << watch.output;
  EXPECT_THAT(watch.output, ContainsRegex("UNDELIVERED +30003: "));

  WaitForTrail(first_, types::v1::ALERT_STATUS_DELIVERED);
  const CliRun trail = Klaxonctl({"trail", first_});
  EXPECT_EQ(trail.exit_code, 0) << trail.output;
  EXPECT_THAT(trail.output, HasSubstr(absl::StrCat("alert id    ", first_)));
  EXPECT_THAT(trail.output, ContainsRegex("requested +#1 +sms +QUEUED"));
  EXPECT_THAT(trail.output, ContainsRegex("accepted +#1 +sms +SENT +SM"));
  EXPECT_THAT(trail.output, ContainsRegex("message_status +#1 +sms +DELIVERED +SM"));
  EXPECT_THAT(trail.output, Not(HasSubstr(std::string(kTwiceRecipient).substr(1))));
  EXPECT_THAT(trail.output, Not(HasSubstr(kText)));

  const CliRun report =
      Klaxonctl({"report", "--from", Rfc3339(sent_from_), "--before", Rfc3339(sent_before_)});
  EXPECT_EQ(report.exit_code, 0) << report.output;
  // ALERTS SUCCEEDED FAILED NOT-SENT PENDING SUCCESS
  EXPECT_THAT(report.output, ContainsRegex("total +5 +4 +1 +0 +0 +80\\.0%"));
  EXPECT_THAT(report.output, ContainsRegex("sms +4 +3 +1 +0 +0 +75\\.0%"));
  EXPECT_THAT(report.output, ContainsRegex("voice +1 +1 +0 +0 +0 +100\\.0%"));
  EXPECT_THAT(report.output, ContainsRegex("country \\+1 +4 +3 +1 +0 +0 +75\\.0%"));
  EXPECT_THAT(report.output, ContainsRegex("country \\+44 +1 +1 +0 +0 +0 +100\\.0%"));
  EXPECT_THAT(report.output, ContainsRegex("error 30003 +1 +0 +1 +0 +0 +0\\.0%"));
}

}  // namespace
}  // namespace klaxon::e2e::alert_queries_test
