#pragma once
// InFlightLimit on Redis, so the bound on requests in flight to Twilio holds for every worker
// replica of every channel together (the account's concurrency is one). The slots are a sorted
// set of slot ids scored by lease expiry: taking one drops expired leases and adds ours when
// fewer than `limit` remain, in one Lua script on Redis's clock (redis_limit_scripts.h, shared
// with RedisSendGate, which takes a slot in its own script through NewLease and Adopt). A holder
// that died without Release loses its slot when the lease runs out, so the lease must outlast the
// longest REST call (twice the Twilio timeout by default).
//
// Waiting polls with a short, growing pause: the wait is rare (only at the bound) and short, and
// a poll costs one round trip.

#include <prometheus/gauge.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "common/redis/redis_client.h"
#include "common/timing/clock.h"
#include "services/delivery/in_flight_limit.h"

namespace klaxon::delivery {

struct RedisInFlightOptions {
  std::string key_prefix;  // <prefix>limits:twilio_in_flight
  std::string owner;       // the worker id, so slot ids show who holds them
  int64_t limit = 100;
  // Of `limit`, the slots only critical sends may take (0 <= urgent_reserve < limit).
  int64_t urgent_reserve = 0;
  absl::Duration lease = absl::Seconds(30);
  absl::Duration first_poll = absl::Milliseconds(2);
  absl::Duration max_poll = absl::Milliseconds(50);
  prometheus::Gauge* in_flight = nullptr;  // this process's held slots, when given
};

class RedisInFlightLimit final : public InFlightLimit {
 public:
  RedisInFlightLimit(redis::RedisClient& redis, RedisInFlightOptions options, timing::Clock& clock);

  absl::StatusOr<std::string> Acquire(absl::Duration wait, types::v1::Priority priority) override;
  void Release(const std::string& slot) override;

  // For a script that takes a slot for a request of `priority` itself: the slots' key, a fresh
  // slot id, and the lease_free() and lease_take() arguments (the limit for that priority, the
  // lease in ms). Adopt() once the script took the slot, so the gauge counts it until Release.
  struct Lease {
    std::string key;
    std::string slot;
    std::string limit;
    std::string lease_ms;
  };
  Lease NewLease(types::v1::Priority priority);
  void Adopt();

 private:
  redis::RedisClient& redis_;
  const RedisInFlightOptions options_;
  timing::Clock& clock_;
  const std::string key_;
  const std::string acquire_script_;
  std::atomic<uint64_t> next_slot_{0};
};

}  // namespace klaxon::delivery
