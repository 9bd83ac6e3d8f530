#include "services/delivery/account_breakers.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kHalfOpen:
      return "half_open";
    case BreakerState::kOpen:
      return "open";
  }
  return "closed";
}

AccountBreakers::AccountBreakers(AccountBreakerOptions options,
                                 const std::vector<std::string>& accounts, timing::Clock& clock,
                                 OnChange on_change)
    : options_(options), clock_(clock), on_change_(std::move(on_change)) {
  for (const std::string& account : accounts) breakers_.emplace(account, Breaker());
}

bool AccountBreakers::Admit(const std::string& account) {
  std::optional<std::string> why;
  {
    std::lock_guard lock(mutex_);
    auto breaker = breakers_.find(account);
    if (breaker == breakers_.end() || breaker->second.state == BreakerState::kClosed) return true;
    const absl::Time now = clock_.Now();
    if (now < breaker->second.next_try) return false;
    // The probe; should it never report (its send deferred, its worker gone), another goes a
    // cool-down later.
    breaker->second.next_try = now + options_.cool_down;
    if (breaker->second.state == BreakerState::kOpen) {
      breaker->second.state = BreakerState::kHalfOpen;
      why = "the cool-down ended: one probe goes through";
    }
  }
  if (why && on_change_) on_change_(account, BreakerState::kHalfOpen, *why);
  return true;
}

void AccountBreakers::Record(const std::string& account, const SendResult& result) {
  const bool throttled =
      result.kind == SendResult::Kind::kSlowDown ||
      (result.kind == SendResult::Kind::kRetryable && result.error_code == 20429);
  if (throttled) return;
  std::optional<std::pair<BreakerState, std::string>> change;
  {
    std::lock_guard lock(mutex_);
    auto found = breakers_.find(account);
    if (found == breakers_.end()) return;
    Breaker& breaker = found->second;
    const absl::Time now = clock_.Now();
    if (!result.account_failure) {
      breaker.failures = 0;
      if (breaker.state != BreakerState::kClosed) {
        breaker.state = BreakerState::kClosed;
        change = {BreakerState::kClosed, "a request was answered again"};
      }
    } else if (breaker.state == BreakerState::kHalfOpen) {
      breaker.state = BreakerState::kOpen;
      breaker.next_try = now + options_.cool_down;
      change = {BreakerState::kOpen, absl::StrCat("the probe failed: ", result.reason)};
    } else if (breaker.state == BreakerState::kClosed) {
      if (breaker.failures == 0 || now - breaker.streak_started > options_.window) {
        breaker.failures = 0;
        breaker.streak_started = now;
      }
      if (++breaker.failures >= options_.failures) {
        breaker.state = BreakerState::kOpen;
        breaker.next_try = now + options_.cool_down;
        change = {
            BreakerState::kOpen,
            absl::StrCat(breaker.failures, " requests in a row failed within ",
                         absl::FormatDuration(options_.window), ", the last: ", result.reason)};
      }
    }
  }
  if (change && on_change_) on_change_(account, change->first, change->second);
}

absl::Time AccountBreakers::NextTry(const std::string& account) {
  std::lock_guard lock(mutex_);
  auto breaker = breakers_.find(account);
  if (breaker == breakers_.end() || breaker->second.state == BreakerState::kClosed) {
    return clock_.Now();
  }
  return breaker->second.next_try;
}

bool AccountBreakers::AnyUsable() {
  std::lock_guard lock(mutex_);
  const absl::Time now = clock_.Now();
  for (const auto& [account, breaker] : breakers_) {
    if (breaker.state == BreakerState::kClosed || now >= breaker.next_try) return true;
  }
  return breakers_.empty();
}

BreakerState AccountBreakers::State(const std::string& account) {
  std::lock_guard lock(mutex_);
  auto breaker = breakers_.find(account);
  return breaker == breakers_.end() ? BreakerState::kClosed : breaker->second.state;
}

}  // namespace klaxon::delivery
