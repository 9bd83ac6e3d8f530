#pragma once
// What a SendLimiter enforces, shared by the Redis adapter and the in-memory fake so both follow
// the same rules: the sender's pace (reservations and the send-time guard) and the recipient's
// windows.
//
// Pacing has two layers, because a schedule alone cannot keep a promise about arrival times.
//
// Reservations spread sends out: each send reserves the slot `PacingInterval()` after the
// previous one (virtual scheduling, GCRA with zero tolerance), and its worker sleeps until then.
// The interval is 1/N stretched by `jitter_allowance` per second, so N intervals span
// 1 s + jitter_allowance: the sandbox and Twilio see a send when its HTTP request arrives, some
// milliseconds after its slot, and that much difference in delay cannot put N+1 sends in one
// second. It costs running jitter_allowance/1s below N (4% with the default 40 ms, inside the 5%
// the pacing requirement allows over a minute).
//
// The send-time guard makes lateness unable to crowd. A reservation advances whether or not its
// send leaves on time, so a worker thread that wakes up late (a loaded machine) sends close to
// the following, on-time sends, and N+1 of them could land in one second. Right before the
// request leaves, the guard checks the sender's log of actual sends: no more than N in any
// `sender_rate.window + guard_margin`; the margin absorbs the transport jitter after the check.
// On schedule (sends 208 ms apart at 5/s) N+1 sends span 1040 ms > 1020 ms and the guard never
// waits; after a late send it delays the one following send that would crowd it, by as much as
// that send was late beyond the allowance.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/limits/priority_exemption.h"
#include "common/limits/rate.h"
#include "services/delivery/send_limiter.h"

namespace klaxon::delivery {

struct SendLimits {
  std::string channel;  // "sms" or "voice": keys the state, so each channel has its own limits
  std::string sender;   // the From number or Messaging Service SID being paced (not personal data)
  limits::Rate sender_rate{.count = 1, .window = absl::Seconds(1)};
  std::vector<limits::Rate> recipient_windows;  // sorted by window (limits::ParseRateList)
  // Priorities the recipient windows do not hold back (KLAXON_RECIPIENT_LIMITS_EXEMPT): a
  // critical page reaches its recipient however many alerts they had this hour.
  limits::PriorityExemption recipient_exempt =
      limits::PriorityExemption::From(types::v1::PRIORITY_CRITICAL);
  // Longer waits for a slot, or for the send-time guard, are deferred instead.
  absl::Duration max_wait = absl::Seconds(2);
  absl::Duration jitter_allowance = absl::Milliseconds(40);
  absl::Duration guard_margin = absl::Milliseconds(20);

  // The span in which the send-time guard lets at most sender_rate.count sends leave.
  absl::Duration GuardSpan() const { return sender_rate.window + guard_margin; }

  // The recipient windows `request` must fit: none for an exempt priority.
  const std::vector<limits::Rate>& RecipientWindows(
      const events::v1::AlertRequested& request) const {
    static const std::vector<limits::Rate> kNone;
    return recipient_exempt.Exempts(request.priority()) ? kNone : recipient_windows;
  }

  absl::Duration PacingInterval() const {
    return sender_rate.Interval() * (1.0 + absl::ToDoubleSeconds(jitter_allowance));
  }
};

// How an attempt is named in the limiters' logs of sends, so a redelivered attempt is recognised
// and never counts against itself.
inline std::string LogMember(const events::v1::AlertRequested& request) {
  return absl::StrCat(request.header().alert_id(), ":", request.header().attempt());
}

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

// The send-time guard's answer (SendLimiter::ClearToSend) once the sender's log says how long it
// holds this send back (zero: the send was recorded), the same whichever limiter asked the log.
inline LimitDecision GuardDecision(const SendLimits& limits, absl::Time now, absl::Duration waited,
                                   absl::Duration hold) {
  if (hold <= absl::ZeroDuration()) {
    return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now};
  }
  if (waited + hold > limits.max_wait) {
    return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                         .retry_at = now + hold,
                         .limit = PacingLimitLabel(),
                         .reason = PacingReason(limits.sender_rate)};
  }
  return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now + hold};
}

}  // namespace klaxon::delivery
