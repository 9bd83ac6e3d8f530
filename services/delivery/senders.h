#pragma once
// The senders a channel's worker sends from (KLAXON_SMS_SENDERS, KLAXON_VOICE_SENDERS) and the
// pace of each: several numbers, or a Messaging Service whose pool Twilio picks from, so that N
// numbers carry N times the rate of one (docs/adr/0033). Parsed and checked once at start; the
// limiters choose among them per send (send_limits.h).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/limits/rate.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::delivery {

enum class SenderKind {
  kLongCode,          // an E.164 number that is neither toll-free nor a short code
  kTollFree,          // a North American toll-free number (+1 800, 833, 844, 855, 866, 877, 888)
  kShortCode,         // 5 or 6 digits
  kMessagingService,  // MG + 32 hex digits: sent with MessagingServiceSid, Twilio picks the number
  // 1 to 11 letters, digits and spaces, at least one letter ("ACME OPS"): SMS only, and never to
  // US or Canadian numbers, which cannot receive one (routing rules keep +1 away from it).
  kAlphanumeric,
};

struct PacedSender {
  std::string address;  // as Twilio takes it: From, or the Messaging Service SID
  SenderKind kind = SenderKind::kLongCode;
  limits::Rate rate;  // sends per window this sender may take, shared by every worker replica
  // The name of the Twilio account it belongs to (twilio/accounts.h); empty until the settings
  // assign the only account to senders that name none.
  std::string account;
  friend bool operator==(const PacedSender&, const PacedSender&) = default;
};

// The variable that lists `channel`'s senders: KLAXON_SMS_SENDERS or KLAXON_VOICE_SENDERS, one
// each, since every worker reads the same configuration (a Messaging Service cannot place calls).
std::string_view SendersVariable(types::v1::Channel channel);

// True for a Messaging Service SID (MG and 32 lowercase hex digits), sent as MessagingServiceSid.
bool IsMessagingServiceSid(std::string_view address);

// Twilio's default pace for a sender of `kind` (../shared/twilio/TWILIO.md, "Limits"): 1 message
// per second for a US or Canadian long code, 10 for one elsewhere (and an alphanumeric sender ID,
// which only sends elsewhere), 3 toll-free, 100 for a short code. A Messaging Service has none (it
// is the sum of its pool's numbers, which Klaxon cannot see); voice calls are paced 1 per second
// per account.
std::optional<limits::Rate> DefaultPace(SenderKind kind, std::string_view address,
                                        types::v1::Channel channel);

// "<sender>[@<account>][=<rate>], ...", e.g. "+14155550100, +18005550100=3/1s, MG...=20/1s",
// or "+14155550100@main, +14155550101@backup" with several accounts. A number
// without its own rate takes `pace` when set (KLAXON_SENDER_RATE), else its kind's default; a
// Messaging Service must name its own.
// kInvalidArgument naming the variable and the entry at fault: an address of no known kind, a
// bad rate, a sender twice, a Messaging Service with no pace, a kind the channel cannot send from
// (voice: E.164 caller IDs; several each need their own rate, their share of the account's, since
// Twilio paces calls per account, not per number), or no
// sender at all.
absl::StatusOr<std::vector<PacedSender>> ParseSenders(std::string_view text,
                                                      types::v1::Channel channel,
                                                      std::optional<limits::Rate> pace);

// Gives each of `senders` that names no account the only one of `accounts` (names), and checks
// that every sender's account is one of them. kInvalidArgument naming the variable and each
// sender at fault: no account named while there are several, an account that is not listed.
absl::Status AssignAccounts(std::vector<PacedSender>& senders,
                            const std::vector<std::string>& accounts, types::v1::Channel channel);

}  // namespace klaxon::delivery
