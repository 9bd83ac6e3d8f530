#pragma once
// SuppressionList on Redis: one key per recipient, named by the recipient's keyed phone token
// (log::PhoneRedactor) so no phone number is stored in a key. The value holds the latest change
// and when it happened; a Lua script applies a change only when it is not older than the stored
// one, so replicas consuming STOP and START out of order agree on the recipient's latest wish.

#include <string>
#include <string_view>

#include "common/log/log.h"
#include "common/redis/redis_client.h"
#include "services/delivery/suppression_list.h"

namespace klaxon::delivery {

// A recipient's key (<prefix>suppression:<token>) and the start of a value that says the
// recipient is suppressed, for a script that reads the entry itself (RedisSendGate).
std::string RedisSuppressionKey(std::string_view key_prefix, const log::PhoneRedactor& redactor,
                                std::string_view recipient);
inline constexpr std::string_view kRedisSuppressedValuePrefix = "1:";

class RedisSuppressionList final : public SuppressionList {
 public:
  RedisSuppressionList(redis::RedisClient& redis, std::string key_prefix,
                       log::PhoneRedactor redactor);

  absl::StatusOr<bool> IsSuppressed(std::string_view recipient) override;
  absl::Status Suppress(std::string_view recipient, absl::Time at) override;
  absl::Status Lift(std::string_view recipient, absl::Time at) override;

 private:
  absl::Status Apply(std::string_view recipient, bool suppressed, absl::Time at);

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const log::PhoneRedactor redactor_;
};

}  // namespace klaxon::delivery
