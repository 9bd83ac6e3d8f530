#pragma once
// VerificationStore on Redis, shared by every ingress replica. Each step that reads and then
// writes is one Lua script, so two replicas racing on one verification (two checks, a check and
// a cancel, two starts) never both win. Time comes from the caller's `now`, not Redis's clock, so
// the store agrees with the Clock the service decides by.
//
// Keys, each dropped by Redis at the verification's forget_at:
//   <prefix>verification:<id>  a hash: caller, recipient (blind index), channel, digest, sealed,
//       created, expires, forget (µs since the epoch), checks, sends, state, and alert once noted
//   <prefix>verification-pending:<caller>:<recipient index>  the id of the pending one
// A script reads the hash whose id the pending key holds, a key it cannot declare in advance: all
// of a prefix's keys must live on one Redis, not spread over a Cluster.

#include <string>

#include "common/redis/redis_client.h"
#include "services/ingress/verification/verification_store.h"

namespace klaxon::ingress::verification {

class RedisVerificationStore final : public VerificationStore {
 public:
  RedisVerificationStore(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<StartedSend> StartOrResend(const Verification& fresh, absl::Time now) override;
  absl::StatusOr<std::optional<Verification>> Find(std::string_view caller,
                                                   std::string_view id) override;
  absl::StatusOr<std::optional<std::string>> FindPending(std::string_view caller,
                                                         std::string_view recipient_index) override;
  absl::StatusOr<std::optional<CountedCheck>> CountCheck(std::string_view caller,
                                                         std::string_view id, int max_checks,
                                                         absl::Time now) override;
  absl::StatusOr<bool> ReplaceAlert(std::string_view caller, std::string_view id,
                                    std::string_view from, std::string_view to) override;
  absl::StatusOr<bool> Finish(std::string_view caller, std::string_view id,
                              VerificationState to) override;

 private:
  std::string VerificationKey(std::string_view id) const;
  std::string PendingKey(std::string_view caller, std::string_view recipient_index) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress::verification
