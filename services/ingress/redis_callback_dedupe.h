#pragma once
// CallbackDedupe in Redis: one key per dedupe key of a callback, "claimed" with the lease as its
// TTL, then "published" with the dedupe window as its TTL. Claim is one Lua script over all of a
// callback's keys, so two ingress replicas racing on the same callback (or on a replay of it
// under another token) never both publish it. A batch's scripts go in one pipelined write.

#include <string>
#include <vector>

#include "common/redis/redis_client.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class RedisCallbackDedupe final : public CallbackDedupe {
 public:
  // Keys are `key_prefix` + "twilio-callback:" + the dedupe key.
  RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix);

  std::vector<absl::StatusOr<DedupeClaim>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                 absl::Duration lease) override;
  std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                          absl::Duration window) override;
  std::vector<absl::Status> Release(const std::vector<DedupeKeys>& callbacks) override;

 private:
  // EVAL `script` over the Redis keys of each callback, then `arg` when not empty, in one round
  // trip: one reply each, kInvalidArgument for a callback without keys (never sent).
  std::vector<absl::StatusOr<redis::Reply>> EvalEach(const char* script,
                                                     const std::vector<DedupeKeys>& callbacks,
                                                     const std::string& arg) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress
