#pragma once
// A SendGate in front of the worker's own that holds back every send of a channel an operator
// switched off (common/channels, docs/adr/0012): the attempt is deferred, like any limit that does
// not fit, to the retry tiers (status WAITING, "held back by channel disabled ..."), so it waits
// in Kafka and goes out once the switch is on again, or ends at its deadline as any deferred
// attempt does. A stopped alert or a suppressed recipient still ends as such, and a held-back
// attempt takes nothing from the inner gate's limits.

#include "common/channels/channel_switches.h"
#include "services/delivery/send_gate.h"

namespace klaxon::delivery {

struct ChannelSwitchGateOptions {
  // How long a held-back attempt waits before the switch is asked again
  // (KLAXON_CHANNEL_DISABLED_RECHECK); the retry tier covering it is used.
  absl::Duration recheck = absl::Seconds(10);
};

class ChannelSwitchGate final : public SendGate {
 public:
  // Both borrowed; they must outlive this.
  ChannelSwitchGate(ChannelSwitchGateOptions options, const channels::ChannelSwitchboard& switches,
                    SendGate& inner);

  absl::StatusOr<GateDecision> Open(const events::v1::AlertRequested& request,
                                    std::string_view recipient, absl::Time now,
                                    GateChecks checks) override;
  absl::StatusOr<std::optional<FoundStop>> FindStop(
      const events::v1::AlertRequested& request) override {
    return inner_.FindStop(request);
  }

 private:
  const ChannelSwitchGateOptions options_;
  const channels::ChannelSwitchboard& switches_;
  SendGate& inner_;
};

}  // namespace klaxon::delivery
