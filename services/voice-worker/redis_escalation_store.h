#pragma once
// EscalationStore and RecipientAlerts on Redis. A request is one key per alert, a claimed step
// one key per alert and step (SET NX), both expiring at their keep_until. A recipient's alerts in
// escalation are a sorted set scored by each alert's `until`, keyed by the recipient's keyed
// phone token (log::PhoneRedactor) so no phone number is stored in a key; it expires with its
// latest alert.

#include <string>

#include "common/log/log.h"
#include "common/redis/redis_client.h"
#include "services/voice-worker/escalation_store.h"

namespace klaxon::voice {

class RedisEscalationStore final : public EscalationStore {
 public:
  RedisEscalationStore(redis::RedisClient& redis, std::string key_prefix);

  absl::Status Remember(const events::v1::AlertRequested& request, absl::Time keep_until) override;
  absl::StatusOr<std::optional<events::v1::AlertRequested>> Find(
      std::string_view alert_id) override;
  absl::StatusOr<bool> ClaimStep(std::string_view alert_id, std::string_view step,
                                 absl::Time keep_until) override;
  absl::Status ReleaseStep(std::string_view alert_id, std::string_view step) override;

 private:
  std::string RequestKey(std::string_view alert_id) const;
  std::string StepKey(std::string_view alert_id, std::string_view step) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

class RedisRecipientAlerts final : public RecipientAlerts {
 public:
  RedisRecipientAlerts(redis::RedisClient& redis, std::string key_prefix,
                       log::PhoneRedactor redactor);

  absl::Status Add(std::string_view recipient, std::string_view alert_id,
                   absl::Time until) override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view recipient,
                                                absl::Time now) override;
  absl::Status Remove(std::string_view recipient, std::string_view alert_id) override;

 private:
  std::string Key(std::string_view recipient) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const log::PhoneRedactor redactor_;
};

}  // namespace klaxon::voice
