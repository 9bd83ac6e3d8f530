// Runs AlertQueryService in a real in-process gRPC server on a free loopback port, with fakes
// behind the store and Kafka ports.
#include "services/audit/query/alert_query_service.h"

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/testing/fake_alert_queries.h"
#include "services/audit/testing/fake_backed_reader.h"
#include "services/audit/testing/ingest.h"
#include "services/audit/testing/loopback_server.h"

namespace klaxon::audit::alert_query_service_test {
namespace {

using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kBillingKey[] = "billing-secret-key";
constexpr char kPaymentsKey[] = "payments-secret-key";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'250'000);
constexpr char kBlindIndexKey[] = "a test key for the recipient blind index, 32+ bytes";

auth::ApiKeyRegistry Keys() {
  absl::StatusOr<auth::ApiKeyRegistry> keys = auth::ApiKeyRegistry::Parse(
      "billing=" + auth::HashApiKey(kBillingKey) + ",payments=" + auth::HashApiKey(kPaymentsKey));
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *std::move(keys);
}

class AlertQueryServiceTest : public ::testing::Test, protected testing::FakeBackedReader {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(server_.Start<klaxon::alerts::v1::AlertQuery>(service_, stub_));
  }

  void TearDown() override {
    watcher_.Shutdown();
    server_.Shutdown();
  }

  void StoreQueuedAlert() {
    AlertEvent requested{.kind = AlertEvent::Kind::kRequested,
                         .alert_id = kAlertId,
                         .caller = "billing",
                         .channel = klaxon::types::v1::CHANNEL_VOICE,
                         .attempt = 1,
                         .occurred_at = kT0,
                         .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
                         .recipient_country_code = "44",
                         .recipient_last4 = "0123",
                         .twilio_sid = "",
                         .twilio_error_code = 0,
                         .reason = ""};
    ASSERT_TRUE(testing::Apply(store_, requested).ok());
  }

  // Moves the stored alert's first attempt on to `status`, `seconds` after kT0.
  void StoreOutcome(AlertStatus status, int64_t seconds) {
    AlertEvent outcome{.kind = AlertEvent::Kind::kOutcome,
                       .alert_id = kAlertId,
                       .caller = "billing",
                       .channel = klaxon::types::v1::CHANNEL_VOICE,
                       .attempt = 1,
                       .occurred_at = kT0 + absl::Seconds(seconds),
                       .status = status};
    ASSERT_TRUE(testing::Apply(store_, outcome).ok());
  }

  grpc::Status Call(const char* api_key, const std::string& alert_id,
                    klaxon::alerts::v1::Alert* alert) {
    grpc::ClientContext context;
    if (api_key != nullptr) context.AddMetadata("authorization", std::string("Bearer ") + api_key);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    klaxon::alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    return stub_->GetAlert(&context, request, alert);
  }

  double Requests(const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_get_alert_requests_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label.size() == 1 && metric.label[0].value == result) {
          return metric.counter.value;
        }
      }
    }
    return 0;
  }

  double QueryRequests(const std::string& rpc, const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_query_requests_total") continue;
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& label : metric.label) labels[label.name] = label.value;
        if (labels["rpc"] == rpc && labels["result"] == result) return metric.counter.value;
      }
    }
    return 0;
  }

  double OpenWatches() {
    for (const auto& family : registry_.Collect()) {
      if (family.name == "klaxon_audit_watch_streams") return family.metric.at(0).gauge.value;
    }
    return -1;
  }

  auth::ApiKeyRegistry keys_ = Keys();
  FakeAlertQueries queries_;
  crypto::BlindIndex blind_index_ = crypto::BlindIndex::Create(kBlindIndexKey).value();
  AlertSearch search_{queries_, blind_index_};
  AlertWatcher watcher_{reader_, metrics_, clock_, {.max_watchers = 2}};
  AlertQueryService service_{keys_,    reader_,  search_,
                             watcher_, metrics_, {.threads = 2, .max_queued = 16}};
  testing::LoopbackServer server_;
  std::unique_ptr<klaxon::alerts::v1::AlertQuery::Stub> stub_;
};

TEST_F(AlertQueryServiceTest, OwnAlertIsReturnedWithRecipientSummaryAndAttempts) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, kAlertId, &alert);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(alert.alert_id(), kAlertId);
  EXPECT_EQ(alert.status(), klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(alert.channel(), klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(alert.recipient_country_code(), "44");
  EXPECT_EQ(alert.recipient_last4(), "0123");
  EXPECT_EQ(alert.created_at().seconds(), 1'700'000'000);
  EXPECT_EQ(alert.created_at().nanos(), 250'000'000);
  ASSERT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(alert.attempts(0).number(), 1u);
  EXPECT_EQ(alert.attempts(0).status(), klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(Requests("ok"), 1);
}

TEST_F(AlertQueryServiceTest, AnotherCallersAlertIsNotFound) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(kPaymentsKey, kAlertId, &alert).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Requests("not_found"), 1);
}

TEST_F(AlertQueryServiceTest, MissingApiKeyIsUnauthenticated) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(nullptr, kAlertId, &alert).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AlertQueryServiceTest, UnknownApiKeyIsUnauthenticated) {
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call("guessed-key", kAlertId, &alert).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AlertQueryServiceTest, MalformedAlertIdIsInvalidArgumentNamingTheField) {
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, "0190F1C4", &alert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("alert_id"));
}

TEST_F(AlertQueryServiceTest, DatabaseDownIsUnavailable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(kBillingKey, kAlertId, &alert).error_code(), grpc::StatusCode::UNAVAILABLE);
}

grpc::ClientContext* Authorized(grpc::ClientContext& context, const char* api_key) {
  context.AddMetadata("authorization", std::string("Bearer ") + api_key);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return &context;
}

AlertRecord Listed(int n, AlertStatus status = klaxon::types::v1::ALERT_STATUS_QUEUED) {
  return {.alert_id = absl::StrFormat("0190f1c4-7a3e-7b12-9c4d-%012d", n),
          .caller = "billing",
          .channel = klaxon::types::v1::CHANNEL_SMS,
          .status = status,
          .requested = true,
          .recipient_country_code = "1",
          .recipient_last4 = "0100",
          .created_at = kT0 + absl::Seconds(n),
          .attempts = {{.number = 1, .status = status}}};
}

TEST_F(AlertQueryServiceTest, ListAlertsPagesNewestFirstWithoutAttempts) {
  for (int n = 1; n <= 3; ++n) queries_.Put(Listed(n));
  grpc::ClientContext context;
  klaxon::alerts::v1::ListAlertsRequest request;
  request.set_page_size(2);
  klaxon::alerts::v1::ListAlertsResponse page;
  grpc::Status status = stub_->ListAlerts(Authorized(context, kBillingKey), request, &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(page.alerts_size(), 2);
  EXPECT_EQ(page.alerts(0).alert_id(), Listed(3).alert_id);
  EXPECT_EQ(page.alerts(0).recipient_last4(), "0100");
  EXPECT_EQ(page.alerts(0).attempts_size(), 0);
  EXPECT_FALSE(page.next_page_token().empty());

  grpc::ClientContext next_context;
  request.set_page_token(page.next_page_token());
  klaxon::alerts::v1::ListAlertsResponse last;
  status = stub_->ListAlerts(Authorized(next_context, kBillingKey), request, &last);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(last.alerts_size(), 1);
  EXPECT_EQ(last.alerts(0).alert_id(), Listed(1).alert_id);
  EXPECT_TRUE(last.next_page_token().empty());
  EXPECT_EQ(QueryRequests("ListAlerts", "ok"), 2);
}

TEST_F(AlertQueryServiceTest, ListAlertsPassesFiltersAndPeriod) {
  grpc::ClientContext context;
  klaxon::alerts::v1::ListAlertsRequest request;
  request.set_status(klaxon::types::v1::ALERT_STATUS_FAILED);
  request.set_channel(klaxon::types::v1::CHANNEL_VOICE);
  request.mutable_created_from()->set_seconds(1'700'000'000);
  request.mutable_created_before()->set_seconds(1'700'000'060);
  request.mutable_created_before()->set_nanos(500'000'000);
  klaxon::alerts::v1::ListAlertsResponse page;
  ASSERT_TRUE(stub_->ListAlerts(Authorized(context, kBillingKey), request, &page).ok());
  const AlertFilter filter = queries_.last_filter();
  EXPECT_EQ(filter.caller, "billing");
  EXPECT_EQ(filter.status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(filter.channel, klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(filter.created_from, absl::FromUnixSeconds(1'700'000'000));
  EXPECT_EQ(filter.created_before, absl::FromUnixMillis(1'700'000'060'500));
}

TEST_F(AlertQueryServiceTest, ListAlertsWithBadTokenIsInvalidArgumentNamingIt) {
  grpc::ClientContext context;
  klaxon::alerts::v1::ListAlertsRequest request;
  request.set_page_token("garbage!");
  klaxon::alerts::v1::ListAlertsResponse page;
  grpc::Status status = stub_->ListAlerts(Authorized(context, kBillingKey), request, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  EXPECT_EQ(QueryRequests("ListAlerts", "invalid_argument"), 1);
}

TEST_F(AlertQueryServiceTest, ATimeOutsideRfc3339sYearsIsInvalidArgumentNamingItsField) {
  grpc::ClientContext list_context;
  klaxon::alerts::v1::ListAlertsRequest list;
  list.mutable_created_from()->set_seconds(-9'000'000'000'000);
  klaxon::alerts::v1::ListAlertsResponse page;
  grpc::Status status = stub_->ListAlerts(Authorized(list_context, kBillingKey), list, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("created_from: is not a valid timestamp"));

  grpc::ClientContext report_context;
  klaxon::alerts::v1::GetDeliveryReportRequest report_request;
  report_request.mutable_from()->set_seconds(1'700'000'000);
  report_request.mutable_before()->set_seconds(1'700'086'400);
  report_request.mutable_before()->set_nanos(-5);
  klaxon::alerts::v1::DeliveryReport report;
  status =
      stub_->GetDeliveryReport(Authorized(report_context, kBillingKey), report_request, &report);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("before: is not a valid timestamp"));
}

TEST_F(AlertQueryServiceTest, ListAlertsWithoutKeyIsUnauthenticated) {
  grpc::ClientContext context;
  klaxon::alerts::v1::ListAlertsResponse page;
  EXPECT_EQ(stub_->ListAlerts(&context, {}, &page).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AlertQueryServiceTest, AuditTrailReturnsTheEventsOfTheCallersAlert) {
  queries_.Put(Listed(1));
  queries_.AddEvent(Listed(1).alert_id, {.occurred_at = kT0,
                                         .recorded_at = kT0 + absl::Milliseconds(5),
                                         .kind = "requested",
                                         .channel = klaxon::types::v1::CHANNEL_SMS,
                                         .attempt = 1,
                                         .status = klaxon::types::v1::ALERT_STATUS_QUEUED});
  grpc::ClientContext context;
  klaxon::alerts::v1::GetAuditTrailRequest request;
  request.set_alert_id(Listed(1).alert_id);
  klaxon::alerts::v1::AuditTrail trail;
  grpc::Status status = stub_->GetAuditTrail(Authorized(context, kBillingKey), request, &trail);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(trail.alert_id(), Listed(1).alert_id);
  ASSERT_EQ(trail.events_size(), 1);
  EXPECT_EQ(trail.events(0).kind(), "requested");
  EXPECT_EQ(trail.events(0).recorded_at().nanos(), 255'000'000);

  grpc::ClientContext other;
  EXPECT_EQ(stub_->GetAuditTrail(Authorized(other, kPaymentsKey), request, &trail).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(AlertQueryServiceTest, DeliveryReportHasRatesPerRow) {
  queries_.SetDeliveries(
      {.total = {.alerts = 4, .succeeded = 3, .failed = 1},
       .by_channel = {{.key = "sms", .counts = {.alerts = 4, .succeeded = 3, .failed = 1}}},
       .by_country = {{.key = "44", .counts = {.alerts = 4, .succeeded = 3, .failed = 1}}},
       .by_error_code = {{.key = "30003", .counts = {.alerts = 1, .failed = 1}}}});
  grpc::ClientContext context;
  klaxon::alerts::v1::GetDeliveryReportRequest request;
  request.mutable_from()->set_seconds(1'700'000'000);
  request.mutable_before()->set_seconds(1'700'086'400);
  klaxon::alerts::v1::DeliveryReport report;
  grpc::Status status =
      stub_->GetDeliveryReport(Authorized(context, kBillingKey), request, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.from().seconds(), 1'700'000'000);
  EXPECT_EQ(report.total().alerts(), 4);
  EXPECT_DOUBLE_EQ(report.total().success_rate(), 0.75);
  ASSERT_EQ(report.by_channel_size(), 1);
  EXPECT_EQ(report.by_channel(0).key(), "sms");
  ASSERT_EQ(report.by_country_size(), 1);
  EXPECT_EQ(report.by_country(0).key(), "44");
  ASSERT_EQ(report.by_error_code_size(), 1);
  EXPECT_EQ(report.by_error_code(0).failed(), 1);
  EXPECT_DOUBLE_EQ(report.by_error_code(0).success_rate(), 0);
}

TEST_F(AlertQueryServiceTest, DeliveryReportWithoutFromIsInvalidArgumentNamingIt) {
  grpc::ClientContext context;
  klaxon::alerts::v1::GetDeliveryReportRequest request;
  request.mutable_before()->set_seconds(1'700'086'400);
  klaxon::alerts::v1::DeliveryReport report;
  grpc::Status status =
      stub_->GetDeliveryReport(Authorized(context, kBillingKey), request, &report);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("from"));
}

TEST_F(AlertQueryServiceTest, WatchStreamsEachStatusChangeAndEndsAfterAFinalOne) {
  StoreQueuedAlert();
  grpc::ClientContext context;
  klaxon::alerts::v1::WatchAlertRequest request;
  request.set_alert_id(kAlertId);
  std::unique_ptr<grpc::ClientReader<klaxon::alerts::v1::Alert>> reader =
      stub_->WatchAlert(Authorized(context, kBillingKey), request);
  klaxon::alerts::v1::Alert alert;
  ASSERT_TRUE(reader->Read(&alert));
  EXPECT_EQ(alert.status(), klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(OpenWatches(), 1);

  StoreOutcome(klaxon::types::v1::ALERT_STATUS_SENT, 1);
  watcher_.AlertChanged(kAlertId);
  ASSERT_TRUE(reader->Read(&alert));
  EXPECT_EQ(alert.status(), klaxon::types::v1::ALERT_STATUS_SENT);

  StoreOutcome(klaxon::types::v1::ALERT_STATUS_DELIVERED, 2);
  watcher_.RecheckAll();
  ASSERT_TRUE(reader->Read(&alert));
  EXPECT_EQ(alert.status(), klaxon::types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_FALSE(reader->Read(&alert));
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(QueryRequests("WatchAlert", "ok"), 1);
}

TEST_F(AlertQueryServiceTest, WatchOfAnotherCallersAlertIsNotFound) {
  StoreQueuedAlert();
  grpc::ClientContext context;
  klaxon::alerts::v1::WatchAlertRequest request;
  request.set_alert_id(kAlertId);
  auto reader = stub_->WatchAlert(Authorized(context, kPaymentsKey), request);
  klaxon::alerts::v1::Alert alert;
  EXPECT_FALSE(reader->Read(&alert));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AlertQueryServiceTest, WatchesPastTheLimitAreResourceExhausted) {
  StoreQueuedAlert();
  klaxon::alerts::v1::WatchAlertRequest request;
  request.set_alert_id(kAlertId);
  klaxon::alerts::v1::Alert alert;
  // The fixture allows two.
  grpc::ClientContext first_context;
  auto first = stub_->WatchAlert(Authorized(first_context, kBillingKey), request);
  ASSERT_TRUE(first->Read(&alert));
  grpc::ClientContext second_context;
  auto second = stub_->WatchAlert(Authorized(second_context, kBillingKey), request);
  ASSERT_TRUE(second->Read(&alert));
  grpc::ClientContext third_context;
  auto third = stub_->WatchAlert(Authorized(third_context, kBillingKey), request);
  EXPECT_FALSE(third->Read(&alert));
  EXPECT_EQ(third->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  first_context.TryCancel();
  second_context.TryCancel();
  EXPECT_EQ(first->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(second->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(AlertQueryServiceTest, ShutdownEndsOpenWatchesUnavailable) {
  StoreQueuedAlert();
  grpc::ClientContext context;
  klaxon::alerts::v1::WatchAlertRequest request;
  request.set_alert_id(kAlertId);
  auto reader = stub_->WatchAlert(Authorized(context, kBillingKey), request);
  klaxon::alerts::v1::Alert alert;
  ASSERT_TRUE(reader->Read(&alert));
  watcher_.Shutdown();
  EXPECT_FALSE(reader->Read(&alert));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

constexpr char kSecondPageId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c70";

// kAlertId stands for an escalation chain of two steps (ADR 0029): it is the chain's first page.
class AlertQueryServiceEscalationTest : public AlertQueryServiceTest {
 protected:
  // Page `alert_id` of the chain, at `step`, to `recipient`, requested `after` kT0.
  AlertRecord Page(const std::string& alert_id, uint32_t step, const std::string& recipient,
                   absl::Duration after) {
    return SealedAlert({.kind = AlertEvent::Kind::kRequested,
                        .alert_id = alert_id,
                        .caller = "billing",
                        .channel = klaxon::types::v1::CHANNEL_VOICE,
                        .attempt = 1,
                        .occurred_at = kT0 + after,
                        .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
                        .recipient_country_code = "44",
                        .recipient_last4 = recipient.substr(recipient.size() - 4),
                        .escalation_id = kAlertId,
                        .escalation_step = step},
                       recipient, "db-7 is down");
  }

  // The chain, stopped by its second page's acknowledgement `acknowledged_after` kT0 when set.
  void PutChain(std::optional<absl::Duration> acknowledged_after) {
    AlertRecord chain = Page(kAlertId, 1, "+442079460123", absl::ZeroDuration());
    if (acknowledged_after.has_value()) {
      chain.status = klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
      chain.acknowledged_by = kSecondPageId;
      chain.acknowledged_step = 2;
      chain.acknowledged_at = kT0 + *acknowledged_after;
    }
    store_.Put(std::move(chain));
    store_.Put(Page(kSecondPageId, 2, "+442079460456", absl::Minutes(5)));
  }
};

TEST_F(AlertQueryServiceEscalationTest, ChainListsItsPagesWithoutTextAndWhoAcknowledged) {
  PutChain(absl::Minutes(6));
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, kAlertId, &alert);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(alert.escalation_id(), kAlertId);
  EXPECT_EQ(alert.escalation_step(), 1u);
  EXPECT_EQ(alert.text(), "db-7 is down");
  ASSERT_TRUE(alert.has_escalation());
  const klaxon::alerts::v1::Escalation& escalation = alert.escalation();
  ASSERT_EQ(escalation.pages_size(), 2);
  EXPECT_EQ(escalation.pages(0).alert_id(), kAlertId);
  EXPECT_EQ(escalation.pages(0).recipient(), "+442079460123");
  EXPECT_EQ(escalation.pages(1).alert_id(), kSecondPageId);
  EXPECT_EQ(escalation.pages(1).recipient(), "+442079460456");
  EXPECT_EQ(escalation.pages(1).escalation_step(), 2u);
  EXPECT_EQ(escalation.pages(1).created_at().seconds(), 1'700'000'300);
  for (const klaxon::alerts::v1::Alert& page : escalation.pages()) {
    EXPECT_EQ(page.text(), "") << page.alert_id();
    EXPECT_EQ(page.attempts_size(), 1) << page.alert_id();
    EXPECT_FALSE(page.has_escalation()) << page.alert_id();
  }
  EXPECT_EQ(escalation.acknowledged_by(), kSecondPageId);
  EXPECT_EQ(escalation.acknowledged_step(), 2u);
  EXPECT_EQ(escalation.acknowledged_at().seconds(), 1'700'000'360);
  EXPECT_EQ(escalation.acknowledged_at().nanos(), 250'000'000);
}

TEST_F(AlertQueryServiceEscalationTest, ChainNobodyAcknowledgedHasNoAcknowledgedAt) {
  PutChain(std::nullopt);
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, kAlertId, &alert);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(alert.escalation().pages_size(), 2);
  EXPECT_EQ(alert.escalation().acknowledged_by(), "");
  EXPECT_FALSE(alert.escalation().has_acknowledged_at());
}

TEST_F(AlertQueryServiceEscalationTest, LaterPageNamesItsChainButListsNoPages) {
  PutChain(absl::Minutes(6));
  klaxon::alerts::v1::Alert page;
  grpc::Status status = Call(kBillingKey, kSecondPageId, &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(page.escalation_id(), kAlertId);
  EXPECT_EQ(page.escalation_step(), 2u);
  EXPECT_EQ(page.recipient(), "+442079460456");
  EXPECT_FALSE(page.has_escalation());
}

// ListAlerts and WatchAlert read no pages: each alert names its chain and step only.
TEST(ToProtoTest, AlertWithoutPagesReadNamesItsChainButHasNoEscalation) {
  AlertView view{.record = {.alert_id = kAlertId,
                            .escalation_id = kAlertId,
                            .escalation_step = 1,
                            .acknowledged_by = kSecondPageId,
                            .acknowledged_step = 2}};
  klaxon::alerts::v1::Alert alert = ToProto(view);
  EXPECT_EQ(alert.escalation_id(), kAlertId);
  EXPECT_EQ(alert.escalation_step(), 1u);
  EXPECT_FALSE(alert.has_escalation());
  klaxon::alerts::v1::Alert listed = ToListItem(view.record);
  EXPECT_EQ(listed.escalation_id(), kAlertId);
  EXPECT_EQ(listed.escalation_step(), 1u);
}

TEST(ToProtoTest, AlertNamesTheTemplateItsTextCameFrom) {
  AlertView view{.record = {.alert_id = kAlertId,
                            .template_name = "disk-full",
                            .template_locale = "de-DE",
                            .template_version = 3}};
  for (const klaxon::alerts::v1::Alert& alert : {ToProto(view), ToListItem(view.record)}) {
    EXPECT_EQ(alert.template_name(), "disk-full");
    EXPECT_EQ(alert.template_locale(), "de-DE");
    EXPECT_EQ(alert.template_version(), 3u);
  }
}

TEST(ToProtoTest, AlertWithATextOfItsOwnNamesNoTemplate) {
  klaxon::alerts::v1::Alert alert = ToProto(AlertView{.record = {.alert_id = kAlertId}});
  EXPECT_EQ(alert.template_name(), "");
  EXPECT_EQ(alert.template_locale(), "");
  EXPECT_EQ(alert.template_version(), 0u);
}

TEST(ToProtoTest, TimestampsBeforeTheEpochKeepNonNegativeNanos) {
  AlertView view{.record = {}};
  view.record.created_at = absl::FromUnixMicros(-1);
  klaxon::alerts::v1::Alert alert = ToProto(view);
  EXPECT_EQ(alert.created_at().seconds(), -1);
  EXPECT_EQ(alert.created_at().nanos(), 999'999'000);
}

}  // namespace
}  // namespace klaxon::audit::alert_query_service_test
