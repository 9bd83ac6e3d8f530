#pragma once
// Port: hands one alert attempt to the outside world (Twilio's Messages or Calls API) and says
// what became of it, in the terms the dispatcher decides on.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/senders.h"

namespace klaxon::delivery {

struct SendResult {
  enum class Kind {
    kAccepted,   // the provider took it; sid is set
    kRejected,   // refused for good; error_code and reason say why; resending cannot help
    kRetryable,  // not processed (5xx, not sent at all); safe to send again later
    kUnknown,    // the request left but no answer came back; it may or may not have been taken
    kSlowDown,   // not processed because the sender is over Twilio's queue (21611, 30001): later
    // Not processed because the account is over its concurrent-request limit (HTTP 429, 20429):
    // the same attempt again later; it does not count against the alert's attempts (ADR 0043).
    kThrottled,
  };
  Kind kind = Kind::kRejected;
  std::string sid;
  std::string provider_status;  // the provider's own status word, e.g. "queued"
  int error_code = 0;
  std::string reason;  // readable, never holds personal data
  // kRetryable, kSlowDown, kThrottled: Twilio's Retry-After, the earliest a resend is welcome.
  std::optional<absl::Duration> retry_after;
  // The name of the Twilio account the request went to (a settlement: where it was found).
  std::string account;
  // What the request says of its account's health, for the account's circuit breaker
  // (account_breakers.h): kFailing for a 5xx, a timeout or a network error, kAnswered when Twilio
  // answered otherwise (accepted or refused), kNone when it says nothing (a throttle, or a result
  // made without calling Twilio).
  enum class AccountEvidence { kNone, kAnswered, kFailing };
  AccountEvidence account_evidence = AccountEvidence::kNone;
};

// What a read of an accepted attempt's message or call found.
struct StatusReadBack {
  // Its status as a status callback would say it: a TwilioEvent with only message_status or
  // call_status set.
  events::v1::TwilioEvent status;
  // What Twilio charged for it, once priced: sid, amount, currency, and a message's segments or a
  // call's duration (the header, account and caller are the status check's to fill).
  std::optional<events::v1::AttemptCharge> charge;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // `personal`: the request's recipient and text, opened from its sealed fields. `from`: the
  // sender its pacing slot is of (SendLimits::senders), a number or a Messaging Service.
  virtual SendResult Send(const events::v1::AlertRequested& request,
                          const transit::AlertPersonalData& personal, const PacedSender& from) = 0;
  // Settles an attempt whose Send came back kUnknown by reading Twilio (the recent messages or
  // calls to the recipient since `sent_at`, from whichever sender): kAccepted with the SID when
  // Twilio has it, kRetryable when it provably does not, kUnknown when Twilio could not be read.
  virtual SendResult Settle(const events::v1::AlertRequested& request,
                            const transit::AlertPersonalData& personal, absl::Time sent_at) = 0;
  // Reads the message or call `sid` of an accepted attempt: its status and what it cost;
  // kUnavailable/kDeadlineExceeded when Twilio could not be read; kResourceExhausted when the read
  // was not made or not processed (no request slot came free, or Twilio answered 429);
  // kFailedPrecondition when the attempt's account has no credentials here (not asked).
  virtual absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                                    const std::string& sid) = 0;
};

}  // namespace klaxon::delivery
