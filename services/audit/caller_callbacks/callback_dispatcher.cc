#include "services/audit/caller_callbacks/callback_dispatcher.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/caller_callbacks/signature.h"
#include "klaxon/types/v1/types.pb.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {
namespace {

constexpr absl::Duration kClaimFailureLogEvery = absl::Minutes(1);

CallbackResult ResultOf(const CallbackAnswer& answer) {
  switch (answer.kind) {
    case CallbackAnswer::Kind::kAnswered:
      return answer.http_status / 100 == 2 ? CallbackResult::kDelivered : CallbackResult::kRejected;
    case CallbackAnswer::Kind::kTimedOut:
      return CallbackResult::kTimedOut;
    case CallbackAnswer::Kind::kNetworkError:
      return CallbackResult::kNetworkError;
    case CallbackAnswer::Kind::kNoSecret:
      return CallbackResult::kUnconfigured;
  }
  return CallbackResult::kNetworkError;  // unreachable: every kind is handled above
}

std::string_view LabelOf(CallbackFate fate) {
  switch (fate) {
    case CallbackFate::kDelivered:
      return "delivered";
    case CallbackFate::kRetry:
      return "retry";
    case CallbackFate::kDeadLettered:
      return "dead_lettered";
  }
  return "retry";  // unreachable: every fate is handled above
}

std::string ErrorOf(const CallbackAnswer& answer) {
  if (answer.kind == CallbackAnswer::Kind::kAnswered) {
    return absl::StrCat("the caller answered HTTP ", answer.http_status);
  }
  return answer.error;
}

}  // namespace

std::string CallbackBody(const PendingCallback& callback) {
  const StatusChange& change = callback.change;
  const nlohmann::json body = {
      {"alert_id", change.alert_id},
      {"sequence", callback.sequence},
      {"caller", change.caller},
      {"channel", klaxon::types::v1::Channel_Name(change.channel)},
      {"status", klaxon::types::v1::AlertStatus_Name(change.status)},
      {"attempt", change.attempt},
      {"error_code", change.twilio_error_code},
      {"reason", change.reason},
      {"occurred_at",
       absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", change.occurred_at, absl::UTCTimeZone())}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

CallbackDispatcher::CallbackDispatcher(CallbackOutbox& outbox, CallbackPoster& poster,
                                       const CallbackSubscriptions& subscriptions,
                                       timing::Clock& clock, CallbackMetrics& metrics,
                                       const log::Logger& logger, Executor executor,
                                       std::function<double()> uniform,
                                       CallbackDispatcherOptions options)
    : outbox_(outbox),
      poster_(poster),
      subscriptions_(subscriptions),
      clock_(clock),
      metrics_(metrics),
      logger_(logger),
      executor_(std::move(executor)),
      uniform_(std::move(uniform)),
      options_(options) {}

size_t CallbackDispatcher::SettleFinished() {
  std::vector<Finished> finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished.swap(finished_);
  }
  if (finished.empty() && busy_.empty()) return 0;
  std::vector<Decision> decisions;
  decisions.swap(busy_);
  for (const Finished& done : finished) decisions.push_back(Decide(done));
  std::vector<CallbackSettlement> settlements;
  settlements.reserve(decisions.size());
  for (const Decision& decision : decisions) settlements.push_back(decision.settlement);
  absl::StatusOr<std::vector<SettlementOutcome>> outcomes = outbox_.Settle(settlements);
  if (outcomes.ok() && outcomes->size() != settlements.size()) {
    outcomes =
        absl::InternalError(absl::StrCat("the outbox answered ", outcomes->size(), " outcomes for ",
                                         settlements.size(), " settlements"));
  }
  if (!outcomes.ok()) {
    // The leases run out and the callbacks are sent again: at least once, never lost.
    logger_.Warn("caller_callbacks_not_settled",
                 {{"callbacks", settlements.size()},
                  {"error", std::string(outcomes.status().message())},
                  {"action", "they are sent again once their lease ends; check Postgres"}});
    return 0;
  }
  // Those whose alerts were being written go with the next batch; the others are done with.
  for (size_t i = 0; i < decisions.size(); ++i) {
    switch ((*outcomes)[i]) {
      case SettlementOutcome::kRecorded:
        Report(decisions[i]);
        break;
      case SettlementOutcome::kBusy:
        busy_.push_back(std::move(decisions[i]));
        break;
      case SettlementOutcome::kLeaseLost:
        ReportLeaseLost(decisions[i]);
        break;
    }
  }
  const size_t settled = settlements.size() - busy_.size();
  if (settled > 0) {
    // Their alerts' next changes are due now.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++settles_;
    }
    progress_signal_.notify_all();
  }
  return settled;
}

size_t CallbackDispatcher::ClaimDue() {
  size_t free_slots = 0;
  std::vector<std::string> at_share;  // callers holding half the slots or more
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_slots = options_.concurrency - in_flight_;
    const size_t share = std::max<size_t>(1, options_.concurrency / 2);
    for (const auto& [caller, held] : in_flight_by_caller_) {
      if (held >= share) at_share.push_back(caller);
    }
  }
  RefreshPending();
  if (free_slots == 0) return 0;
  // The other callers' callbacks first; what they leave, anyone's.
  std::vector<PendingCallback> claimed = Claim(free_slots, at_share);
  for (PendingCallback& callback : claimed) Start(std::move(callback));
  return claimed.size();
}

bool CallbackDispatcher::Step() {
  const bool settled = SettleFinished() > 0;
  const bool started = ClaimDue() > 0;
  return settled || started;
}

std::vector<PendingCallback> CallbackDispatcher::Claim(size_t limit,
                                                       const std::vector<std::string>& last) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<PendingCallback>> claimed =
      outbox_.Claim(limit, now, now + options_.timeout + options_.lease_margin, last);
  if (!claimed.ok()) {
    // Once a minute while it lasts, not on every poll.
    if (now - claim_failure_logged_at_ >= kClaimFailureLogEvery) {
      claim_failure_logged_at_ = now;
      logger_.Warn("caller_callbacks_not_claimed",
                   {{"error", std::string(claimed.status().message())},
                    {"action", "retried on every poll; check Postgres"}});
    }
    return {};
  }
  claim_failure_logged_at_ = absl::InfinitePast();
  return *std::move(claimed);
}

void CallbackDispatcher::Run(std::stop_token stop) {
  // Settling is a write beside audit's ingest: on its own thread, so claims and POSTs go on
  // meanwhile (their rows stay leased).
  // Both work in batches of a quarter of the slots: a settle of what ended once that many ended
  // or `settle_wait` passed; a claim again once that many slots came free, a settle made the next
  // changes due, or `poll` passed (changes newly stored).
  const size_t batch = std::max<size_t>(1, options_.concurrency / 4);
  std::jthread settler([this, batch](std::stop_token settler_stop) {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (busy_.empty()) {
          progress_signal_.wait(lock, settler_stop, [this] { return !finished_.empty(); });
          if (finished_.empty()) return;  // stopped, and every POST settled
        }
        // Bounded, stopped or not: what is busy is settled before the dispatcher ends.
        progress_signal_.wait_for(lock, absl::ToChronoMilliseconds(options_.settle_wait),
                                  [this, batch] { return finished_.size() >= batch; });
      }
      SettleFinished();
    }
  });
  while (!stop.stop_requested()) {
    uint64_t settles = 0;
    uint64_t ended = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      settles = settles_;
      ended = ended_;
    }
    ClaimDue();
    std::unique_lock<std::mutex> lock(mutex_);
    progress_signal_.wait_for(lock, stop, absl::ToChronoMilliseconds(options_.poll),
                              [&] { return settles_ != settles || ended_ - ended >= batch; });
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    progress_signal_.wait(lock, [this] { return in_flight_ == 0; });
  }
  settler.request_stop();  // it settles what is left, then ends
}

void CallbackDispatcher::Start(PendingCallback callback) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++in_flight_;
    ++in_flight_by_caller_[callback.change.caller];
  }
  const CallbackSubscription* subscription = subscriptions_.Find(callback.change.caller);
  if (subscription == nullptr) {
    // No secret to sign with: the caller is not in this replica's KLAXON_CALLER_CALLBACKS (a
    // rollout adding it, or an alert naming its own URL for a caller without one). Retried.
    Finish({.callback = std::move(callback),
            .answer = {.kind = CallbackAnswer::Kind::kNoSecret,
                       .error = "the caller has no callback secret in KLAXON_CALLER_CALLBACKS"},
            .answered_at = clock_.Now()});
    return;
  }
  const std::string& url =
      callback.change.callback_url.empty() ? subscription->url : callback.change.callback_url;
  const std::string body = CallbackBody(callback);
  const int64_t timestamp = absl::ToUnixSeconds(clock_.Now());
  CallbackPost post{.url = url,
                    .headers = {{caller_callbacks::kTimestampHeader, absl::StrCat(timestamp)},
                                {caller_callbacks::kSignatureHeader,
                                 caller_callbacks::Sign(subscription->secret, timestamp, body)},
                                {caller_callbacks::kEventIdHeader,
                                 absl::StrCat(callback.change.alert_id, "/", callback.sequence)}},
                    .body = body,
                    .timeout = options_.timeout};
  executor_([this, callback = std::move(callback), post = std::move(post)]() mutable {
    CallbackAnswer answer = poster_.Post(post);
    Finish({.callback = std::move(callback),
            .answer = std::move(answer),
            .answered_at = clock_.Now()});
  });
}

void CallbackDispatcher::Finish(Finished finished) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_flight_;
    auto held = in_flight_by_caller_.find(finished.callback.change.caller);
    if (--held->second == 0) in_flight_by_caller_.erase(held);
    finished_.push_back(std::move(finished));
    ++ended_;
  }
  progress_signal_.notify_all();
}

CallbackDispatcher::Decision CallbackDispatcher::Decide(const Finished& finished) {
  const PendingCallback& callback = finished.callback;
  Decision decision{.settlement = {.alert_id = callback.change.alert_id,
                                   .sequence = callback.sequence,
                                   .attempts = callback.attempts},
                    .caller = callback.change.caller,
                    .result = ResultOf(finished.answer)};
  metrics_.Posted(decision.result);
  CallbackSettlement& settlement = decision.settlement;
  if (decision.result == CallbackResult::kDelivered) {
    decision.delay = finished.answered_at - callback.change.occurred_at;
    return decision;
  }
  settlement.error = ErrorOf(finished.answer);
  const absl::Time give_up_at = callback.stored_at + options_.give_up_after;
  absl::Time next = finished.answered_at + Backoff(callback.attempts, finished.answer);
  // A wait that would pass the end still leaves one last try at it.
  if (next > give_up_at && finished.answered_at < give_up_at) next = give_up_at;
  if (next > give_up_at) {
    settlement.fate = CallbackFate::kDeadLettered;
    return decision;
  }
  settlement.fate = CallbackFate::kRetry;
  settlement.next_attempt_at = next;
  return decision;
}

void CallbackDispatcher::Report(const Decision& decision) {
  const CallbackSettlement& settlement = decision.settlement;
  if (settlement.fate == CallbackFate::kDelivered) {
    metrics_.Delivered(decision.delay);
    return;
  }
  if (settlement.fate != CallbackFate::kDeadLettered) return;
  metrics_.Posted(CallbackResult::kDeadLettered);
  logger_.Warn("caller_callback_dead_lettered",
               {{"alert_id", settlement.alert_id},
                {"caller", decision.caller},
                {"sequence", settlement.sequence},
                {"attempts", settlement.attempts},
                {"error", settlement.error},
                {"action", decision.result == CallbackResult::kUnconfigured
                               ? "add the caller's line to KLAXON_CALLER_CALLBACKS; the change "
                                 "stays in caller_callbacks with state 2 and later ones are sent"
                               : "the caller's endpoint never took it; it stays in "
                                 "caller_callbacks with state 2 and later changes are sent"}});
}

void CallbackDispatcher::ReportLeaseLost(const Decision& decision) {
  const CallbackSettlement& settlement = decision.settlement;
  metrics_.Posted(CallbackResult::kLeaseLost);
  logger_.Warn("caller_callback_lease_lost",
               {{"alert_id", settlement.alert_id},
                {"caller", decision.caller},
                {"sequence", settlement.sequence},
                {"attempts", settlement.attempts},
                {"fate", std::string(LabelOf(settlement.fate))},
                {"action",
                 "not recorded: its lease ran out before this settlement and another "
                 "claim sends it again (receivers drop the duplicate by "
                 "Klaxon-Event-Id); check Postgres latency and the replicas' clocks"}});
}

absl::Duration CallbackDispatcher::Backoff(uint32_t attempts, const CallbackAnswer& answer) {
  // Doubling from first_retry, capped; drawn from the upper half so a retry is never immediate.
  const double doublings = std::min<double>(attempts > 0 ? attempts - 1 : 0, 30);
  const absl::Duration ceiling =
      std::min(options_.max_retry, options_.first_retry * std::exp2(doublings));
  const absl::Duration wait = ceiling / 2 + (ceiling / 2) * uniform_();
  // A Retry-After is honoured up to the longest wait: a receiver's "come back tomorrow" would
  // otherwise give the callback up on its first failure.
  return std::max(wait,
                  std::min(answer.retry_after.value_or(absl::ZeroDuration()), options_.max_retry));
}

void CallbackDispatcher::RefreshPending() {
  const absl::Time now = clock_.Now();
  if (now - pending_refreshed_at_ < options_.pending_refresh) return;
  pending_refreshed_at_ = now;
  absl::StatusOr<PendingCallbacks> pending = outbox_.Pending();
  if (!pending.ok()) return;  // the gauges keep their last value; Claim logs the outage
  metrics_.SetPending(pending->count,
                      pending->count == 0
                          ? absl::ZeroDuration()
                          : std::max(absl::ZeroDuration(), now - pending->oldest_stored_at));
}

}  // namespace klaxon::audit
