// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// Rows are inserted with SQL in the shape migration 0004 fixes, as the write path stores them.
#include "services/audit/postgres/postgres_alert_queries.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/postgres/postgres_status_listener.h"
#include "services/audit/query/alert_search.h"
#include "services/audit/query/alert_watcher.h"
#include "services/audit/testing/fake_offset_oracle.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit::postgres_alert_queries_test {
namespace {

using klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
using klaxon::types::v1::ALERT_STATUS_CANCELLED;
using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_FAILED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using klaxon::types::v1::ALERT_STATUS_SUPPRESSED;
using klaxon::types::v1::ALERT_STATUS_UNDELIVERED;
using klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
using klaxon::types::v1::ALERT_STATUS_WAITING;
using klaxon::types::v1::CHANNEL_SMS;
using klaxon::types::v1::CHANNEL_VOICE;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBlindIndexKey[] = "a test key for the recipient blind index, 32+ bytes";
constexpr char kRecipient[] = "+14155550100";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'000'000);

std::string AlertId(int n) { return absl::StrFormat("0190f1c4-7a3e-7b12-9c4d-%012d", n); }

struct Row {
  int n = 0;
  std::string caller = "billing";
  Channel channel = CHANNEL_SMS;
  AlertStatus status = ALERT_STATUS_QUEUED;
  absl::Duration created = absl::ZeroDuration();  // after kT0
  std::string recipient{};                        // E.164, or empty for no blind index
  std::string country = "1";
  int32_t error_code = 0;
};

class PostgresAlertQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    queries_ = std::make_unique<PostgresAlertQueries>(*db_);
  }

  void Exec(const std::string& sql) {
    ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     txn.exec(sql);
                     return absl::OkStatus();
                   })
                    .ok());
  }

  void Insert(const Row& row) {
    const std::string index =
        row.recipient.empty() ? "" : absl::BytesToHexString(blind_index_.Compute(row.recipient));
    const absl::Status inserted = db_->Transact([&](pqxx::work& txn) {
      txn.exec_params(
          "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
          "  recipient_country_code, recipient_last4, twilio_error_code, created_at, updated_at, "
          "  status_at, recipient_index) "
          "VALUES ($1::uuid, $2, $3, $4, $5, true, $6, '0100', $7, "
          "  'epoch'::timestamptz + $8::bigint * interval '1 microsecond', "
          "  'epoch'::timestamptz + $8::bigint * interval '1 microsecond', "
          "  'epoch'::timestamptz + $8::bigint * interval '1 microsecond', "
          "  CASE WHEN $9 = '' THEN NULL ELSE decode($9, 'hex') END)",
          AlertId(row.n), row.caller, static_cast<int>(row.channel), static_cast<int>(row.status),
          Rank(row.status), row.country, row.error_code, absl::ToUnixMicros(kT0 + row.created),
          index);
      return absl::OkStatus();
    });
    ASSERT_TRUE(inserted.ok()) << inserted;
  }

  void SetStatus(int n, AlertStatus status) {
    Exec(absl::StrCat("UPDATE alerts SET status = ", static_cast<int>(status),
                      ", status_rank = ", Rank(status), " WHERE alert_id = '", AlertId(n), "'"));
  }

  void InsertEvent(int n, std::string kind, absl::Duration occurred, absl::Duration recorded,
                   AlertStatus status = ALERT_STATUS_UNSPECIFIED, int32_t code = 0) {
    const absl::Status inserted = db_->Transact([&](pqxx::work& txn) {
      txn.exec_params(
          "INSERT INTO audit_events (occurred_at, event_key, alert_id, kind, caller, channel, "
          "  attempt, status, twilio_error_code, recorded_at) "
          "VALUES ('epoch'::timestamptz + $1::bigint * interval '1 microsecond', $2, $3::uuid, "
          "  $4, 'billing', 1, 1, $5, $6, "
          "  'epoch'::timestamptz + $7::bigint * interval '1 microsecond')",
          absl::ToUnixMicros(kT0 + occurred),
          absl::StrCat(kind, ":", AlertId(n), ":", absl::ToInt64Microseconds(occurred)), AlertId(n),
          kind, static_cast<int>(status), code, absl::ToUnixMicros(kT0 + recorded));
      return absl::OkStatus();
    });
    ASSERT_TRUE(inserted.ok()) << inserted;
  }

  std::vector<std::string> List(const AlertFilter& filter, int32_t limit = 100) {
    absl::StatusOr<std::vector<AlertRecord>> alerts = queries_->ListAlerts(filter, {}, limit);
    EXPECT_TRUE(alerts.ok()) << alerts.status();
    std::vector<std::string> ids;
    for (const AlertRecord& alert : alerts.value_or(std::vector<AlertRecord>{})) {
      ids.push_back(alert.alert_id);
    }
    return ids;
  }

  // The plan Postgres picks for ListAlerts of caller-7 with these parameters (NULL where unset).
  std::string Explain(const char* status, const char* channel, const char* recipient_hex,
                      const char* after_micros, const char* after_id) {
    std::string plan;
    const absl::Status explained = db_->Transact([&](pqxx::work& txn) {
      for (const pqxx::row row :
           txn.exec_params(absl::StrCat("EXPLAIN ", ListAlertsStatement()), "caller-7", status,
                           channel, recipient_hex, nullptr, nullptr, after_micros, after_id, 51)) {
        absl::StrAppend(&plan, row[0].as<std::string>(), "\n");
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(explained.ok()) << explained;
    return plan;
  }

  crypto::BlindIndex blind_index_ = crypto::BlindIndex::Create(kBlindIndexKey).value();
  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresAlertQueries> queries_;
};

TEST_F(PostgresAlertQueriesTest, ListsOnlyTheCallersAlertsNewestFirst) {
  Insert({.n = 1, .created = absl::Seconds(1)});
  Insert({.n = 2, .created = absl::Seconds(3)});
  Insert({.n = 3, .caller = "payments", .created = absl::Seconds(2)});
  Insert({.n = 4, .created = absl::Seconds(3)});
  EXPECT_THAT(List({.caller = "billing"}), ElementsAre(AlertId(4), AlertId(2), AlertId(1)));
}

TEST_F(PostgresAlertQueriesTest, FiltersByStatus) {
  Insert({.n = 1, .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 2, .status = ALERT_STATUS_FAILED});
  EXPECT_THAT(List({.caller = "billing", .status = ALERT_STATUS_FAILED}), ElementsAre(AlertId(2)));
}

TEST_F(PostgresAlertQueriesTest, FiltersByChannel) {
  Insert({.n = 1, .channel = CHANNEL_SMS});
  Insert({.n = 2, .channel = CHANNEL_VOICE});
  EXPECT_THAT(List({.caller = "billing", .channel = CHANNEL_VOICE}), ElementsAre(AlertId(2)));
}

TEST_F(PostgresAlertQueriesTest, FiltersByRecipientBlindIndex) {
  Insert({.n = 1, .recipient = kRecipient});
  Insert({.n = 2, .recipient = "+14155550199"});
  Insert({.n = 3});
  EXPECT_THAT(List({.caller = "billing", .recipient_index = blind_index_.Compute(kRecipient)}),
              ElementsAre(AlertId(1)));
}

TEST_F(PostgresAlertQueriesTest, FiltersByCreationPeriodFromInclusiveBeforeExclusive) {
  Insert({.n = 1, .created = absl::Seconds(1)});
  Insert({.n = 2, .created = absl::Seconds(2)});
  Insert({.n = 3, .created = absl::Seconds(3)});
  EXPECT_THAT(List({.caller = "billing",
                    .created_from = kT0 + absl::Seconds(1),
                    .created_before = kT0 + absl::Seconds(3)}),
              ElementsAre(AlertId(2), AlertId(1)));
}

TEST_F(PostgresAlertQueriesTest, ListItemsHaveNoAttempts) {
  Insert({.n = 1});
  Exec(
      absl::StrCat("INSERT INTO attempts (alert_id, attempt, status, status_rank, occurred_at) "
                   "VALUES ('",
                   AlertId(1), "', 1, 1, 1, now())"));
  absl::StatusOr<std::vector<AlertRecord>> alerts =
      queries_->ListAlerts({.caller = "billing"}, {}, 10);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_TRUE((*alerts)[0].attempts.empty());
  EXPECT_EQ((*alerts)[0].created_at, kT0);
}

TEST_F(PostgresAlertQueriesTest, ListItemsNameTheirTemplate) {
  Insert({.n = 1});
  Insert({.n = 2, .created = absl::Seconds(1)});
  Exec(absl::StrCat("UPDATE alerts SET template_name = 'disk-full', template_locale = 'de-DE', ",
                    "template_version = 3 WHERE alert_id = '", AlertId(2), "'"));
  absl::StatusOr<std::vector<AlertRecord>> alerts =
      queries_->ListAlerts({.caller = "billing"}, {}, 10);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 2u);
  EXPECT_EQ((*alerts)[0].template_name, "disk-full");
  EXPECT_EQ((*alerts)[0].template_locale, "de-DE");
  EXPECT_EQ((*alerts)[0].template_version, 3u);
  EXPECT_EQ((*alerts)[1].template_name, "");
  EXPECT_EQ((*alerts)[1].template_version, 0u);
}

TEST_F(PostgresAlertQueriesTest, PagesThroughEqualCreationTimesWithoutDuplicatesOrGaps) {
  // Three alerts per second: the alert id breaks the ties.
  for (int n = 0; n < 40; ++n) {
    Insert({.n = n,
            .status = n % 4 == 0 ? ALERT_STATUS_FAILED : ALERT_STATUS_QUEUED,
            .created = absl::Seconds(n / 3)});
  }
  AlertSearch search(*queries_, blind_index_);
  for (AlertStatus status : {ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_FAILED}) {
    std::vector<std::string> seen;
    std::string token;
    do {
      absl::StatusOr<AlertPage> page =
          search.ListAlerts("billing", {.status = status, .page_size = 7, .page_token = token});
      ASSERT_TRUE(page.ok()) << page.status();
      for (const AlertRecord& alert : page->alerts) seen.push_back(alert.alert_id);
      token = page->next_page_token;
    } while (!token.empty());
    std::vector<std::string> expected;
    for (int n = 39; n >= 0; --n) {
      if (status == ALERT_STATUS_UNSPECIFIED || n % 4 == 0) expected.push_back(AlertId(n));
    }
    EXPECT_EQ(seen, expected) << klaxon::types::v1::AlertStatus_Name(status);
  }
}

TEST_F(PostgresAlertQueriesTest, EachFilterUsesItsIndex) {
  // Enough rows, and statistics, for the planner to choose as it would in production.
  Exec(
      "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, created_at, "
      "  updated_at, status_at, recipient_index) "
      "SELECT gen_random_uuid(), 'caller-' || (i % 50), 1 + i % 2, "
      "  (ARRAY[1, 2, 3, 4, 5, 6])[1 + i % 6], (ARRAY[1, 2, 3, 3, 3, 1])[1 + i % 6], true, "
      "  now() - i * interval '1 second', now(), now(), "
      "  decode(md5((i % 5000)::text) || md5((i % 5000)::text), 'hex') "
      "FROM generate_series(1, 50000) AS i");
  Exec("ANALYZE alerts");
  std::string hex;  // a recipient of caller-7's
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   hex = txn.exec(
                                "SELECT encode(recipient_index, 'hex') FROM alerts "
                                "WHERE caller = 'caller-7' LIMIT 1")[0][0]
                             .as<std::string>();
                   return absl::OkStatus();
                 })
                  .ok());
  // A cursor among the generated rows, as on a later page.
  const std::string cursor_micros =
      absl::StrCat(absl::ToUnixMicros(absl::Now() - absl::Seconds(1000)));
  const std::string id = AlertId(1);

  const std::string plain = Explain(nullptr, nullptr, nullptr, nullptr, nullptr);
  EXPECT_THAT(plain, HasSubstr("Index Scan using alerts_caller_created"));
  EXPECT_THAT(plain, Not(HasSubstr("Sort")));  // the index gives the order
  EXPECT_THAT(
      Explain(nullptr, nullptr, nullptr, cursor_micros.c_str(), id.c_str()),
      HasSubstr("Index Cond: ((caller = 'caller-7'::text) AND (ROW(created_at, alert_id) <"));
  EXPECT_THAT(Explain("5", nullptr, nullptr, nullptr, nullptr),
              HasSubstr("alerts_caller_status_created"));
  EXPECT_THAT(Explain(nullptr, nullptr, hex.c_str(), nullptr, nullptr),
              HasSubstr("alerts_caller_recipient_created"));
  EXPECT_THAT(Explain(nullptr, "2", nullptr, nullptr, nullptr), HasSubstr("alerts_caller_created"));
  for (const char* status : {static_cast<const char*>(nullptr), "5"}) {
    EXPECT_THAT(Explain(status, "2", hex.c_str(), cursor_micros.c_str(), id.c_str()),
                Not(HasSubstr("Seq Scan")));
  }
}

TEST_F(PostgresAlertQueriesTest, AuditTrailIsOldestFirstAcrossPartitions) {
  Insert({.n = 1});
  // kT0 is in November 2023; 40 days on is December.
  Exec("SELECT audit_events_ensure_partition('2023-11-01')");
  Exec("SELECT audit_events_ensure_partition('2023-12-01')");
  InsertEvent(1, "message_status", absl::Hours(40 * 24), absl::Hours(40 * 24),
              ALERT_STATUS_DELIVERED);
  InsertEvent(1, "accepted", absl::Seconds(1), absl::Seconds(9), ALERT_STATUS_SENT);
  InsertEvent(1, "requested", absl::ZeroDuration(), absl::Seconds(2), ALERT_STATUS_QUEUED);
  InsertEvent(1, "retry_scheduled", absl::Seconds(1), absl::Seconds(3), ALERT_STATUS_WAITING,
              30003);
  absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> trail =
      queries_->GetAuditTrail("billing", AlertId(1));
  ASSERT_TRUE(trail.ok()) << trail.status();
  ASSERT_TRUE(trail->has_value());
  std::vector<std::string> kinds;
  for (const AuditEventRecord& event : **trail) kinds.push_back(event.kind);
  EXPECT_THAT(kinds, ElementsAre("requested", "retry_scheduled", "accepted", "message_status"));
  EXPECT_EQ((**trail)[1].twilio_error_code, 30003);
  EXPECT_EQ((**trail)[1].status, ALERT_STATUS_WAITING);
  EXPECT_EQ((**trail)[1].recorded_at, kT0 + absl::Seconds(3));
}

TEST_F(PostgresAlertQueriesTest, AuditTrailOfAnotherCallersAlertIsAbsent) {
  Insert({.n = 1, .caller = "payments"});
  InsertEvent(1, "requested", absl::ZeroDuration(), absl::ZeroDuration());
  absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> trail =
      queries_->GetAuditTrail("billing", AlertId(1));
  ASSERT_TRUE(trail.ok()) << trail.status();
  EXPECT_FALSE(trail->has_value());
}

TEST_F(PostgresAlertQueriesTest, CountsDeliveriesOfThePeriodByClassAndGroup) {
  Insert({.n = 1, .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 2, .channel = CHANNEL_VOICE, .status = ALERT_STATUS_ACKNOWLEDGED, .country = "44"});
  Insert({.n = 3, .status = ALERT_STATUS_UNDELIVERED, .error_code = 30003});
  Insert({.n = 4, .status = ALERT_STATUS_FAILED, .country = "44", .error_code = 30003});
  Insert({.n = 5, .status = ALERT_STATUS_FAILED, .error_code = 21211});
  Insert({.n = 6, .status = ALERT_STATUS_SUPPRESSED});
  Insert({.n = 7, .channel = CHANNEL_VOICE, .status = ALERT_STATUS_CANCELLED});
  Insert({.n = 8, .status = ALERT_STATUS_WAITING});
  Insert({.n = 9, .status = ALERT_STATUS_SENT, .created = absl::Hours(1) - absl::Microseconds(1)});
  // Outside: another caller, before the period, at its (exclusive) end.
  Insert({.n = 10, .caller = "payments", .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 11, .status = ALERT_STATUS_DELIVERED, .created = -absl::Microseconds(1)});
  Insert({.n = 12, .status = ALERT_STATUS_DELIVERED, .created = absl::Hours(1)});

  absl::StatusOr<DeliveryCountsByGroup> report =
      queries_->CountDeliveries("billing", kT0, kT0 + absl::Hours(1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(
      report->total,
      (DeliveryCounts{.alerts = 9, .succeeded = 2, .failed = 3, .not_sent = 2, .pending = 2}));
  EXPECT_THAT(
      report->by_channel,
      ElementsAre(
          DeliveryGroup{
              .key = "sms",
              .counts = {.alerts = 7, .succeeded = 1, .failed = 3, .not_sent = 1, .pending = 2}},
          DeliveryGroup{.key = "voice", .counts = {.alerts = 2, .succeeded = 1, .not_sent = 1}}));
  EXPECT_THAT(
      report->by_country,
      ElementsAre(
          DeliveryGroup{
              .key = "1",
              .counts = {.alerts = 7, .succeeded = 1, .failed = 2, .not_sent = 2, .pending = 2}},
          DeliveryGroup{.key = "44", .counts = {.alerts = 2, .succeeded = 1, .failed = 1}}));
  EXPECT_THAT(report->by_error_code,
              ElementsAre(DeliveryGroup{.key = "21211", .counts = {.alerts = 1, .failed = 1}},
                          DeliveryGroup{.key = "30003", .counts = {.alerts = 2, .failed = 2}}));
}

TEST_F(PostgresAlertQueriesTest, SumsWhatTwilioChargedForThePeriodsAlertsByChannelAndAccount) {
  const auto charged = [this](int n, int attempt, int channel, const char* account, int64_t micros,
                              int segments, int seconds) {
    Exec(absl::StrCat(
        "INSERT INTO attempts (alert_id, attempt, status, status_rank, occurred_at, channel, "
        "charge_micros, charge_currency, charge_segments, charge_duration_seconds, "
        "charge_account) VALUES ('",
        AlertId(n), "', ", attempt, ", 3, 3, now(), ", channel, ", ", micros, ", 'USD', ", segments,
        ", ", seconds, ", '", account, "')"));
  };
  Insert({.n = 1, .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 2, .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 3, .channel = CHANNEL_VOICE, .status = ALERT_STATUS_DELIVERED});
  Insert({.n = 4, .caller = "payments", .status = ALERT_STATUS_DELIVERED});       // not billing's
  Insert({.n = 5, .status = ALERT_STATUS_DELIVERED, .created = absl::Hours(1)});  // after
  charged(1, 1, CHANNEL_SMS, "main", 7'900, 1, 0);
  charged(2, 1, CHANNEL_SMS, "main", 15'800, 2, 0);
  charged(2, 2, CHANNEL_SMS, "backup", 7'900, 1, 0);
  charged(3, 1, CHANNEL_VOICE, "main", 14'000, 0, 42);
  charged(3, 2, CHANNEL_SMS, "main", 7'900, 1, 0);  // the voice alert's SMS fallback
  charged(4, 1, CHANNEL_SMS, "main", 1'000'000, 1, 0);
  charged(5, 1, CHANNEL_SMS, "main", 1'000'000, 1, 0);
  Exec(
      absl::StrCat("INSERT INTO attempts (alert_id, attempt, status, status_rank, occurred_at) "
                   "VALUES ('",
                   AlertId(1), "', 2, 2, 2, now())"));  // not charged yet

  absl::StatusOr<DeliveryCountsByGroup> report =
      queries_->CountDeliveries("billing", kT0, kT0 + absl::Hours(1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->costs, ElementsAre(CostGroup{.channel = CHANNEL_SMS,
                                                   .twilio_account = "backup",
                                                   .currency = "USD",
                                                   .micros = 7'900,
                                                   .charged_attempts = 1,
                                                   .segments = 1},
                                         CostGroup{.channel = CHANNEL_SMS,
                                                   .twilio_account = "main",
                                                   .currency = "USD",
                                                   .micros = 31'600,
                                                   .charged_attempts = 3,
                                                   .segments = 4},
                                         CostGroup{.channel = CHANNEL_VOICE,
                                                   .twilio_account = "main",
                                                   .currency = "USD",
                                                   .micros = 14'000,
                                                   .charged_attempts = 1,
                                                   .duration_seconds = 42}));
}

TEST_F(PostgresAlertQueriesTest, EmptyPeriodCountsZero) {
  absl::StatusOr<DeliveryCountsByGroup> report =
      queries_->CountDeliveries("billing", kT0, kT0 + absl::Hours(1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->total, DeliveryCounts{});
  EXPECT_TRUE(report->by_channel.empty());
}

// WatchAlert against Postgres: the listener's NOTIFY path and its timer path.
class PostgresWatchTest : public PostgresAlertQueriesTest {
 protected:
  void SetUp() override {
    PostgresAlertQueriesTest::SetUp();
    if (db_ == nullptr) return;
    store_ = std::make_unique<PostgresAlertStore>(*db_);
    reader_ =
        std::make_unique<AlertReader>(*store_, oracle_, personal_data_, clock_, metrics_, logger_,
                                      AlertReaderOptions{.topics = Topics::WithPrefix("")});
    watcher_ = std::make_unique<AlertWatcher>(*reader_, metrics_, clock_,
                                              AlertWatcherOptions{.max_watchers = 4});
  }

  void StartListener(absl::Duration recheck_interval) {
    listener_ = std::make_unique<PostgresStatusListener>(
        scratch_->url(), logger_,
        StatusListenerOptions{.recheck_interval = recheck_interval,
                              .reconnect_delay = absl::Milliseconds(50)});
    listener_thread_ =
        std::jthread([this](std::stop_token stop) { listener_->Run(*watcher_, stop); });
  }

  // Whether the listener's session has run its LISTEN, polled up to 10 s.
  bool WaitUntilListening() {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      int64_t listening = 0;
      const absl::Status read = db_->Transact([&](pqxx::work& txn) {
        listening = txn.exec(
                           "SELECT count(*) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND query LIKE 'LISTEN%'")[0][0]
                        .as<int64_t>();
        return absl::OkStatus();
      });
      if (read.ok() && listening > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Runs a watch of alert 1 on its own thread until it ends.
  void StartWatch() {
    absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
        watcher_->Subscribe(AlertId(1), "billing");
    ASSERT_TRUE(subscription.ok()) << subscription.status();
    watch_thread_ = std::jthread([this, subscription = *subscription] {
      result_ = watcher_->Watch(*subscription, "billing", absl::InfiniteFuture(), stream_);
    });
  }

  void TearDown() override {
    if (watcher_ != nullptr) watcher_->Shutdown();
    if (watch_thread_.joinable()) watch_thread_.join();
    if (listener_thread_.joinable()) {
      listener_thread_.request_stop();
      listener_thread_.join();
    }
  }

  class Stream final : public WatchStream {
   public:
    bool Send(const AlertRecord& alert) override {
      std::lock_guard lock(mutex_);
      sent_.push_back(alert.status);
      changed_.notify_all();
      return true;
    }
    bool WaitForSent(size_t count, absl::Duration patience) {
      std::unique_lock lock(mutex_);
      return changed_.wait_for(lock, absl::ToChronoNanoseconds(patience),
                               [&] { return sent_.size() >= count; });
    }

   private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<AlertStatus> sent_;
  };

  log::MemorySink log_sink_;
  log::Logger logger_{{.service = "audit"},
                      log::PhoneRedactor::Create("a test key of 16+ bytes").value(),
                      log_sink_};
  FakeOffsetOracle oracle_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  std::unique_ptr<PostgresAlertStore> store_;
  std::unique_ptr<AlertReader> reader_;
  std::unique_ptr<AlertWatcher> watcher_;
  Stream stream_;
  absl::Status result_;
  std::unique_ptr<PostgresStatusListener> listener_;
  std::jthread listener_thread_;
  std::jthread watch_thread_;
};

TEST_F(PostgresWatchTest, NotifyWakesTheWatchPromptly) {
  Insert({.n = 1, .status = ALERT_STATUS_QUEUED});
  StartListener(absl::Hours(1));  // the timer never fires within the test
  ASSERT_TRUE(WaitUntilListening());
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1, absl::Seconds(10)));
  SetStatus(1, ALERT_STATUS_DELIVERED);
  Exec(absl::StrCat("SELECT pg_notify('klaxon_alert_status', '", AlertId(1), "')"));
  EXPECT_TRUE(stream_.WaitForSent(2, absl::Seconds(2)));
  watch_thread_.join();
  EXPECT_TRUE(result_.ok()) << result_;
}

TEST_F(PostgresWatchTest, TimerFindsAChangeWithoutNotify) {
  Insert({.n = 1, .status = ALERT_STATUS_QUEUED});
  StartListener(absl::Milliseconds(100));
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1, absl::Seconds(10)));
  SetStatus(1, ALERT_STATUS_FAILED);
  EXPECT_TRUE(stream_.WaitForSent(2, absl::Seconds(10)));
  watch_thread_.join();
  EXPECT_TRUE(result_.ok()) << result_;
}

}  // namespace
}  // namespace klaxon::audit::postgres_alert_queries_test
