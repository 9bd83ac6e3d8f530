#pragma once
// A circuit breaker per Twilio account (docs/adr/0035): after `failures` requests in a row failed
// the way an unhealthy account fails (5xx, timeouts, network errors: SendResult::account_evidence
// kFailing) within a sliding `window`, the account is open for `cool_down` and the routing rules'
// sends go to their next account. Then one probe at a time is let through (half-open): its answer
// closes the breaker, its failure opens it for another cool-down. While open, answers to requests
// sent before are ignored; while half-open, only the probe's (or a later request's) count. An
// answer (an acceptance, a 4xx refusal) ends a streak of failures; a result that says nothing of
// the account (a throttle, a result made without calling Twilio) is ignored.
//
// Each worker replica keeps its own breakers: its own sends are evidence enough, and sharing them
// would cost a round trip per send. Thread-safe.

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/timing/clock.h"
#include "services/delivery/sender.h"

namespace klaxon::delivery {

struct AccountBreakerOptions {
  int failures = 5;
  absl::Duration window = absl::Seconds(30);
  absl::Duration cool_down = absl::Seconds(30);
};

// The values are the klaxon_twilio_account_breaker_state gauge's.
enum class BreakerState { kClosed = 0, kHalfOpen = 1, kOpen = 2 };

// "closed", "half_open", "open": a metric label and a log word.
std::string_view BreakerStateName(BreakerState state);

class AccountBreakers {
 public:
  // Told of every change of an account's state, with why (no personal data), in order, under the
  // breakers' lock (so it must not call back into them).
  using OnChange =
      std::function<void(const std::string& account, BreakerState state, const std::string& why)>;

  // `accounts`: every account's name, each closed at first. `clock` must outlive this.
  AccountBreakers(AccountBreakerOptions options, const std::vector<std::string>& accounts,
                  timing::Clock& clock, OnChange on_change);

  // Whether a send may go to `account` now: always while closed; while open, once the cool-down
  // ended, as the one probe (half-open; another probe is let through a cool-down later if this
  // one never reports). An account it does not know is let through.
  bool Admit(const std::string& account);

  // The answer of a request sent to `account` at `sent_at` (the breakers' clock).
  void Record(const std::string& account, const SendResult& result, absl::Time sent_at);

  // When an open account lets its next probe through (now when it is closed).
  absl::Time NextTry(const std::string& account);

  BreakerState State(const std::string& account);

  // Whether some account takes sends now, or would take a probe (a worker whose every account is
  // resting cannot send: its readiness says so).
  bool AnyUsable();

 private:
  struct Breaker {
    BreakerState state = BreakerState::kClosed;
    std::deque<absl::Time> failures;  // closed: the failures in a row, within the window
    absl::Time next_try;              // open, half-open: when the next probe may go
    absl::Time probe_at;              // half-open: when the last probe was let through
  };

  // Callers hold mutex_.
  void Change(const std::string& account, Breaker& breaker, BreakerState state,
              const std::string& why);

  const AccountBreakerOptions options_;
  timing::Clock& clock_;
  const OnChange on_change_;
  std::mutex mutex_;
  std::map<std::string, Breaker, std::less<>> breakers_;
};

}  // namespace klaxon::delivery
