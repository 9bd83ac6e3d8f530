#pragma once
// CallbackDedupe in Redis: one key per dedupe key of a callback, holding its claim's token with
// the lease as its TTL, then "published" with the dedupe window as its TTL. Claim is one Lua
// script over all of a callback's keys, so two ingress replicas racing on the same callback (or on
// a replay of it under another token) never both publish it; Release is one compare-and-delete
// script per claim. A batch's scripts go in one pipelined write.

#include <string>
#include <vector>

#include "common/ids/id_generator.h"
#include "common/redis/redis_client.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class RedisCallbackDedupe final : public CallbackDedupe {
 public:
  // Keys are `key_prefix` + "twilio-callback:" + the dedupe key. Each claim's token is
  // `claim_tokens`' next id (never "published"); it must be unique across replicas.
  RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix,
                      ids::IdGenerator& claim_tokens);

  std::vector<absl::StatusOr<ClaimAnswer>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                 absl::Duration lease) override;
  std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                          absl::Duration window) override;
  std::vector<absl::Status> Release(const std::vector<HeldClaim>& claims) override;

 private:
  // One callback's EVAL: the script runs over the Redis keys of `keys`, with `args` as ARGV.
  struct ScriptCall {
    const DedupeKeys* keys;
    std::vector<std::string> args;
  };

  // EVALs `script` once per call, in one round trip: one reply each, kInvalidArgument for a
  // call without keys (never sent).
  std::vector<absl::StatusOr<redis::Reply>> EvalEach(const char* script,
                                                     const std::vector<ScriptCall>& calls) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  ids::IdGenerator& claim_tokens_;
};

}  // namespace klaxon::ingress
