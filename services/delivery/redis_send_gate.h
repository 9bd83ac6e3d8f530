#pragma once
// SendGate on Redis: one Lua script per Open, so an attempt's checks before its send are one round
// trip (docs/adr/0018). The script reads the alert's stop, then its escalation chain's
// (docs/adr/0029), then (SMS) the recipient's suppression entry, then takes the reservation
// (RedisSendLimiter's rules), and, when the reserved slot is due at once, takes the slot in flight
// (RedisInFlightLimit's set) and the send-time guard (RedisSendLimiter's log) together, or
// neither. Its fragments are redis_limit_scripts.h, shared with those adapters, and its keys and
// values are theirs and RedisStoppedAlerts' and RedisSuppressionList's: ingress's stops, the
// sms-worker's opt-outs and klaxon-admin read and write them unchanged.
//
// Redis's clock decides, as in RedisSendLimiter: the script answers in durations from its TIME,
// which Open adds to the caller's `now`.

#include <string>

#include "common/log/log.h"
#include "common/redis/redis_client.h"
#include "services/delivery/redis_in_flight_limit.h"
#include "services/delivery/redis_send_limiter.h"
#include "services/delivery/send_gate.h"

namespace klaxon::delivery {

class RedisSendGate final : public SendGate {
 public:
  // `limiter` and `in_flight` are borrowed (their keys and limits are the gate's, and a slot the
  // gate takes is released through `in_flight`); `key_prefix` is theirs, the stops' and the
  // suppression list's, and `tokens` the suppression list's.
  RedisSendGate(redis::RedisClient& redis, std::string key_prefix, const RedisSendLimiter& limiter,
                RedisInFlightLimit& in_flight, const log::PhoneRedactor& tokens);

  absl::StatusOr<GateDecision> Open(const events::v1::AlertRequested& request,
                                    std::string_view recipient, absl::Time now,
                                    GateChecks checks) override;
  // One MGET of the alert's stop and its chain's.
  absl::StatusOr<std::optional<FoundStop>> FindStop(
      const events::v1::AlertRequested& request) override;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const RedisSendLimiter& limiter_;
  RedisInFlightLimit& in_flight_;
  const log::PhoneRedactor& tokens_;
  const std::string script_;
};

}  // namespace klaxon::delivery
