#pragma once
// StatusCheckQueue on Redis (docs/adr/0045): per channel and lane, a sorted set of SIDs scored
// by the time (ms) each check falls due, `<prefix>status_checks:<channel>[:urgent]`, and a hash
// of the checks themselves by SID, `<prefix>status_check_bodies:<channel>[:urgent]`. A claim
// moves each due SID's score to its lease's end plus half a millisecond, a score no Schedule
// writes (Schedule writes whole milliseconds), so Finish can tell a claim that still holds from a
// check scheduled again while it was handled. Each call is one Lua script, one round trip. The
// checks hold no personal data in the clear (AlertRequested carries the number and text sealed,
// ADR 0013), and Redis keeps what it acknowledged (ADR 0004), so a check survives a Redis restart
// as an attempt claim does.

#include <string>

#include "common/redis/redis_client.h"
#include "services/delivery/status_check_queue.h"

namespace klaxon::delivery {

class RedisStatusCheckQueue final : public StatusCheckQueue {
 public:
  // ClaimDue hands out the checks of `channel` in `lane`; Schedule keeps each check under its
  // own channel's and priority's keys, whatever the queue's.
  RedisStatusCheckQueue(redis::RedisClient& redis, std::string key_prefix,
                        types::v1::Channel channel, CheckLane lane);

  absl::Status Schedule(const events::v1::AlertRequested& check, absl::Time not_before) override;
  absl::Status ScheduleFirst(const events::v1::AlertRequested& check,
                             absl::Time not_before) override;
  absl::StatusOr<DueChecks> ClaimDue(absl::Time now, size_t max, absl::Duration lease) override;
  absl::Status Finish(std::span<const ClaimedCheck> checks) override;

 private:
  struct Keys {
    std::string due;     // the sorted set of SIDs by due time
    std::string bodies;  // the hash of checks by SID
  };
  Keys KeysOf(types::v1::Channel channel, CheckLane lane) const;
  // Runs `script` (kScheduleScript or kScheduleFirstScript) for `check`.
  absl::Status Keep(const char* script, const events::v1::AlertRequested& check,
                    absl::Time not_before);

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const Keys own_;           // the keys ClaimDue and Finish use
  const std::string where_;  // "the sms status checks" (or "the urgent ..."), for errors
};

}  // namespace klaxon::delivery
