// AlertWatcher with fakes behind its ports. Each watch runs on a thread of its own, as it does
// behind gRPC; the tests wait for what it sends with a deadline, never a sleep.
#include "services/audit/query/alert_watcher.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/audit/testing/fake_backed_reader.h"
#include "services/audit/testing/ingest.h"

namespace klaxon::audit::alert_watcher_test {
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

class AlertWatcherTest : public ::testing::Test, protected testing::FakeBackedReader {
 protected:
  // The alert, QUEUED, as the first read and the re-reads find it in the store.
  void StoreQueued() { Record(AlertEvent::Kind::kRequested, ALERT_STATUS_QUEUED); }
  // Moves the stored alert on to `status` with an outcome event, as audit's consumer would.
  void SetStatus(AlertStatus status) { Record(AlertEvent::Kind::kOutcome, status); }
  void Record(AlertEvent::Kind kind, AlertStatus status) {
    ++events_;
    AlertEvent event{.kind = kind,
                     .alert_id = kAlertId,
                     .caller = "billing",
                     .channel = klaxon::types::v1::CHANNEL_SMS,
                     .attempt = 1,
                     .occurred_at = kT0 + absl::Seconds(events_),
                     .status = status};
    ASSERT_TRUE(testing::Apply(store_, event).ok());
  }

  // Starts a watch of kAlertId on its own thread; its result lands in result_.
  void StartWatch() {
    absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
        watcher_.Subscribe(kAlertId, "billing");
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

  AlertWatcher watcher_{
      reader_,
      metrics_,
      clock_,
      {.max_watchers = 3, .max_per_caller = 2, .max_lifetime = absl::Minutes(30)}};
  RecordingStream stream_;
  std::shared_ptr<AlertWatcher::Subscription> subscription_;
  absl::Status result_;
  std::jthread thread_;
  int64_t events_ = 0;  // recorded so far: each next one is a second later
};

TEST_F(AlertWatcherTest, SendsTheAlertAndEndsAtOnceWhenItIsFinal) {
  StoreQueued();
  SetStatus(ALERT_STATUS_DELIVERED);
  StartWatch();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(), std::vector<AlertStatus>{ALERT_STATUS_DELIVERED});
}

TEST_F(AlertWatcherTest, NotificationSendsTheNewStatusAndAFinalOneEndsTheWatch) {
  StoreQueued();
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
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.RecheckAll();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent(),
            (std::vector<AlertStatus>{ALERT_STATUS_QUEUED, ALERT_STATUS_DELIVERED}));
}

TEST_F(AlertWatcherTest, NotificationOfAnotherAlertDoesNotWakeTheWatch) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  const int first_reads = store_.get_alert_calls();
  // Sent while nothing changed: a watch it woke would read once for it and once for its own.
  watcher_.AlertChanged(kOtherAlertId);
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.AlertChanged(kAlertId);
  EXPECT_TRUE(Join().ok()) << result_;
  // Only the watch's own notification made it read again.
  EXPECT_EQ(store_.get_alert_calls() - first_reads, 1);
}

TEST_F(AlertWatcherTest, UnchangedStatusIsNotSentAgain) {
  StoreQueued();
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

TEST_F(AlertWatcherTest, AlertThatVanishedIsNotFound) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  store_.Remove(kAlertId);
  watcher_.AlertChanged(kAlertId);
  EXPECT_EQ(Join().code(), absl::StatusCode::kNotFound);
}

TEST_F(AlertWatcherTest, AnotherCallersAlertIsNotFound) {
  StoreQueued();
  absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
      watcher_.Subscribe(kAlertId, "billing");
  ASSERT_TRUE(subscription.ok());
  EXPECT_EQ(watcher_.Watch(**subscription, "payments", absl::InfiniteFuture(), stream_).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AlertWatcherTest, WatchesPastTheLimitAreRefusedUntilOneCloses) {
  auto first = watcher_.Subscribe(kAlertId, "billing");
  auto second = watcher_.Subscribe(kOtherAlertId, "payments");
  auto third = watcher_.Subscribe(kOtherAlertId, "pager");
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(watcher_.Subscribe(kAlertId, "ops").status().code(),
            absl::StatusCode::kResourceExhausted);
  first->reset();
  EXPECT_TRUE(watcher_.Subscribe(kAlertId, "ops").ok());
}

TEST_F(AlertWatcherTest, WatchesPastTheCallersCapAreRefusedNamingTheCap) {
  auto first = watcher_.Subscribe(kAlertId, "billing");
  auto second = watcher_.Subscribe(kOtherAlertId, "billing");
  ASSERT_TRUE(first.ok() && second.ok());
  const absl::Status refused = watcher_.Subscribe(kAlertId, "billing").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("KLAXON_WATCH_MAX_PER_CALLER=2"), absl::string_view::npos)
      << refused;
  // Another caller still gets a watch, and the capped one does once one of its watches closes.
  EXPECT_TRUE(watcher_.Subscribe(kAlertId, "payments").ok());
  second->reset();
  EXPECT_TRUE(watcher_.Subscribe(kAlertId, "billing").ok());
}

TEST_F(AlertWatcherTest, WatchEndsUnavailableOnceItsLifetimeRanOut) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  clock_.Advance(absl::Minutes(29));
  watcher_.RecheckAll();  // still young: the watch goes on
  clock_.Advance(absl::Minutes(1));
  watcher_.RecheckAll();
  const absl::Status ended = Join();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(ended.message().find("KLAXON_WATCH_MAX_LIFETIME"), absl::string_view::npos) << ended;
  EXPECT_EQ(stream_.sent(), std::vector<AlertStatus>{ALERT_STATUS_QUEUED});
  // A new watch resumes from the alert's current status.
  SetStatus(ALERT_STATUS_DELIVERED);
  StartWatch();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent().back(), ALERT_STATUS_DELIVERED);
}

TEST_F(AlertWatcherTest, ShutdownEndsOpenWatchesAndRefusesNewOnes) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  watcher_.Shutdown();
  EXPECT_EQ(Join().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(watcher_.Subscribe(kAlertId, "billing").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(AlertWatcherTest, CancelEndsTheWatch) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  subscription_->Cancel();
  EXPECT_EQ(Join().code(), absl::StatusCode::kCancelled);
}

TEST_F(AlertWatcherTest, DatabaseDownOnlyDelaysTheWatch) {
  StoreQueued();
  StartWatch();
  ASSERT_TRUE(stream_.WaitForSent(1));
  const int first_reads = store_.get_alert_calls();
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  watcher_.RecheckAll();
  // The failed re-read happened before the database came back.
  while (store_.get_alert_calls() == first_reads) std::this_thread::yield();
  store_.FailWith(absl::OkStatus());
  SetStatus(ALERT_STATUS_DELIVERED);
  watcher_.RecheckAll();
  EXPECT_TRUE(Join().ok()) << result_;
  EXPECT_EQ(stream_.sent().back(), ALERT_STATUS_DELIVERED);
}

}  // namespace
}  // namespace klaxon::audit::alert_watcher_test
