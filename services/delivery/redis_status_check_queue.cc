#include "services/delivery/redis_status_check_queue.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/channels/channel_switches.h"

namespace klaxon::delivery {
namespace {

// KEYS[1] the due times, KEYS[2] the bodies; ARGV: SID, due (ms), the check.
constexpr char kScheduleScript[] = R"lua(
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
)lua";

// The same, keeping a check of the SID that is already there.
constexpr char kScheduleFirstScript[] = R"lua(
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 1 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return 1
)lua";

// KEYS[1] the due times, KEYS[2] the bodies; ARGV: now (ms), most to claim, the lease's score.
// Returns {checks kept, ms the oldest due one was due for, SID, check, SID, check, ...}; a SID
// whose body is gone (removed by hand) is dropped.
constexpr char kClaimScript[] = R"lua(
local now = tonumber(ARGV[1])
local out = {tostring(redis.call('ZCARD', KEYS[1])), '0'}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] and tonumber(oldest[2]) <= now then
  out[2] = string.format('%.0f', now - tonumber(oldest[2]))
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, sid in ipairs(due) do
  local check = redis.call('HGET', KEYS[2], sid)
  if check then
    redis.call('ZADD', KEYS[1], ARGV[3], sid)
    out[#out + 1] = sid
    out[#out + 1] = check
  else
    redis.call('ZREM', KEYS[1], sid)
  end
end
return out
)lua";

// KEYS[1] the due times, KEYS[2] the bodies; ARGV: SID, lease, SID, lease, ... Removes each SID
// still scored at its lease. Returns how many were removed.
constexpr char kFinishScript[] = R"lua(
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
)lua";

std::string Millis(absl::Time time) { return absl::StrCat(absl::ToUnixMillis(time)); }

}  // namespace

RedisStatusCheckQueue::RedisStatusCheckQueue(redis::RedisClient& redis, std::string key_prefix,
                                             types::v1::Channel channel)
    : redis_(redis), key_prefix_(std::move(key_prefix)), channel_(channel) {}

RedisStatusCheckQueue::Keys RedisStatusCheckQueue::KeysOf(types::v1::Channel channel,
                                                          CheckLane lane) const {
  const std::string suffix =
      absl::StrCat(std::string(channels::ChannelName(channel)), ":", CheckLaneName(lane));
  return {.due = absl::StrCat(key_prefix_, "status_checks:", suffix),
          .bodies = absl::StrCat(key_prefix_, "status_check_bodies:", suffix)};
}

std::string RedisStatusCheckQueue::Name(CheckLane lane) const {
  return absl::StrCat("the ", CheckLaneName(lane), " ",
                      std::string(channels::ChannelName(channel_)), " status checks");
}

absl::Status RedisStatusCheckQueue::Schedule(const events::v1::AlertRequested& check,
                                             absl::Time not_before) {
  return Keep(kScheduleScript, check, not_before);
}

absl::Status RedisStatusCheckQueue::ScheduleFirst(const events::v1::AlertRequested& check,
                                                  absl::Time not_before) {
  return Keep(kScheduleFirstScript, check, not_before);
}

absl::Status RedisStatusCheckQueue::Keep(const char* script,
                                         const events::v1::AlertRequested& check,
                                         absl::Time not_before) {
  const types::v1::Channel channel = check.header().channel();
  if (channels::ChannelName(channel).empty() || check.check_sid().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the status check of alert ",
                                                   check.header().alert_id(),
                                                   " names no channel or no Twilio SID"));
  }
  const Keys keys = KeysOf(channel, LaneOf(check));
  absl::StatusOr<redis::Reply> kept =
      redis_.Command({"EVAL", script, "2", keys.due, keys.bodies, check.check_sid(),
                      Millis(not_before), check.SerializeAsString()});
  if (!kept.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the status check of alert ", check.header().alert_id(),
                     " could not be kept in Redis: ", kept.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<DueChecks> RedisStatusCheckQueue::ClaimDue(CheckLane lane, absl::Time now,
                                                          size_t max, absl::Duration lease) {
  const Keys keys = KeysOf(channel_, lane);
  const absl::Time leased_until = now + lease;
  const std::string claim = absl::StrCat(Millis(leased_until), ".5");
  absl::StatusOr<redis::Reply> claimed = redis_.Command(
      {"EVAL", kClaimScript, "2", keys.due, keys.bodies, Millis(now), absl::StrCat(max), claim});
  if (!claimed.ok()) {
    return absl::UnavailableError(
        absl::StrCat(Name(lane), " could not be claimed in Redis: ", claimed.status().message()));
  }
  const std::vector<std::optional<std::string>>& out = claimed->elements;
  DueChecks due;
  int64_t oldest_ms = 0;
  if (claimed->type != redis::Reply::Type::kArray || out.size() < 2 || out.size() % 2 != 0 ||
      !out[0] || !out[1] || !absl::SimpleAtoi(*out[0], &due.kept) ||
      !absl::SimpleAtoi(*out[1], &oldest_ms)) {
    return absl::UnavailableError(
        absl::StrCat("Redis answered the claim of ", Name(lane), " with a malformed reply"));
  }
  due.oldest_due_for = absl::Milliseconds(oldest_ms);
  for (size_t i = 2; i + 1 < out.size(); i += 2) {
    if (!out[i] || !out[i + 1]) continue;
    due.checks.push_back(
        {.sid = *out[i], .value = *out[i + 1], .claim = claim, .leased_until = leased_until});
  }
  return due;
}

absl::Status RedisStatusCheckQueue::Finish(CheckLane lane, std::span<const ClaimedCheck> checks) {
  if (checks.empty()) return absl::OkStatus();
  const Keys keys = KeysOf(channel_, lane);
  std::vector<std::string> argv = {"EVAL", kFinishScript, "2", keys.due, keys.bodies};
  argv.reserve(argv.size() + 2 * checks.size());
  for (const ClaimedCheck& check : checks) {
    argv.push_back(check.sid);
    argv.push_back(check.claim);
  }
  if (absl::StatusOr<redis::Reply> finished = redis_.Command(argv); !finished.ok()) {
    return absl::UnavailableError(absl::StrCat(
        Name(lane), " handled could not be removed from Redis: ", finished.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace klaxon::delivery
