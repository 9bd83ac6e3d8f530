#include "services/delivery/redis_in_flight_limit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka/request_topics.h"
#include "services/delivery/redis_limit_scripts.h"

namespace klaxon::delivery {
namespace {

// KEYS[1] the slots; ARGV: limit, lease (ms), slot id. Returns 1 when the slot was taken.
constexpr char kAcquireBody[] = R"lua(
local now_ms = math.floor(now_us() / 1000)
if not lease_free(KEYS[1], now_ms, tonumber(ARGV[1])) then return 0 end
lease_take(KEYS[1], now_ms, tonumber(ARGV[2]), ARGV[3])
return 1
)lua";

}  // namespace

RedisInFlightLimit::RedisInFlightLimit(redis::RedisClient& redis, RedisInFlightOptions options,
                                       timing::Clock& clock)
    : redis_(redis),
      options_(std::move(options)),
      clock_(clock),
      key_(absl::StrCat(options_.key_prefix, "limits:twilio_in_flight")),
      acquire_script_(absl::StrCat(redis_lua::kPrelude, redis_lua::kLease, kAcquireBody)) {}

RedisInFlightLimit::Lease RedisInFlightLimit::NewLease(types::v1::Priority priority) {
  const int64_t limit =
      kafka::Urgent(priority) ? options_.limit : options_.limit - options_.urgent_reserve;
  return {.key = key_,
          .slot = absl::StrCat(options_.owner, "#", next_slot_.fetch_add(1)),
          .limit = absl::StrCat(limit),
          .lease_ms = absl::StrCat(absl::ToInt64Milliseconds(options_.lease))};
}

void RedisInFlightLimit::Adopt() {
  if (options_.in_flight != nullptr) options_.in_flight->Increment();
}

absl::StatusOr<std::string> RedisInFlightLimit::Acquire(absl::Duration wait,
                                                        types::v1::Priority priority) {
  const Lease lease = NewLease(priority);
  const absl::Time deadline = clock_.Now() + wait;
  absl::Duration pause = options_.first_poll;
  while (true) {
    absl::StatusOr<redis::Reply> taken = redis_.Command(
        {"EVAL", acquire_script_, "1", lease.key, lease.limit, lease.lease_ms, lease.slot});
    if (!taken.ok()) return taken.status();
    if (taken->type == redis::Reply::Type::kInteger && taken->integer == 1) {
      Adopt();
      return lease.slot;
    }
    const absl::Duration left = deadline - clock_.Now();
    if (left <= absl::ZeroDuration()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "all ", lease.limit, " requests allowed in flight to Twilio at this priority are taken"));
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
