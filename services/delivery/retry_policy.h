#pragma once
// When a failed attempt is tried again (docs/adr/0007): full-jitter exponential backoff, so that
// workers retrying after the same Twilio hiccup spread out instead of returning in lockstep, never
// earlier than Twilio's Retry-After (up to 5 minutes of it), and at most `max_attempts` attempts
// per alert (a request Twilio refused for its concurrent-request limit, never processed, is not
// one: ADR 0043).

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "absl/time/time.h"

namespace klaxon::delivery {

struct RetryPolicyOptions {
  absl::Duration base = absl::Seconds(1);  // the largest wait after the first attempt
  absl::Duration cap = absl::Minutes(5);   // no wait is drawn from a range wider than this
  uint32_t max_attempts = 6;               // attempts per alert, the first included
  // The least wait after Twilio said the sender's queue is full (21611, 30001).
  absl::Duration slow_down = absl::Seconds(10);
};

class RetryPolicy {
 public:
  // `uniform` returns a number in [0, 1); calls to it are serialized, so it need not be
  // thread-safe.
  RetryPolicy(RetryPolicyOptions options, std::function<double()> uniform);

  // Whether another attempt may follow attempt number `attempt` (1 for the first).
  bool MayRetry(uint32_t attempt) const { return attempt < options_.max_attempts; }

  // The wait before the attempt after `attempt`: random(0, min(cap, base * 2^(attempt-1))), at
  // least `retry_after` when Twilio sent one (HonouredRetryAfter), at least `slow_down` when
  // `slow_down_asked`.
  absl::Duration Backoff(uint32_t attempt, std::optional<absl::Duration> retry_after,
                         bool slow_down_asked);

  // How much of a Retry-After is waited: all of it up to kMaxRetryAfter, zero when none was
  // sent. A header of a day (a proxy's, say) must not end every alert it touches.
  static absl::Duration HonouredRetryAfter(std::optional<absl::Duration> retry_after);
  static constexpr absl::Duration kMaxRetryAfter = absl::Minutes(5);

  // A wait drawn at random from [0, range): what spreads out work that would come back together.
  absl::Duration Jitter(absl::Duration range);

  const RetryPolicyOptions& options() const { return options_; }

 private:
  const RetryPolicyOptions options_;
  std::mutex mutex_;
  std::function<double()> uniform_;
};

}  // namespace klaxon::delivery
