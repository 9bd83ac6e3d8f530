#pragma once
// What a SendLimiter enforces, shared by the Redis adapter and the in-memory fake so both follow
// the same rules: each sender's pace (reservations and the send-time guard), the choice among
// the channel's senders (ChooseSender), and the recipient's windows.
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
// `sender.rate.window + guard_margin`; the margin absorbs the transport jitter after the check.
// On schedule (sends 208 ms apart at 5/s) N+1 sends span 1040 ms > 1020 ms and the guard never
// waits; after a late send it delays the one following send that would crowd it, by as much as
// that send was late beyond the allowance.
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/limits/priority_exemption.h"
#include "common/limits/rate.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/senders.h"

namespace klaxon::delivery {

struct SendLimits {
  std::string channel;  // "sms" or "voice": keys the state, so each channel has its own limits
  // The senders being paced (not personal data), at least one, each at its own pace. A send takes
  // the recipient's sender of last time while that one's slot is within max_wait (a recipient
  // keeps seeing one number), else the one with the earliest slot (docs/adr/0033).
  std::vector<PacedSender> senders;
  std::vector<limits::Rate> recipient_windows;  // sorted by window (limits::ParseRateList)
  // Priorities the recipient windows do not hold back (KLAXON_RECIPIENT_LIMITS_EXEMPT): a
  // critical page reaches its recipient however many alerts they had this hour.
  limits::PriorityExemption recipient_exempt =
      limits::PriorityExemption::From(types::v1::PRIORITY_CRITICAL);
  // Longer waits for a slot, or for the send-time guard, are deferred instead.
  absl::Duration max_wait = absl::Seconds(2);
  absl::Duration jitter_allowance = absl::Milliseconds(40);
  absl::Duration guard_margin = absl::Milliseconds(20);
  // How long a recipient stays with the sender it was last sent from, when there are several.
  absl::Duration stickiness = absl::Hours(24);

  // The span in which the send-time guard lets at most sender.rate.count sends leave.
  absl::Duration GuardSpan(const PacedSender& sender) const {
    return sender.rate.window + guard_margin;
  }

  // The recipient windows `request` must fit: none for an exempt priority.
  const std::vector<limits::Rate>& RecipientWindows(
      const events::v1::AlertRequested& request) const {
    static const std::vector<limits::Rate> kNone;
    return recipient_exempt.Exempts(request.priority()) ? kNone : recipient_windows;
  }

  absl::Duration PacingInterval(const PacedSender& sender) const {
    return sender.rate.Interval() * (1.0 + absl::ToDoubleSeconds(jitter_allowance));
  }

  // The sender named `address`, nullptr when it is not one of these.
  const PacedSender* Find(std::string_view address) const {
    for (const PacedSender& sender : senders) {
      if (sender.address == address) return &sender;
    }
    return nullptr;
  }
};

// How an attempt is named in the limiters' logs of sends, so a redelivered attempt is recognised
// and never counts against itself.
inline std::string LogMember(const events::v1::AlertRequested& request) {
  return absl::StrCat(request.header().alert_id(), ":", request.header().attempt());
}

// The labels and reasons of a deferral, the same whichever limiter decided it.
inline std::string PacingLimitLabel() { return "sender_pacing"; }
// Why a send waits for `sender`'s pace; `of` senders share the work.
inline std::string PacingReason(const PacedSender& sender, size_t of = 1) {
  if (of == 1) return "sender pacing " + sender.rate.Describe();
  return absl::StrCat("sender pacing: all ", of, " senders busy (the first free is paced ",
                      sender.rate.Describe(), ")");
}
inline std::string RecipientLimitLabel(const limits::Rate& rate) {
  return "recipient_" + rate.WindowLabel();
}
inline std::string RecipientReason(const limits::Rate& rate) {
  return "recipient limit " + rate.Describe();
}

// The send-time guard's answer (SendLimiter::ClearToSend) once the sender's log says how long it
// holds this send back (zero: the send was recorded), the same whichever limiter asked the log.
inline LimitDecision GuardDecision(const SendLimits& limits, const PacedSender& sender,
                                   absl::Time now, absl::Duration waited, absl::Duration hold) {
  if (hold <= absl::ZeroDuration()) {
    return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now, .sender = sender};
  }
  if (waited + hold > limits.max_wait) {
    return LimitDecision{.kind = LimitDecision::Kind::kDefer,
                         .retry_at = now + hold,
                         .limit = PacingLimitLabel(),
                         .reason = PacingReason(sender)};
  }
  return LimitDecision{.kind = LimitDecision::Kind::kSend, .send_at = now + hold, .sender = sender};
}

// Reserve's answer when it is given no sender to choose among (the settings and the routing rules
// refuse that; a limiter asked so says so instead of choosing among none).
inline absl::Status NoSenders() {
  return absl::FailedPreconditionError("no sender was given to choose among");
}

// Reserve's and ClearToSend's answer for a sender that is none of the limits'.
inline absl::Status UnknownSender(std::string_view address) {
  return absl::InvalidArgumentError(absl::StrCat("the send limits were asked about \"",
                                                 std::string(address),
                                                 "\", which is none of this channel's senders"));
}

// The sender a send takes among `among` (its routing rule's), the same whichever limiter decides
// (docs/adr/0033): the recipient's sender of last time (`sticky`, empty for none) while it is one
// of them and its slot is within max_wait, else the first with the earliest slot.
// `slot_of(sender)`: when that sender's next slot is, no earlier than now. Returns the sender's
// index in `among` and its slot.
template <typename SlotOf>
std::pair<size_t, absl::Time> ChooseSender(const SendLimits& limits,
                                           std::span<const PacedSender> among,
                                           std::string_view sticky, absl::Time now,
                                           SlotOf slot_of) {
  size_t chosen = 0;
  absl::Time earliest = absl::InfiniteFuture();
  for (size_t i = 0; i < among.size(); ++i) {
    const absl::Time slot = slot_of(among[i]);
    if (among[i].address == sticky && slot - now <= limits.max_wait) return {i, slot};
    if (slot < earliest) {
      chosen = i;
      earliest = slot;
    }
  }
  return {chosen, earliest};
}

}  // namespace klaxon::delivery
