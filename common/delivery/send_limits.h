#pragma once
// What a SendLimiter enforces, shared by the Redis adapter and the in-memory fake so both follow
// the same rules: the sender's pace and the recipient's windows.
//
// Pacing is strict spacing with no burst (virtual scheduling, GCRA with zero tolerance): each
// send gets the slot `interval` after the previous one. The sandbox and Twilio see a send when
// its HTTP request arrives, some milliseconds after its slot, and that delay varies (another
// replica, a slower connection). Spaced at exactly 1/N, two sends N slots apart could then arrive
// less than a second apart and one one-second window would hold N+1. So each interval is
// stretched by `jitter_allowance` per second: N intervals span 1 s + jitter_allowance, which
// absorbs that much difference in delay, at the cost of running jitter_allowance/1s below N
// (4% with the default 40 ms, inside the 5% the pacing requirement allows over a minute; 30 ms
// let one window in three test runs hold N+1 on a loaded 2-core machine).

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/limits/rate.h"

namespace klaxon::delivery {

struct SendLimits {
  std::string channel;  // "sms" or "voice": keys the state, so each channel has its own limits
  std::string sender;   // the From number or Messaging Service SID being paced (not personal data)
  limits::Rate sender_rate{.count = 1, .window = absl::Seconds(1)};
  std::vector<limits::Rate> recipient_windows;  // sorted by window (limits::ParseRateList)
  absl::Duration max_wait = absl::Seconds(2);   // longer waits for a slot are deferred instead
  absl::Duration jitter_allowance = absl::Milliseconds(40);

  absl::Duration PacingInterval() const {
    return sender_rate.Interval() * (1.0 + absl::ToDoubleSeconds(jitter_allowance));
  }
};

// The labels and reasons of a deferral, the same whichever limiter decided it.
inline std::string PacingLimitLabel() { return "sender_pacing"; }
inline std::string PacingReason(const limits::Rate& rate) {
  return "sender pacing " + rate.Describe();
}
inline std::string RecipientLimitLabel(const limits::Rate& rate) {
  return "recipient_" + rate.WindowLabel();
}
inline std::string RecipientReason(const limits::Rate& rate) {
  return "recipient limit " + rate.Describe();
}

}  // namespace klaxon::delivery
