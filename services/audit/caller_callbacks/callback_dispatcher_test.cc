#include "services/audit/caller_callbacks/callback_dispatcher.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/caller_callbacks/signature.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"

namespace klaxon::audit::callback_dispatcher_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kSecret[] = "callback-secret-0123456789";
constexpr char kUrl[] = "https://hooks.example.com/klaxon";

// The outbox's rules in memory: each alert's lowest pending sequence only, due ones oldest
// first, leased until settled or the lease ends.
class FakeOutbox final : public CallbackOutbox {
 public:
  struct Row {
    PendingCallback callback;
    CallbackFate state = CallbackFate::kRetry;  // kRetry: pending
    absl::Time next_attempt_at;
    std::string error;
  };

  void Add(PendingCallback callback, absl::Time due) {
    rows_.push_back({.callback = std::move(callback), .next_attempt_at = due});
  }

  absl::StatusOr<std::vector<PendingCallback>> Claim(
      size_t limit, absl::Time now, absl::Time lease_until,
      const std::vector<std::string>& last_callers) override {
    std::vector<PendingCallback> claimed;
    for (const bool served_last : {false, true}) {
      for (Row& row : rows_) {
        if (claimed.size() == limit) break;
        if (row.state != CallbackFate::kRetry || row.next_attempt_at > now) continue;
        if (absl::c_linear_search(last_callers, row.callback.change.caller) != served_last) {
          continue;
        }
        if (HasEarlierPending(row)) continue;
        row.next_attempt_at = lease_until;
        ++row.callback.attempts;
        claimed.push_back(row.callback);
      }
    }
    return claimed;
  }

  absl::StatusOr<std::vector<SettlementOutcome>> Settle(
      const std::vector<CallbackSettlement>& settlements) override {
    std::vector<SettlementOutcome> outcomes;
    for (const CallbackSettlement& settlement : settlements) {
      if (busy_alerts.contains(settlement.alert_id)) {
        outcomes.push_back(SettlementOutcome::kBusy);
        continue;
      }
      settled.push_back(settlement);
      outcomes.push_back(Apply(settlement));
    }
    return outcomes;
  }

  absl::StatusOr<PendingCallbacks> Pending() override {
    PendingCallbacks pending;
    for (const Row& row : rows_) {
      if (row.state != CallbackFate::kRetry) continue;
      ++pending.count;
      pending.oldest_stored_at = std::min(pending.oldest_stored_at, row.callback.stored_at);
    }
    return pending;
  }

  const Row& row(size_t index) const { return rows_[index]; }
  std::vector<CallbackSettlement> settled;  // every one not left busy, applied or not
  std::set<std::string> busy_alerts;  // written by another transaction: their settlements wait

 private:
  // Only while the settlement's claim still holds the row: same attempts, still pending.
  SettlementOutcome Apply(const CallbackSettlement& settlement) {
    for (Row& row : rows_) {
      if (row.callback.change.alert_id != settlement.alert_id ||
          row.callback.sequence != settlement.sequence ||
          row.callback.attempts != settlement.attempts || row.state != CallbackFate::kRetry) {
        continue;
      }
      row.state = settlement.fate;
      row.error = settlement.error;
      if (settlement.fate == CallbackFate::kRetry) row.next_attempt_at = settlement.next_attempt_at;
      return SettlementOutcome::kRecorded;
    }
    return SettlementOutcome::kLeaseLost;
  }

  bool HasEarlierPending(const Row& row) const {
    for (const Row& other : rows_) {
      if (other.callback.change.alert_id == row.callback.change.alert_id &&
          other.callback.sequence < row.callback.sequence && other.state == CallbackFate::kRetry) {
        return true;
      }
    }
    return false;
  }

  std::vector<Row> rows_;
};

// A FakeOutbox shared by the dispatcher's threads whose settles wait until Release(), as a settle
// waits for a busy Postgres.
class HeldSettleOutbox final : public CallbackOutbox {
 public:
  explicit HeldSettleOutbox(FakeOutbox& outbox) : outbox_(outbox) {}

  absl::StatusOr<std::vector<PendingCallback>> Claim(
      size_t limit, absl::Time now, absl::Time lease_until,
      const std::vector<std::string>& last_callers) override {
    std::lock_guard<std::mutex> lock(mutex_);
    absl::StatusOr<std::vector<PendingCallback>> claimed =
        outbox_.Claim(limit, now, lease_until, last_callers);
    claimed_ += claimed->size();
    changed_.notify_all();
    return claimed;
  }

  absl::StatusOr<std::vector<SettlementOutcome>> Settle(
      const std::vector<CallbackSettlement>& settlements) override {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return released_; });
    return outbox_.Settle(settlements);
  }

  absl::StatusOr<PendingCallbacks> Pending() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return outbox_.Pending();
  }

  // Whether `count` callbacks were claimed within 10 s.
  bool AwaitClaimed(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10),
                             [this, count] { return claimed_ >= count; });
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  FakeOutbox& outbox_;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t claimed_ = 0;
  bool released_ = false;
};

// Answers each POST with the next scripted answer (2xx once the script is used up).
class ScriptedPoster final : public CallbackPoster {
 public:
  CallbackAnswer Post(const CallbackPost& post) override {
    posts.push_back(post);
    if (answers.empty()) return {.kind = CallbackAnswer::Kind::kAnswered, .http_status = 204};
    CallbackAnswer answer = answers.front();
    answers.pop_front();
    return answer;
  }

  std::deque<CallbackAnswer> answers;
  std::vector<CallbackPost> posts;
};

std::string HeaderOf(const CallbackPost& post, std::string_view name) {
  for (const auto& [key, value] : post.headers) {
    if (key == name) return value;
  }
  return "";
}

class CallbackDispatcherTest : public ::testing::Test {
 protected:
  CallbackDispatcherTest() {
    subscriptions_ =
        *CallbackSubscriptions::Parse(absl::StrCat("oncall ", kUrl, " ", kSecret, "\n"));
  }

  PendingCallback Change(std::string alert_id, uint32_t sequence, AlertStatus status) {
    return {.change = {.alert_id = std::move(alert_id),
                       .caller = "oncall",
                       .channel = klaxon::types::v1::CHANNEL_SMS,
                       .status = status,
                       .attempt = 1,
                       .occurred_at = clock_.Now()},
            .sequence = sequence,
            .stored_at = clock_.Now()};
  }

  CallbackDispatcher Dispatcher(CallbackDispatcherOptions options = {}) {
    return CallbackDispatcher(
        outbox_, poster_, subscriptions_, clock_, metrics_, logger_,
        [](std::function<void()> task) { task(); }, [] { return 0.0; }, options);
  }

  // Steps until nothing is left to do now.
  static void Drain(CallbackDispatcher& dispatcher) {
    for (int i = 0; i < 100 && dispatcher.Step(); ++i) {
    }
  }

  double Counter(std::string_view result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_caller_callbacks_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label[0].value == result) return metric.counter.value;
      }
    }
    return 0;
  }

  // Deliveries whose delay was observed.
  uint64_t Delays() {
    for (const auto& family : registry_.Collect()) {
      if (family.name == "klaxon_caller_callback_delay_seconds") {
        return family.metric[0].histogram.sample_count;
      }
    }
    return 0;
  }

  // Another replica claims the callbacks due once the dispatcher's leases (`lease` at most)
  // ran out; how many it took.
  size_t ClaimAgainElsewhere(absl::Duration lease) {
    clock_.Advance(lease + absl::Seconds(1));
    return outbox_.Claim(100, clock_.Now(), clock_.Now() + lease, {})->size();
  }

  timing::FakeClock clock_;
  FakeOutbox outbox_;
  ScriptedPoster poster_;
  CallbackSubscriptions subscriptions_;
  prometheus::Registry registry_;
  CallbackMetrics metrics_{registry_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("dispatcher-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
};

TEST_F(CallbackDispatcherTest, PostsASignedJsonEventToTheCallersUrl) {
  PendingCallback failed = Change("alert-1", 3, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
  failed.change.twilio_error_code = 30003;
  failed.change.reason = "Twilio 30003: unreachable handset";
  failed.change.occurred_at = absl::FromUnixMicros(1'700'000'000'123'456);
  outbox_.Add(failed, clock_.Now());
  CallbackDispatcher dispatcher = Dispatcher();
  Drain(dispatcher);

  ASSERT_THAT(poster_.posts, SizeIs(1));
  const CallbackPost& post = poster_.posts[0];
  EXPECT_EQ(post.url, kUrl);
  const nlohmann::json body = nlohmann::json::parse(post.body);
  EXPECT_EQ(body["alert_id"], "alert-1");
  EXPECT_EQ(body["sequence"], 3);
  EXPECT_EQ(body["caller"], "oncall");
  EXPECT_EQ(body["channel"], "CHANNEL_SMS");
  EXPECT_EQ(body["status"], "ALERT_STATUS_UNDELIVERED");
  EXPECT_EQ(body["attempt"], 1);
  EXPECT_EQ(body["error_code"], 30003);
  EXPECT_EQ(body["reason"], "Twilio 30003: unreachable handset");
  EXPECT_EQ(body["occurred_at"], "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(HeaderOf(post, caller_callbacks::kEventIdHeader), "alert-1/3");
  const std::string timestamp = HeaderOf(post, caller_callbacks::kTimestampHeader);
  EXPECT_EQ(timestamp, absl::StrCat(absl::ToUnixSeconds(clock_.Now())));
  EXPECT_TRUE(caller_callbacks::Verify(kSecret, timestamp,
                                       HeaderOf(post, caller_callbacks::kSignatureHeader),
                                       post.body, clock_.Now())
                  .ok());
  EXPECT_FALSE(caller_callbacks::Verify("another-secret-0123456789", timestamp,
                                        HeaderOf(post, caller_callbacks::kSignatureHeader),
                                        post.body, clock_.Now())
                   .ok());
  ASSERT_THAT(outbox_.settled, SizeIs(1));
  EXPECT_EQ(outbox_.settled[0].fate, CallbackFate::kDelivered);
  EXPECT_EQ(Counter("delivered"), 1);
}

TEST_F(CallbackDispatcherTest, AnAlertsOwnUrlTakesThePlaceOfTheCallersSignedWithItsSecret) {
  PendingCallback own = Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT);
  own.change.callback_url = "https://hooks.example.com/db-1";
  outbox_.Add(own, clock_.Now());
  CallbackDispatcher dispatcher = Dispatcher();
  Drain(dispatcher);

  ASSERT_THAT(poster_.posts, SizeIs(1));
  const CallbackPost& post = poster_.posts[0];
  EXPECT_EQ(post.url, "https://hooks.example.com/db-1");
  EXPECT_TRUE(caller_callbacks::Verify(kSecret, HeaderOf(post, caller_callbacks::kTimestampHeader),
                                       HeaderOf(post, caller_callbacks::kSignatureHeader),
                                       post.body, clock_.Now())
                  .ok());
}

TEST_F(CallbackDispatcherTest, AnAlertsOwnUrlWithoutACallerSecretIsNeverPostedUnsigned) {
  PendingCallback own = Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT);
  own.change.caller = "billing";
  own.change.callback_url = "https://billing.example.com/cb";
  outbox_.Add(own, clock_.Now());
  CallbackDispatcher dispatcher = Dispatcher();
  Drain(dispatcher);
  EXPECT_THAT(poster_.posts, SizeIs(0));
  EXPECT_THAT(outbox_.row(0).error, HasSubstr("no callback secret in KLAXON_CALLER_CALLBACKS"));
  EXPECT_EQ(Counter("unconfigured"), 1);
}

TEST_F(CallbackDispatcherTest, AnAlertsChangesGoInOrderEachAfterTheOneBeforeIsDelivered) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_QUEUED), clock_.Now());
  outbox_.Add(Change("alert-1", 2, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  outbox_.Add(Change("alert-1", 3, klaxon::types::v1::ALERT_STATUS_DELIVERED), clock_.Now());
  poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered, .http_status = 500}};
  CallbackDispatcher dispatcher = Dispatcher();
  Drain(dispatcher);

  // The 500 holds back 2 and 3 until 1 is delivered.
  ASSERT_THAT(poster_.posts, SizeIs(1));
  EXPECT_EQ(outbox_.settled[0].fate, CallbackFate::kRetry);
  EXPECT_EQ(outbox_.settled[0].error, "the caller answered HTTP 500");
  clock_.Advance(absl::Seconds(1));
  Drain(dispatcher);

  std::vector<std::string> order;
  for (const CallbackPost& post : poster_.posts) {
    order.push_back(HeaderOf(post, caller_callbacks::kEventIdHeader));
  }
  EXPECT_THAT(order, ElementsAre("alert-1/1", "alert-1/1", "alert-1/2", "alert-1/3"));
  EXPECT_EQ(Counter("rejected"), 1);
  EXPECT_EQ(Counter("delivered"), 3);
}

TEST_F(CallbackDispatcherTest, ASettlementLeftWhileItsAlertIsWrittenIsSettledLater) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_QUEUED), clock_.Now());
  outbox_.Add(Change("alert-1", 2, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  outbox_.busy_alerts = {"alert-1"};
  CallbackDispatcher dispatcher = Dispatcher();
  Drain(dispatcher);
  // Delivered, but not yet recorded: the next change is not due.
  ASSERT_THAT(poster_.posts, SizeIs(1));
  ASSERT_THAT(outbox_.settled, IsEmpty());

  outbox_.busy_alerts.clear();
  Drain(dispatcher);
  ASSERT_THAT(outbox_.settled, SizeIs(2));
  EXPECT_EQ(outbox_.settled[0].sequence, 1u);
  EXPECT_EQ(outbox_.settled[0].fate, CallbackFate::kDelivered);
  EXPECT_THAT(poster_.posts, SizeIs(2));
  EXPECT_EQ(Counter("delivered"), 2);  // counted once each
}

TEST_F(CallbackDispatcherTest, RetriesWithDoublingWaitsAndHonoursRetryAfter) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  poster_.answers = {{.kind = CallbackAnswer::Kind::kTimedOut, .error = "timed out"},
                     {.kind = CallbackAnswer::Kind::kNetworkError, .error = "connection refused"},
                     {.kind = CallbackAnswer::Kind::kAnswered,
                      .http_status = 503,
                      .retry_after = absl::Seconds(120)}};
  CallbackDispatcher dispatcher =
      Dispatcher({.first_retry = absl::Seconds(2), .max_retry = absl::Seconds(60)});

  std::vector<absl::Duration> waits;
  for (int i = 0; i < 3; ++i) {
    Drain(dispatcher);
    ASSERT_EQ(outbox_.row(0).state, CallbackFate::kRetry);
    waits.push_back(outbox_.row(0).next_attempt_at - clock_.Now());
    clock_.Advance(waits.back());
  }
  // The jitter source returns 0: each wait is half its ceiling (2 s, 4 s), and Retry-After wins
  // up to the longest wait.
  EXPECT_THAT(waits, ElementsAre(absl::Seconds(1), absl::Seconds(2), absl::Seconds(60)));
  EXPECT_EQ(Counter("timed_out"), 1);
  EXPECT_EQ(Counter("network_error"), 1);
  EXPECT_EQ(Counter("rejected"), 1);
  Drain(dispatcher);
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kDelivered);
}

TEST_F(CallbackDispatcherTest, GivesUpAfterItsTimeAndThenSendsTheNextChange) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  outbox_.Add(Change("alert-1", 2, klaxon::types::v1::ALERT_STATUS_DELIVERED), clock_.Now());
  CallbackDispatcher dispatcher =
      Dispatcher({.give_up_after = absl::Minutes(10), .max_retry = absl::Minutes(4)});
  for (int i = 0; i < 20; ++i) {
    poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered, .http_status = 502}};
    Drain(dispatcher);
    if (outbox_.row(0).state != CallbackFate::kRetry) break;
    clock_.Advance(outbox_.row(0).next_attempt_at - clock_.Now());
  }

  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kDeadLettered);
  EXPECT_EQ(outbox_.row(0).error, "the caller answered HTTP 502");
  // Waits of 0.5 s to 2 min reach 607.5 s; the last try is at the end instead.
  EXPECT_EQ(clock_.Now() - outbox_.row(0).callback.stored_at, absl::Minutes(10));
  EXPECT_EQ(Counter("dead_lettered"), 1);
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("caller_callback_dead_lettered"));
  Drain(dispatcher);
  EXPECT_EQ(outbox_.row(1).state, CallbackFate::kDelivered);
}

TEST_F(CallbackDispatcherTest, ARetryAfterOfADayIsWaitedOnlyTheLongestWait) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered,
                      .http_status = 503,
                      .retry_after = absl::Hours(24)}};
  CallbackDispatcher dispatcher = Dispatcher({.max_retry = absl::Hours(1)});
  Drain(dispatcher);
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kRetry) << "not given up on its first failure";
  EXPECT_EQ(outbox_.row(0).next_attempt_at - clock_.Now(), absl::Hours(1));
}

TEST_F(CallbackDispatcherTest, ADeadLetterIsCountedAndLoggedOnlyOnceRecorded) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered, .http_status = 502}};
  outbox_.busy_alerts = {"alert-1"};
  CallbackDispatcher dispatcher = Dispatcher({.give_up_after = absl::ZeroDuration()});
  Drain(dispatcher);
  EXPECT_EQ(Counter("rejected"), 1) << "the POST itself is counted when it ends";
  EXPECT_EQ(Counter("dead_lettered"), 0) << "its dead letter is not recorded yet";
  outbox_.busy_alerts.clear();
  Drain(dispatcher);
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kDeadLettered);
  EXPECT_EQ(Counter("dead_lettered"), 1);
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("caller_callback_dead_lettered"));
}

TEST_F(CallbackDispatcherTest, ADeliveryAfterAnotherClaimTookTheCallbackIsCountedLeaseLost) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  outbox_.Add(Change("alert-1", 2, klaxon::types::v1::ALERT_STATUS_DELIVERED), clock_.Now());
  std::vector<std::function<void()>> parked;  // a POST that outlives its lease
  const CallbackDispatcherOptions options{.timeout = absl::Seconds(10),
                                          .lease_margin = absl::Seconds(30)};
  CallbackDispatcher dispatcher(
      outbox_, poster_, subscriptions_, clock_, metrics_, logger_,
      [&parked](std::function<void()> task) { parked.push_back(std::move(task)); },
      [] { return 0.0; }, options);
  ASSERT_TRUE(dispatcher.Step());
  ASSERT_THAT(parked, SizeIs(1));
  ASSERT_EQ(ClaimAgainElsewhere(options.timeout + options.lease_margin), 1u);
  parked[0]();  // answered 2xx at last
  dispatcher.Step();

  ASSERT_THAT(outbox_.settled, SizeIs(1));
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kRetry) << "still the newer claim's";
  EXPECT_THAT(parked, SizeIs(1)) << "the next change waits for the newer claim's settlement";
  EXPECT_EQ(outbox_.row(0).callback.attempts, 2u);
  EXPECT_EQ(Counter("lease_lost"), 1);
  EXPECT_EQ(Counter("delivered"), 1) << "the POST itself was answered 2xx";
  EXPECT_EQ(Delays(), 0u) << "no delivery was recorded";
  ASSERT_FALSE(sink_.Lines().empty());
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("\"caller_callback_lease_lost\""));
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("\"fate\":\"delivered\""));
}

TEST_F(CallbackDispatcherTest, AGiveUpAfterAnotherClaimTookTheCallbackIsNoDeadLetter) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered, .http_status = 502}};
  std::vector<std::function<void()>> parked;
  const CallbackDispatcherOptions options{.timeout = absl::Seconds(10),
                                          .give_up_after = absl::ZeroDuration(),
                                          .lease_margin = absl::Seconds(30)};
  CallbackDispatcher dispatcher(
      outbox_, poster_, subscriptions_, clock_, metrics_, logger_,
      [&parked](std::function<void()> task) { parked.push_back(std::move(task)); },
      [] { return 0.0; }, options);
  ASSERT_TRUE(dispatcher.Step());
  ASSERT_EQ(ClaimAgainElsewhere(options.timeout + options.lease_margin), 1u);
  parked[0]();
  dispatcher.Step();

  ASSERT_THAT(outbox_.settled, SizeIs(1));
  EXPECT_EQ(outbox_.settled[0].fate, CallbackFate::kDeadLettered) << "what it would have been";
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kRetry);
  EXPECT_EQ(Counter("dead_lettered"), 0);
  EXPECT_EQ(Counter("lease_lost"), 1);
  for (const std::string& line : sink_.Lines()) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("caller_callback_dead_lettered")));
  }
  ASSERT_FALSE(sink_.Lines().empty());
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("\"fate\":\"dead_lettered\""));
}

TEST_F(CallbackDispatcherTest, ACallerWithoutASecretIsRetriedWithoutAPostThenDeadLettered) {
  PendingCallback orphan = Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT);
  orphan.change.caller = "billing";  // a rollout may be adding it to KLAXON_CALLER_CALLBACKS
  outbox_.Add(orphan, clock_.Now());
  CallbackDispatcher dispatcher = Dispatcher({.give_up_after = absl::Minutes(10)});
  Drain(dispatcher);
  EXPECT_THAT(poster_.posts, SizeIs(0));
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kRetry);
  EXPECT_THAT(outbox_.row(0).error, HasSubstr("no callback secret in KLAXON_CALLER_CALLBACKS"));
  EXPECT_EQ(Counter("unconfigured"), 1);
  for (int i = 0; i < 20 && outbox_.row(0).state == CallbackFate::kRetry; ++i) {
    clock_.Advance(outbox_.row(0).next_attempt_at - clock_.Now());
    Drain(dispatcher);
  }
  EXPECT_THAT(poster_.posts, SizeIs(0));
  EXPECT_EQ(outbox_.row(0).state, CallbackFate::kDeadLettered);
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("add the caller's line to KLAXON_CALLER_CALLBACKS"));
}

TEST_F(CallbackDispatcherTest, ClaimsNoMoreThanItsFreeSlots) {
  for (int i = 0; i < 5; ++i) {
    outbox_.Add(Change(absl::StrCat("alert-", i), 1, klaxon::types::v1::ALERT_STATUS_SENT),
                clock_.Now());
  }
  std::vector<std::function<void()>> parked;  // POSTs that have not finished yet
  CallbackDispatcher dispatcher(
      outbox_, poster_, subscriptions_, clock_, metrics_, logger_,
      [&parked](std::function<void()> task) { parked.push_back(std::move(task)); },
      [] { return 0.0; }, {.concurrency = 2});
  EXPECT_TRUE(dispatcher.Step());
  EXPECT_FALSE(dispatcher.Step());  // both slots taken
  EXPECT_THAT(parked, SizeIs(2));
  parked[0]();
  EXPECT_TRUE(dispatcher.Step());  // settles one, claims one more
  EXPECT_THAT(parked, SizeIs(3));
  EXPECT_THAT(outbox_.settled, SizeIs(1));
}

TEST_F(CallbackDispatcherTest, ClaimsAndPostsGoOnWhileASettleWaits) {
  for (int i = 0; i < 3; ++i) {
    outbox_.Add(Change(absl::StrCat("alert-", i), 1, klaxon::types::v1::ALERT_STATUS_SENT),
                clock_.Now());
  }
  HeldSettleOutbox held(outbox_);
  CallbackDispatcher dispatcher(
      held, poster_, subscriptions_, clock_, metrics_, logger_,
      [](std::function<void()> task) { task(); }, [] { return 0.0; }, {.concurrency = 1});
  {
    std::jthread running([&dispatcher](std::stop_token stop) { dispatcher.Run(stop); });
    // One slot: the second and third are claimed only as the POSTs before them end, while the
    // first one's settle still waits.
    EXPECT_TRUE(held.AwaitClaimed(3));
    held.Release();
  }
  EXPECT_THAT(poster_.posts, SizeIs(3));
  EXPECT_THAT(outbox_.settled, SizeIs(3));
}

TEST_F(CallbackDispatcherTest, ACallerHoldingHalfTheSlotsLeavesTheRestToOthers) {
  subscriptions_ = *CallbackSubscriptions::Parse(absl::StrCat(
      "oncall ", kUrl, " ", kSecret, "\nbilling https://billing.example.com/cb ", kSecret, "\n"));
  for (int i = 0; i < 6; ++i) {  // oncall's changes are due first
    outbox_.Add(Change(absl::StrCat("oncall-", i), 1, klaxon::types::v1::ALERT_STATUS_SENT),
                clock_.Now());
  }
  for (int i = 0; i < 3; ++i) {
    PendingCallback billing =
        Change(absl::StrCat("billing-", i), 1, klaxon::types::v1::ALERT_STATUS_SENT);
    billing.change.caller = "billing";
    outbox_.Add(billing, clock_.Now() + absl::Milliseconds(1));
  }
  clock_.Advance(absl::Seconds(1));
  std::vector<std::function<void()>> parked;  // POSTs to an endpoint that does not answer yet
  CallbackDispatcher dispatcher(
      outbox_, poster_, subscriptions_, clock_, metrics_, logger_,
      [&parked](std::function<void()> task) { parked.push_back(std::move(task)); },
      [] { return 0.0; }, {.concurrency = 4});
  ASSERT_TRUE(dispatcher.Step());  // four of oncall's: nobody held a slot yet
  ASSERT_THAT(parked, SizeIs(4));
  // As oncall's POSTs end, the freed slots go to billing while oncall holds two or more.
  parked[0]();
  ASSERT_TRUE(dispatcher.Step());
  parked[1]();
  ASSERT_TRUE(dispatcher.Step());
  ASSERT_THAT(parked, SizeIs(6));
  parked[4]();
  parked[5]();
  std::vector<std::string> urls;
  for (const CallbackPost& post : poster_.posts) urls.push_back(post.url);
  EXPECT_THAT(urls, ElementsAre(kUrl, kUrl, "https://billing.example.com/cb",
                                "https://billing.example.com/cb"));
}

TEST_F(CallbackDispatcherTest, ReportsPendingCallbacksAndTheOldestAge) {
  outbox_.Add(Change("alert-1", 1, klaxon::types::v1::ALERT_STATUS_SENT), clock_.Now());
  clock_.Advance(absl::Seconds(30));
  poster_.answers = {{.kind = CallbackAnswer::Kind::kAnswered, .http_status = 500}};
  CallbackDispatcher dispatcher = Dispatcher();
  dispatcher.Step();
  double pending = -1;
  double oldest = -1;
  for (const auto& family : registry_.Collect()) {
    if (family.name == "klaxon_caller_callbacks_pending") pending = family.metric[0].gauge.value;
    if (family.name == "klaxon_caller_callbacks_oldest_pending_age_seconds") {
      oldest = family.metric[0].gauge.value;
    }
  }
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(oldest, 30);
}

}  // namespace
}  // namespace klaxon::audit::callback_dispatcher_test
