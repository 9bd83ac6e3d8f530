#include "common/channels/redis_channel_switches.h"

#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace klaxon::channels {
namespace {

absl::Status CheckSwitched(Channel channel) {
  if (!ChannelName(channel).empty()) return absl::OkStatus();
  return absl::InvalidArgumentError("only the sms and voice channels have a switch");
}

}  // namespace

RedisChannelSwitches::RedisChannelSwitches(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisChannelSwitches::Key(Channel channel) const {
  const std::string_view name = ChannelName(channel);
  return absl::StrCat(key_prefix_, "channel_off:", absl::string_view(name.data(), name.size()));
}

absl::StatusOr<std::map<Channel, std::string>> RedisChannelSwitches::ReadOff() {
  std::vector<std::string> argv = {"MGET"};
  for (const Channel channel : kSwitchedChannels) argv.push_back(Key(channel));
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray ||
      reply->elements.size() != std::size(kSwitchedChannels)) {
    return absl::UnavailableError("Redis answered MGET of the channel switches with no array");
  }
  std::map<Channel, std::string> off;
  for (size_t i = 0; i < reply->elements.size(); ++i) {
    if (reply->elements[i].has_value()) off.emplace(kSwitchedChannels[i], *reply->elements[i]);
  }
  return off;
}

absl::Status RedisChannelSwitches::TurnOff(Channel channel, std::string_view reason) {
  if (absl::Status valid = CheckSwitched(channel); !valid.ok()) return valid;
  if (reason.empty()) return absl::InvalidArgumentError("a switched-off channel needs a reason");
  return redis_.Command({"SET", Key(channel), std::string(reason)}).status();
}

absl::Status RedisChannelSwitches::TurnOn(Channel channel) {
  if (absl::Status valid = CheckSwitched(channel); !valid.ok()) return valid;
  return redis_.Command({"DEL", Key(channel)}).status();
}

}  // namespace klaxon::channels
