#pragma once
// ChannelSwitchStore in memory, for unit tests: the same rules as Redis's, and a failure to
// inject.

#include <mutex>
#include <string>
#include <utility>

#include "common/channels/channel_switches.h"

namespace klaxon::channels {

class InMemoryChannelSwitches final : public ChannelSwitchStore {
 public:
  absl::StatusOr<std::map<Channel, std::string>> ReadOff() override {
    std::lock_guard lock(mutex_);
    if (!failure_.ok()) return failure_;
    return off_;
  }
  absl::Status TurnOff(Channel channel, std::string_view reason) override {
    std::lock_guard lock(mutex_);
    if (!failure_.ok()) return failure_;
    off_[channel] = std::string(reason);
    return absl::OkStatus();
  }
  absl::Status TurnOn(Channel channel) override {
    std::lock_guard lock(mutex_);
    if (!failure_.ok()) return failure_;
    off_.erase(channel);
    return absl::OkStatus();
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(status);
  }

 private:
  std::mutex mutex_;
  std::map<Channel, std::string> off_;
  absl::Status failure_;
};

}  // namespace klaxon::channels
