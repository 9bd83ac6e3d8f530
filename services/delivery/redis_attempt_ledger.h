#pragma once
// AttemptLedger on Redis: one key per attempt, claimed with SET NX, so any number of worker
// replicas agree on who sends. Records are kept for a week, longer than any redelivery.

#include <string>

#include "common/redis/redis_client.h"
#include "services/delivery/attempt_ledger.h"

namespace klaxon::delivery {

class RedisAttemptLedger final : public AttemptLedger {
 public:
  RedisAttemptLedger(redis::RedisClient& redis, std::string key_prefix,
                     absl::Duration retention = absl::Hours(24 * 7));

  absl::StatusOr<AttemptClaim> Claim(std::string_view alert_id, uint32_t attempt,
                                     std::string_view owner, absl::Time now) override;
  absl::Status RecordOutcome(std::string_view alert_id, uint32_t attempt,
                             const events::v1::DeliveryOutcome& outcome) override;
  absl::Status MarkUnsettled(std::string_view alert_id, uint32_t attempt,
                             absl::Time sent_at) override;
  absl::Status Release(std::string_view alert_id, uint32_t attempt,
                       std::string_view owner) override;

 private:
  std::string Key(std::string_view alert_id, uint32_t attempt) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const std::string retention_seconds_;
};

}  // namespace klaxon::delivery
