#pragma once
// AckCodes on Redis: one key per recipient and code, "<prefix>ack-code:<phone token>:<code>"
// (log::PhoneRedactor, so no phone number is in a key), set with NX and expiring kQuarantine after
// its `until`; its value is "<until in Unix ms> <alert_id> <caller>" (an alert id is a UUID, a
// caller name has no spaces), followed by " <escalation_id> <escalation_step>" for a page of an
// escalation chain (docs/adr/0029). A value without them reads as no chain.

#include <string>

#include "common/log/log.h"
#include "common/redis/redis_client.h"
#include "common/sms_acks/ack_codes.h"

namespace klaxon::sms_acks {

class RedisAckCodes final : public AckCodes {
 public:
  // `redis` is borrowed and must outlive this object.
  RedisAckCodes(redis::RedisClient& redis, std::string key_prefix, log::PhoneRedactor redactor);

  absl::StatusOr<bool> Bind(std::string_view recipient, std::string_view code,
                            const AckTarget& target, absl::Time until) override;
  absl::StatusOr<std::optional<AckTarget>> Find(std::string_view recipient, std::string_view code,
                                                absl::Time now) override;

 private:
  std::string Key(std::string_view recipient, std::string_view code) const;

  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const log::PhoneRedactor redactor_;
};

}  // namespace klaxon::sms_acks
