// AlertWatcher with fakes behind its ports. Each watch runs on a thread of its own, as it does
// behind gRPC; the tests wait for what it sends with a deadline, never a sleep.
#include "services/audit/alert_watcher.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/timing/fake_clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/testing/fake_alert_queries.h"
#include "services/audit/testing/fake_alert_store.h"
#include "services/audit/testing/fake_offset_oracle.h"
#include "services/audit/testing/ingest.h"

namespace klaxon::audit {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kOtherAlertId[] = "0190f1c4-7a3e-7b12-9c4d-000000000002";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'000'000);
constexpr absl::Duration kPatience = absl::Seconds(10);

// Records what the watch sent; Send() fails once the test says the client went away.
class RecordingStream final : public WatchStream {
 public:
  bool Send(const AlertRecord& alert) override {
    std::lock_guard lock(mutex_);
    sent_.push_back(alert.status);
    changed_.notify_all();
    return !gone_;
  }

  // Waits until `count` alerts were sent; false if that takes longer than kPatience.
  bool WaitForSent(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kPatience),
                             [&] { return sent_.size() >= count; });
  }

  std::vector<AlertStatus> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<AlertStatus> sent_;
  bool gone_ = false;
};

class AlertWatcherTest : public ::testing::Test {
 protected:
  // The alert as the first read finds it (through AlertReader's store) and as re-reads find it.
  void Store(AlertStatus status) {
    AlertEvent requested{.kind = AlertEvent::Kind::kRequested,
                         .alert_id = kAlertId,
                         .caller = "billing",
                         .channel = klaxon::types::v1::CHANNEL_SMS,
                         .attempt = 1,
                         .occurred_at = kT0,
                         .status = ALERT_STATUS_QUEUED};
    ASSERT_TRUE(
        testing::Apply(store_, requested, {.topic = "t", .partition = 0, .next_offset = 1}).ok());
    SetStatus(status);
  }
  void SetStatus(AlertStatus status) {
    queries_.Put({.alert_id = kAlertId,
                  .caller = "billing",
                  .channel = klaxon::types::v1::CHANNEL_SMS,
                  .status = status,
                  .created_at = kT0});
  }

  // Starts a watch of kAlertId on its own thread; its result lands in result_.
  void StartWatch() {
    absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
        watcher_.Subscribe(kAlertId);
    ASSERT_TRUE(subscription.ok()) << subscription.status();
    subscription_ = *subscription;
    thread_ = std::jthread([this] {
      result_ = watcher_.Watch(*subscription_, "billing", absl::InfiniteFuture(), stream_);
      subscription_.reset();
    });
  }

  absl::Status Join() {
    thread_.join();
    return result_;
  }

  void TearDown() override {
    watcher_.Shutdown();
    if (thread_.joinable()) thread_.join();
  }

  FakeAlertStore store_;
  FakeOffsetOracle oracle_;
  FakeAlertQueries queries_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("alert-watcher-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  AlertReader reader_{store_,
                      oracle_,
                      personal_data_,
                      clock_,
                      metrics_,
                      logger_,
                      {.topics = Topics::WithPrefix("")}};
  AlertWatcher watcher_{reader_, queries_, metrics_, {.max_watchers = 2}};
  RecordingStream stream_;
  std::shared_ptr<AlertWatcher::Subscription> subscription_;
  absl::Status result_;
  std::jthread thread_;
};

TEST_F(AlertWatcherTest, SendsTheAlertAndEndsAtOnceWhenItIsFinal) {
  Store(ALERT_STATUS_QUEUED);
  testing::Apply(store_,
                 {.kind = AlertEvent::Kind::kOutcome,
                  .alert_id = kAlertId,
                  .caller = "billing",
                  .channel = klaxon::types::v1::CHANNEL_SMS,
                  .attempt = 1,
                  .occurred_at = kT0 + absl::Seconds(1),
                  .status = ALERT_STATUS_DELIVERED},
                 {.topic = "t", .partition = 0, .next_offset = 2})
      .IgnoreError();
  StartWatch();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(), std::vector<AlertStatus>{ALERT_STATUS_DELIVERED});
}

TEST_F(AlertWatcherTest, NotificationSendsTheNewStatusAndAFinalOneEndsTheWatch) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  SetStatus(ALERT_STATUS_SENT);
  watcher_.AlertChanged(kAlertId);
  ASSERT_TRUE(stream_.WaitForSent(2));
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.AlertChanged(kAlertId);
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(), (std::vector<AlertStatus>{ALERT_STATUS_QUEUED, ALERT_STATUS_SENT,
                                                      ALERT_STATUS_DELIVERED}));
}

TEST_F(AlertWatcherTest, RecheckFindsAChangeNobodyNotified) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.RecheckAll();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(),
            (std::vector<AlertStatus>{ALERT_STATUS_QUEUED, ALERT_STATUS_DELIVERED}));
}

TEST_F(AlertWatcherTest, NotificationOfAnotherAlertDoesNotWakeTheWatch) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.AlertChanged(kOtherAlertId);
  watcher_.AlertChanged(kAlertId);
  EXPECT_TRUE(Join().ok()) << result_;
  // Only the watch's own notification made it read again.
  EXPECT_EQ(queries_.get_alert_calls(), 1);
}

TEST_F(AlertWatcherTest, UnchangedStatusIsNotSentAgain) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  watcher_.AlertChanged(kAlertId);  // same status: nothing to send
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.AlertChanged(kAlertId);
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(),
            (std::vector<AlertStatus>{ALERT_STATUS_QUEUED, ALERT_STATUS_DELIVERED}));
}

TEST_F(AlertWatcherTest, MissingAlertIsNotFound) {
  StartWatch();
  EXPECT_EQ(Join().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(stream_.sent().empty());
}

TEST_F(AlertWatcherTest, AnotherCallersAlertIsNotFound) {
  Store(ALERT_STATUS_QUEUED);
  absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
      watcher_.Subscribe(kAlertId);
  ASSERT_TRUE(subscription.ok());
  EXPECT_EQ(watcher_.Watch(**subscription, "payments", absl::InfiniteFuture(), stream_).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AlertWatcherTest, WatchesPastTheLimitAreRefusedUntilOneCloses) {
  auto first = watcher_.Subscribe(kAlertId);
  auto second = watcher_.Subscribe(kOtherAlertId);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(watcher_.Subscribe(kAlertId).status().code(), absl::StatusCode::kResourceExhausted);
  first->reset();
  EXPECT_TRUE(watcher_.Subscribe(kAlertId).ok());
}

TEST_F(AlertWatcherTest, ShutdownEndsOpenWatchesAndRefusesNewOnes) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  watcher_.Shutdown();
  EXPECT_EQ(Join().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(watcher_.Subscribe(kAlertId).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AlertWatcherTest, CancelEndsTheWatch) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  subscription_->Cancel();
  EXPECT_EQ(Join().code(), absl::StatusCode::kCancelled);
}

TEST_F(AlertWatcherTest, DatabaseDownOnlyDelaysTheWatch) {
  Store(ALERT_STATUS_QUEUED);
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  queries_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  watcher_.RecheckAll();
  // The failed re-read happened before the database came back.
  while (queries_.get_alert_calls() < 1) std::this_thread::yield();
  queries_.FailWith(absl::OkStatus());
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.RecheckAll();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent().back(), ALERT_STATUS_DELIVERED);
}

}  // namespace
}  // namespace klaxon::audit
