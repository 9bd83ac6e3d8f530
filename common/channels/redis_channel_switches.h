#pragma once
// ChannelSwitchStore in Redis, shared by every replica: a channel that is off has the key
// <prefix>channel_off:<sms|voice> holding the operator's reason, with no expiry (a switch stays
// off until someone turns it on). A channel without the key is on.

#include <string>

#include "common/channels/channel_switches.h"
#include "common/redis/redis_client.h"

namespace klaxon::channels {

class RedisChannelSwitches final : public ChannelSwitchStore {
 public:
  // `redis` is borrowed and must outlive this. `key_prefix` is KLAXON_REDIS_KEY_PREFIX.
  RedisChannelSwitches(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<std::map<Channel, std::string>> ReadOff() override;
  absl::Status TurnOff(Channel channel, std::string_view reason) override;
  absl::Status TurnOn(Channel channel) override;

  std::string Key(Channel channel) const;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::channels
