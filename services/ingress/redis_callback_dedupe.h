#pragma once
// CallbackDedupe in Redis: one key per callback, "claimed" with the lease as its TTL, then
// "published" with the dedupe window as its TTL. Claim is one atomic SET NX GET, so two ingress
// replicas racing on the same callback never both publish it.

#include <string>

#include "common/redis/redis_client.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class RedisCallbackDedupe final : public CallbackDedupe {
 public:
  // Keys are `key_prefix` + "twilio-callback:" + the dedupe key.
  RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<DedupeClaim> Claim(std::string_view key, absl::Duration lease) override;
  absl::Status MarkPublished(std::string_view key, absl::Duration window) override;
  absl::Status Release(std::string_view key) override;

 private:
  std::string RedisKey(std::string_view key) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress
