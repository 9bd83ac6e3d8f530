#pragma once
// CallbackDedupe in Redis: one key per dedupe key of a callback, "claimed" with the lease as its
// TTL, then "published" with the dedupe window as its TTL. Claim is one Lua script over all of a
// callback's keys, so two ingress replicas racing on the same callback (or on a replay of it
// under another token) never both publish it.

#include <string>

#include "common/redis/redis_client.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class RedisCallbackDedupe final : public CallbackDedupe {
 public:
  // Keys are `key_prefix` + "twilio-callback:" + the dedupe key.
  RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<DedupeClaim> Claim(const DedupeKeys& keys, absl::Duration lease) override;
  absl::Status MarkPublished(const DedupeKeys& keys, absl::Duration window) override;
  absl::Status Release(const DedupeKeys& keys) override;

 private:
  // EVAL `script` over the Redis keys of `keys`, then `args`.
  absl::StatusOr<redis::Reply> Eval(const char* script, const DedupeKeys& keys,
                                    std::vector<std::string> args) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress
