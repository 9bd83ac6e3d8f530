#pragma once
// StatusCheckQueue on Redis (docs/adr/0045): per channel, a sorted set of SIDs scored by the
// time (ms) each check falls due, `<prefix>status_checks:<channel>`, and a hash of the checks
// themselves by SID, `<prefix>status_check_bodies:<channel>`. A claim moves each due SID's score
// to its lease's end plus half a millisecond, a score no Schedule writes (Schedule writes whole
// milliseconds), so Finish can tell a claim that still holds from a check scheduled again while
// it was handled. Each call is one Lua script, one round trip. The checks hold no personal data
// in the clear (AlertRequested carries the number and text sealed, ADR 0003), and Redis keeps
// what it acknowledged (ADR 0004), so a check survives a Redis restart as a claim does.

#include <string>

#include "common/redis/redis_client.h"
#include "services/delivery/status_check_queue.h"

namespace klaxon::delivery {

class RedisStatusCheckQueue final : public StatusCheckQueue {
 public:
  // `channel` is the channel whose checks ClaimDue hands out; Schedule keeps each check under
  // its own channel's keys.
  RedisStatusCheckQueue(redis::RedisClient& redis, std::string key_prefix,
                        types::v1::Channel channel);

  // kInvalidArgument for a request without a channel or a check_sid.
  absl::Status Schedule(const events::v1::AlertRequested& check, absl::Time not_before) override;
  absl::StatusOr<DueChecks> ClaimDue(absl::Time now, size_t max, absl::Duration lease) override;
  absl::Status Finish(std::span<const ClaimedCheck> checks) override;

 private:
  // The sorted set's and the hash's keys for `channel`.
  std::string DueKey(types::v1::Channel channel) const;
  std::string BodiesKey(types::v1::Channel channel) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const types::v1::Channel channel_;
};

}  // namespace klaxon::delivery
