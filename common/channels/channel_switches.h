#pragma once
// A switch per channel (SMS, voice) that an operator turns off without a deploy
// (docs/adr/0012-callers-and-operators.md). While a channel is off, ingress refuses SendAlert for
// it with FAILED_PRECONDITION naming the switch, and the channel's worker sends nothing new: each
// request is deferred (WAITING, "channel disabled") through the retry tiers, so queued work waits
// in Kafka instead of being lost, and goes out once the channel is on again.
//
// The switches live in a ChannelSwitchStore shared by every replica (Redis); each process keeps
// a ChannelSwitchboard, refreshed every second from the store, so a check costs no round trip
// and a switch takes effect everywhere within about a second. A store that cannot be read keeps
// the last state known (at start: every channel on), so a Redis outage does not stop delivery.

#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "klaxon/types/v1/types.pb.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace klaxon::channels {

using Channel = types::v1::Channel;

// The channels a switch exists for, in a fixed order.
inline constexpr Channel kSwitchedChannels[] = {types::v1::CHANNEL_SMS, types::v1::CHANNEL_VOICE};

// "sms" or "voice" (a metric label, a Redis key part, a command-line word); "" for others.
std::string_view ChannelName(Channel channel);
// The inverse; kInvalidArgument naming the accepted words otherwise.
absl::StatusOr<Channel> ParseChannelName(std::string_view name);

// Port: where the switches are kept. Thread-safe.
class ChannelSwitchStore {
 public:
  virtual ~ChannelSwitchStore() = default;
  // Every channel that is off, with the reason it was turned off; a channel absent is on.
  virtual absl::StatusOr<std::map<Channel, std::string>> ReadOff() = 0;
  // `reason` is shown to callers refused by the switch: no personal data.
  virtual absl::Status TurnOff(Channel channel, std::string_view reason) = 0;
  virtual absl::Status TurnOn(Channel channel) = 0;
};

// What a process knows of the switches, refreshed from the store. Thread-safe.
class ChannelSwitchboard {
 public:
  // Borrowed; they must outlive the board. `registry` gets klaxon_channel_enabled{channel}.
  ChannelSwitchboard(ChannelSwitchStore& store, const log::Logger& logger,
                     prometheus::Registry& registry);

  // The reason `channel` was turned off, or nullopt while it is on.
  std::optional<std::string> OffReason(Channel channel) const;

  // OK while `channel` is on; kFailedPrecondition naming the switch and its reason when off.
  absl::Status CheckOn(Channel channel) const;

  // Reads the store. On failure the state stays as it was and the error is returned (and logged
  // as channel_switches_unreadable); each change of a switch is logged as channel_switched.
  absl::Status Refresh();

  // Refresh() every `interval` until `stop` is requested. For a thread of the main's.
  void Run(std::stop_token stop, absl::Duration interval = absl::Seconds(1));

 private:
  ChannelSwitchStore& store_;
  const log::Logger& logger_;
  prometheus::Family<prometheus::Gauge>& enabled_;
  mutable std::mutex mutex_;
  std::map<Channel, std::string> off_;  // guarded by mutex_
};

}  // namespace klaxon::channels
