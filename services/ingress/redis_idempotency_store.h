#pragma once
// IdempotencyStore on Redis: one hash per (caller, key) that expires after the window, and one
// hash per alert naming its caller and channel with the same expiry. Reserving is a single Lua
// script per record, so two ingress replicas racing on one key agree on one alert_id, and an alert
// never exists without its owner.

#include <span>
#include <string>
#include <vector>

#include "common/redis/redis_client.h"
#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

class RedisIdempotencyStore : public IdempotencyStore {
 public:
  // `key_prefix` (e.g. "klaxon:") namespaces every key this store writes.
  RedisIdempotencyStore(redis::RedisClient& redis, std::string key_prefix);

  // One EVAL per record, pipelined in one round trip.
  std::vector<absl::StatusOr<IdempotencyRecord>> ReserveAll(
      std::span<const NewRecord> records) override;
  absl::StatusOr<std::optional<IdempotencyRecord>> Find(std::string_view caller,
                                                        std::string_view key) override;
  // One EVAL per record, pipelined in one round trip.
  std::vector<absl::Status> MarkAllPublished(std::span<const RecordKey> keys) override;
  absl::StatusOr<std::optional<AlertOwner>> FindOwner(std::string_view alert_id) override;

 private:
  std::string RedisKey(std::string_view caller, std::string_view key) const;
  std::string OwnerKey(std::string_view alert_id) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress
