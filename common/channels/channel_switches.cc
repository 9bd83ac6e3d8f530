#include "common/channels/channel_switches.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/lifecycle/sleep.h"

namespace klaxon::channels {

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case types::v1::CHANNEL_SMS:
      return "sms";
    case types::v1::CHANNEL_VOICE:
      return "voice";
    default:
      return "";
  }
}

absl::StatusOr<Channel> ParseChannelName(std::string_view name) {
  for (const Channel channel : kSwitchedChannels) {
    if (ChannelName(channel) == name) return channel;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown channel \"", absl::string_view(name.data(), name.size()), "\" (sms or voice)"));
}

ChannelSwitchboard::ChannelSwitchboard(ChannelSwitchStore& store, const log::Logger& logger,
                                       prometheus::Registry& registry)
    : store_(store),
      logger_(logger),
      enabled_(prometheus::BuildGauge()
                   .Name("klaxon_channel_enabled")
                   .Help("1 while the channel's switch is on, 0 while an operator has it off "
                         "(klaxon-admin channel disable/enable)")
                   .Register(registry)) {
  for (const Channel channel : kSwitchedChannels) {
    enabled_.Add({{"channel", std::string(ChannelName(channel))}}).Set(1);
  }
}

std::optional<std::string> ChannelSwitchboard::OffReason(Channel channel) const {
  std::lock_guard lock(mutex_);
  const auto off = off_.find(channel);
  if (off == off_.end()) return std::nullopt;
  return off->second;
}

absl::Status ChannelSwitchboard::CheckOn(Channel channel) const {
  const std::optional<std::string> reason = OffReason(channel);
  if (!reason.has_value()) return absl::OkStatus();
  const std::string name(ChannelName(channel));
  return absl::FailedPreconditionError(
      absl::StrCat("channel disabled: the ", name, " switch is off (", *reason,
                   "); an operator turns it on with `klaxon-admin channel enable ", name, "`"));
}

absl::Status ChannelSwitchboard::Refresh() {
  absl::StatusOr<std::map<Channel, std::string>> off = store_.ReadOff();
  if (!off.ok()) {
    logger_.Warn("channel_switches_unreadable", {{"error", std::string(off.status().message())}});
    return off.status();
  }
  std::map<Channel, std::string> previous;
  {
    std::lock_guard lock(mutex_);
    previous = std::exchange(off_, *off);
  }
  for (const Channel channel : kSwitchedChannels) {
    const auto was = previous.find(channel);
    const auto is = off->find(channel);
    const std::string name(ChannelName(channel));
    enabled_.Add({{"channel", name}}).Set(is == off->end() ? 1 : 0);
    if ((was == previous.end()) == (is == off->end())) continue;
    logger_.Warn("channel_switched", {{"channel", name},
                                      {"enabled", is == off->end()},
                                      {"reason", is == off->end() ? "" : is->second}});
  }
  return absl::OkStatus();
}

void ChannelSwitchboard::Run(std::stop_token stop, absl::Duration interval) {
  while (!stop.stop_requested()) {
    Refresh().IgnoreError();  // logged by Refresh
    lifecycle::SleepUnlessStopped(interval, stop);
  }
}

}  // namespace klaxon::channels
