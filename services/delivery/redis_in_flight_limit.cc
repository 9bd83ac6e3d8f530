#include "services/delivery/redis_in_flight_limit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// KEYS[1] the slots; ARGV: limit, lease (ms), slot id. Returns 1 when the slot was taken.
constexpr char kAcquireScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[3])
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', lease * 2))
return 1
)lua";

}  // namespace

RedisInFlightLimit::RedisInFlightLimit(redis::RedisClient& redis, RedisInFlightOptions options,
                                       timing::Clock& clock)
    : redis_(redis),
      options_(std::move(options)),
      clock_(clock),
      key_(absl::StrCat(options_.key_prefix, "limits:twilio_in_flight")) {}

absl::StatusOr<std::string> RedisInFlightLimit::Acquire(absl::Duration wait) {
  const std::string slot = absl::StrCat(options_.owner, "#", next_slot_.fetch_add(1));
  const std::string lease = absl::StrCat(absl::ToInt64Milliseconds(options_.lease));
  const std::string limit = absl::StrCat(options_.limit);
  const absl::Time deadline = clock_.Now() + wait;
  absl::Duration pause = options_.first_poll;
  while (true) {
    absl::StatusOr<redis::Reply> taken =
        redis_.Command({"EVAL", kAcquireScript, "1", key_, limit, lease, slot});
    if (!taken.ok()) return taken.status();
    if (taken->type == redis::Reply::Type::kInteger && taken->integer == 1) {
      if (options_.in_flight != nullptr) options_.in_flight->Increment();
      return slot;
    }
    const absl::Duration left = deadline - clock_.Now();
    if (left <= absl::ZeroDuration()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("all ", options_.limit, " requests allowed in flight to Twilio are taken"));
    }
    clock_.SleepFor(std::min(pause, left));
    pause = std::min(pause * 2, options_.max_poll);
  }
}

void RedisInFlightLimit::Release(const std::string& slot) {
  // A failed release only holds the slot until its lease runs out.
  (void)redis_.Command({"ZREM", key_, slot});
  if (options_.in_flight != nullptr) options_.in_flight->Decrement();
}

}  // namespace klaxon::delivery
