#pragma once
// StatusCheckQueue on Redis (docs/adr/0045): per channel and lane, a sorted set of SIDs scored
// by the time (ms) each check falls due, `<prefix>status_checks:<channel>:<lane>`, and a hash of
// the checks themselves by SID, `<prefix>status_check_bodies:<channel>:<lane>`. A claim moves
// each due SID's score to its lease's end plus half a millisecond, a score no Schedule writes
// (Schedule writes whole milliseconds), so Finish can tell a claim that still holds from a check
// scheduled again while it was handled. Each call is one Lua script, one round trip. Due times and
// leases are the workers' clocks: a replica whose clock runs ahead claims early by as much. The
// checks hold no personal data in the clear (AlertRequested carries the number and text sealed,
// ADR 0013), and Redis keeps what it acknowledged (ADR 0004), so a check survives a Redis restart
// as an attempt claim does.

#include <string>

#include "common/redis/redis_client.h"
#include "services/delivery/status_check_queue.h"

namespace klaxon::delivery {

class RedisStatusCheckQueue final : public StatusCheckQueue {
 public:
  // ClaimDue and Finish work on `channel`'s checks; Schedule keeps each check under its own
  // channel's keys.
  RedisStatusCheckQueue(redis::RedisClient& redis, std::string key_prefix,
                        types::v1::Channel channel);

  absl::Status Schedule(const events::v1::AlertRequested& check, absl::Time not_before) override;
  absl::Status ScheduleFirst(const events::v1::AlertRequested& check,
                             absl::Time not_before) override;
  absl::StatusOr<DueChecks> ClaimDue(CheckLane lane, absl::Time now, size_t max,
                                     absl::Duration lease) override;
  absl::Status Finish(CheckLane lane, std::span<const ClaimedCheck> checks) override;

 private:
  struct Keys {
    std::string due;     // the sorted set of SIDs by due time
    std::string bodies;  // the hash of checks by SID
  };
  Keys KeysOf(types::v1::Channel channel, CheckLane lane) const;
  // "the urgent sms status checks", for errors.
  std::string Name(CheckLane lane) const;
  // Runs `script` (kScheduleScript or kScheduleFirstScript) for `check`.
  absl::Status Keep(const char* script, const events::v1::AlertRequested& check,
                    absl::Time not_before);

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const types::v1::Channel channel_;
};

}  // namespace klaxon::delivery
