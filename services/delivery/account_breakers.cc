#include "services/delivery/account_breakers.h"

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
  std::lock_guard lock(mutex_);
  auto found = breakers_.find(account);
  if (found == breakers_.end() || found->second.state == BreakerState::kClosed) return true;
  Breaker& breaker = found->second;
  const absl::Time now = clock_.Now();
  if (now < breaker.next_try) return false;
  // The probe; should it never report (its send deferred, its worker gone), another goes a
  // cool-down later.
  breaker.next_try = now + options_.cool_down;
  breaker.probe_at = now;
  if (breaker.state == BreakerState::kOpen) {
    Change(account, breaker, BreakerState::kHalfOpen,
           "the cool-down ended: one probe goes through");
  }
  return true;
}

void AccountBreakers::Record(const std::string& account, const SendResult& result,
                             absl::Time sent_at) {
  using Evidence = SendResult::AccountEvidence;
  if (result.account_evidence == Evidence::kNone) return;
  std::lock_guard lock(mutex_);
  auto found = breakers_.find(account);
  if (found == breakers_.end()) return;
  Breaker& breaker = found->second;
  const absl::Time now = clock_.Now();
  switch (breaker.state) {
    case BreakerState::kOpen:
      return;  // a late answer to a request sent before it opened
    case BreakerState::kHalfOpen:
      if (sent_at < breaker.probe_at) return;  // only the probe decides
      if (result.account_evidence == Evidence::kAnswered) {
        breaker.failures.clear();
        Change(account, breaker, BreakerState::kClosed, "the probe was answered");
      } else {
        breaker.next_try = now + options_.cool_down;
        Change(account, breaker, BreakerState::kOpen,
               absl::StrCat("the probe failed: ", result.reason));
      }
      return;
    case BreakerState::kClosed:
      if (result.account_evidence == Evidence::kAnswered) {
        breaker.failures.clear();
        return;
      }
      breaker.failures.push_back(now);
      while (now - breaker.failures.front() > options_.window) breaker.failures.pop_front();
      if (std::ssize(breaker.failures) >= options_.failures) {
        breaker.failures.clear();
        breaker.next_try = now + options_.cool_down;
        Change(account, breaker, BreakerState::kOpen,
               absl::StrCat(options_.failures, " requests in a row failed within ",
                            absl::FormatDuration(options_.window), ", the last: ", result.reason));
      }
      return;
  }
}

void AccountBreakers::Change(const std::string& account, Breaker& breaker, BreakerState state,
                             const std::string& why) {
  breaker.state = state;
  // Under the lock, so the changes are told in the order they happened.
  if (on_change_) on_change_(account, state, why);
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
