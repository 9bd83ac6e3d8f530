#pragma once
// The delivery limits a worker reads from its environment, validated with the rest of its
// configuration (a bad value names its variable):
//   KLAXON_SMS_SENDERS, KLAXON_VOICE_SENDERS   the channel's senders and their paces
//                                (senders.h), required.
//   KLAXON_SENDER_RATE           pace of every sender that names none, <count>/<window>; default
//                                by the sender's kind. SMS: a US long code sends 1 message per
//                                second (Twilio queues the excess, which only hides the backlog
//                                from us). Voice: Twilio's default is 1 call per second per
//                                account.
//   KLAXON_RECIPIENT_LIMITS      per-recipient windows; default 5/15m,11/1h; none for none.
//   KLAXON_PACING_MAX_WAIT       longest wait for a pacing slot before deferring; default 2s.
//   KLAXON_TWILIO_MAX_IN_FLIGHT  requests in flight to Twilio across every worker; default 100.
//   KLAXON_TWILIO_IN_FLIGHT_URGENT_RESERVE  of those, how many only critical sends may take
//                                (docs/adr/0027); default a tenth, less than the maximum.

#include <cstdint>
#include <string>

#include "common/config/config.h"
#include "services/delivery/send_limits.h"

namespace klaxon::delivery {

struct LimitSettings {
  SendLimits send;
  int64_t max_in_flight = 100;
  int64_t in_flight_urgent_reserve = 10;
};

// `channel` says whose limits these are.
LimitSettings ReadLimitSettings(config::Reader& reader, types::v1::Channel channel);

}  // namespace klaxon::delivery
