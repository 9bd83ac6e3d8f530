#pragma once
// In-memory stand-ins for the ports of the dispatcher and the status checker, for their unit
// tests: they record what they were asked and answer what the test scripted. Each is thread-safe,
// like the Redis, Kafka and Twilio adapters they stand in for. Their own namespace keeps them
// apart from the shared in-memory adapters of the same ports.

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/request_topics.h"
#include "services/delivery/in_flight_limit.h"
#include "services/delivery/retry_scheduler.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/sender.h"
#include "services/delivery/status_check_queue.h"
#include "services/delivery/status_checker.h"
#include "services/delivery/suppression_list.h"

namespace klaxon::delivery::test_ports {

// The sender a default reservation names.
inline constexpr char kSender[] = "+14155550000";

class ScriptedSender final : public Sender {
 public:
  SendResult Send(const events::v1::AlertRequested&, const transit::AlertPersonalData& personal,
                  const PacedSender& from) override {
    ++calls;
    std::lock_guard lock(mutex_);
    sent_to.push_back(personal.recipient);
    sent_from.push_back(from.address);
    return next;
  }
  SendResult Settle(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                    absl::Time sent_at) override {
    settled_since.push_back(sent_at);
    return settlement;
  }
  absl::StatusOr<delivery::StatusReadBack> ReadStatus(const events::v1::AlertRequested&,
                                                      const std::string& sid) override {
    std::lock_guard lock(mutex_);
    read_sids.push_back(sid);
    return status_read;
  }
  SendResult next{.kind = SendResult::Kind::kAccepted, .sid = "SM1", .provider_status = "queued"};
  SendResult settlement{.kind = SendResult::Kind::kUnknown, .reason = "list failed"};
  std::atomic<int> calls = 0;
  std::vector<std::string> sent_to;
  std::vector<std::string> sent_from;
  std::vector<absl::Time> settled_since;
  absl::StatusOr<delivery::StatusReadBack> status_read = absl::UnavailableError("not scripted");
  std::vector<std::string> read_sids;

 private:
  std::mutex mutex_;
};

// Counts and keeps what it is told; read once the checker is idle.
class RecordingStatusCheckObserver final : public StatusCheckObserver {
 public:
  void OnStatusRead(const events::v1::AlertRequested&) override { ++status_reads; }
  void OnStatusChecked(const events::v1::AlertRequested&, StatusCheckResult result) override {
    std::lock_guard lock(mutex_);
    status_checks.emplace_back(StatusCheckResultName(result));
  }
  void OnHandedBack(const events::v1::AlertRequested&, const absl::Status&) override {}
  void OnCharged(const events::v1::AlertRequested&,
                 const events::v1::AttemptCharge& charge) override {
    std::lock_guard lock(mutex_);
    charges.push_back(charge);
  }
  void OnBudgetUnsettled(const events::v1::AlertRequested&, const absl::Status& reason) override {
    std::lock_guard lock(mutex_);
    unsettled.push_back(reason);
  }

  std::atomic<int> status_reads = 0;
  std::vector<std::string> status_checks;
  std::vector<events::v1::AttemptCharge> charges;
  std::vector<absl::Status> unsettled;

 private:
  std::mutex mutex_;
};

class InMemoryRetryScheduler final : public RetryScheduler {
 public:
  struct Scheduled {
    events::v1::AlertRequested request;
    absl::Time not_before;
  };

  absl::Status Schedule(const events::v1::AlertRequested& request, absl::Time not_before) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    scheduled_.push_back({.request = request, .not_before = not_before});
    return absl::OkStatus();
  }

  std::vector<Scheduled> scheduled() const {
    std::lock_guard lock(mutex_);
    return scheduled_;
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  mutable std::mutex mutex_;
  absl::Status status_;
  std::vector<Scheduled> scheduled_;
};

// Records the checks scheduled (first or next) and finished; ClaimDue hands out the checks put
// in `due`, as many as asked, whatever the time. What it records is for the tests to read once
// the threads that used it are done.
class InMemoryStatusCheckQueue final : public StatusCheckQueue {
 public:
  struct Scheduled {
    events::v1::AlertRequested request;
    absl::Time not_before;
    bool first = false;  // ScheduleFirst
  };

  absl::Status Schedule(const events::v1::AlertRequested& check, absl::Time not_before) override {
    return Keep(check, not_before, false);
  }
  absl::Status ScheduleFirst(const events::v1::AlertRequested& check,
                             absl::Time not_before) override {
    return Keep(check, not_before, true);
  }
  absl::StatusOr<DueChecks> ClaimDue(CheckLane lane, absl::Time, size_t max,
                                     absl::Duration lease) override {
    std::lock_guard lock(mutex_);
    lanes.push_back(lane);
    asked.push_back(max);
    leases.push_back(lease);
    if (!claim_status.ok()) return claim_status;
    DueChecks out{.kept = static_cast<int64_t>(due.size())};
    while (!due.empty() && out.checks.size() < max) {
      out.checks.push_back(due.front());
      due.pop_front();
    }
    return out;
  }
  absl::Status Finish(CheckLane lane, std::span<const ClaimedCheck> checks) override {
    std::lock_guard lock(mutex_);
    lanes.push_back(lane);
    if (!finish_status.ok()) return finish_status;
    for (const ClaimedCheck& check : checks) finished.push_back(check.sid);
    return absl::OkStatus();
  }

  std::vector<Scheduled> scheduled() const {
    std::lock_guard lock(mutex_);
    return scheduled_;
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }
  size_t Claims() const {
    std::lock_guard lock(mutex_);
    return asked.size();
  }
  std::vector<std::string> Finished() const {
    std::lock_guard lock(mutex_);
    return finished;
  }

  std::deque<ClaimedCheck> due = {};
  std::vector<CheckLane> lanes = {};  // of every claim and finish
  std::vector<size_t> asked = {};     // each claim's `max`
  std::vector<absl::Duration> leases = {};
  std::vector<std::string> finished = {};
  absl::Status claim_status = absl::OkStatus();
  absl::Status finish_status = absl::OkStatus();

 private:
  absl::Status Keep(const events::v1::AlertRequested& check, absl::Time not_before, bool first) {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    scheduled_.push_back({.request = check, .not_before = not_before, .first = first});
    return absl::OkStatus();
  }

  mutable std::mutex mutex_;
  absl::Status status_;
  std::vector<Scheduled> scheduled_;
};

class InMemorySuppressionList final : public SuppressionList {
 public:
  absl::StatusOr<bool> IsSuppressed(std::string_view recipient) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    return suppressed_.contains(std::string(recipient));
  }
  absl::Status Suppress(std::string_view recipient, absl::Time) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    suppressed_.insert(std::string(recipient));
    return absl::OkStatus();
  }
  absl::Status Lift(std::string_view recipient, absl::Time) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    suppressed_.erase(std::string(recipient));
    return absl::OkStatus();
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  std::mutex mutex_;
  absl::Status status_;
  std::set<std::string> suppressed_;
};

// Answers every Reserve with the scripted decision; a default decision sends at once from the first
// sender it is given. The
// send-time guard answers its scripted decisions in turn, then clears every send.
class ScriptedSendLimiter final : public SendLimiter {
 public:
  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested&, std::string_view,
                                        std::span<const PacedSender> among,
                                        absl::Time now) override {
    std::lock_guard lock(mutex_);
    std::vector<std::string>& addresses = reserved_among_.emplace_back();
    for (const PacedSender& sender : among) addresses.push_back(sender.address);
    if (!status_.ok()) return status_;
    if (decision_) return *decision_;
    return LimitDecision{.kind = LimitDecision::Kind::kSend,
                         .send_at = now,
                         .sender = among.empty() ? PacedSender{.address = kSender} : among[0]};
  }
  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested&,
                                            const PacedSender& sender, absl::Time now,
                                            absl::Duration waited) override {
    std::lock_guard lock(mutex_);
    guard_waits_.push_back(waited);
    guarded_senders_.push_back(sender.address);
    if (guard_.empty()) return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now};
    absl::StatusOr<LimitDecision> answer = std::move(guard_.front());
    guard_.erase(guard_.begin());
    return answer;
  }
  void Decide(LimitDecision decision) {
    std::lock_guard lock(mutex_);
    decision_ = std::move(decision);
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }
  void GuardAnswers(absl::StatusOr<LimitDecision> answer) {
    std::lock_guard lock(mutex_);
    guard_.push_back(std::move(answer));
  }
  // The `waited` of every ClearToSend so far, in order.
  std::vector<absl::Duration> guard_waits() const {
    std::lock_guard lock(mutex_);
    return guard_waits_;
  }
  // The addresses of every Reserve's `among` so far, in order.
  std::vector<std::vector<std::string>> reserved_among() const {
    std::lock_guard lock(mutex_);
    return reserved_among_;
  }
  // The `sender` of every ClearToSend so far, in order.
  std::vector<std::string> guarded_senders() const {
    std::lock_guard lock(mutex_);
    return guarded_senders_;
  }

 private:
  mutable std::mutex mutex_;
  absl::Status status_;
  std::optional<LimitDecision> decision_;
  std::vector<absl::StatusOr<LimitDecision>> guard_;
  std::vector<absl::Duration> guard_waits_;
  std::vector<std::string> guarded_senders_;
  std::vector<std::vector<std::string>> reserved_among_;
};

// A bound of `capacity` slots in this process, `urgent_reserve` of them for critical requests.
class InMemoryInFlightLimit final : public InFlightLimit {
 public:
  explicit InMemoryInFlightLimit(int capacity = 100, int urgent_reserve = 0)
      : capacity_(capacity), urgent_reserve_(urgent_reserve) {}

  absl::StatusOr<std::string> Acquire(absl::Duration, types::v1::Priority priority) override {
    std::lock_guard lock(mutex_);
    const int limit = kafka::Urgent(priority) ? capacity_ : capacity_ - urgent_reserve_;
    if (in_flight_ >= limit) return absl::ResourceExhaustedError("no slot in flight free");
    ++in_flight_;
    return std::to_string(next_slot_++);
  }
  void Release(const std::string&) override {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  int in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
  }

 private:
  mutable std::mutex mutex_;
  const int capacity_;
  const int urgent_reserve_;
  int in_flight_ = 0;
  int next_slot_ = 0;
};

}  // namespace klaxon::delivery::test_ports
