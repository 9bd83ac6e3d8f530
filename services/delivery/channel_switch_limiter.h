#pragma once
// A SendLimiter in front of the worker's own limits that holds back every send of a channel an
// operator switched off (common/channels, docs/adr/0012): the attempt is deferred, like any limit
// that does not fit, to the retry tiers (status WAITING, "held back by channel disabled ..."), so
// it waits in Kafka and goes out once the switch is on again, or ends at its deadline as any
// deferred attempt does. The send-time guard is the inner limiter's alone: a send that passed
// Reserve is already under way.

#include "common/channels/channel_switches.h"
#include "services/delivery/send_limiter.h"

namespace klaxon::delivery {

struct ChannelSwitchLimiterOptions {
  // How long a held-back attempt waits before the switch is asked again
  // (KLAXON_CHANNEL_DISABLED_RECHECK); the retry tier covering it is used.
  absl::Duration recheck = absl::Seconds(10);
};

class ChannelSwitchLimiter final : public SendLimiter {
 public:
  // Both borrowed; they must outlive this.
  ChannelSwitchLimiter(ChannelSwitchLimiterOptions options,
                       const channels::ChannelSwitchboard& switches, SendLimiter& inner);

  absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                        std::string_view recipient, absl::Time now) override;
  absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                            absl::Time now, absl::Duration waited) override;

 private:
  const ChannelSwitchLimiterOptions options_;
  const channels::ChannelSwitchboard& switches_;
  SendLimiter& inner_;
};

}  // namespace klaxon::delivery
