#include "services/delivery/channel_switch_limiter.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {

ChannelSwitchLimiter::ChannelSwitchLimiter(ChannelSwitchLimiterOptions options,
                                           const channels::ChannelSwitchboard& switches,
                                           SendLimiter& inner)
    : options_(options), switches_(switches), inner_(inner) {}

absl::StatusOr<LimitDecision> ChannelSwitchLimiter::Reserve(
    const events::v1::AlertRequested& request, std::string_view recipient, absl::Time now) {
  const channels::Channel channel = request.header().channel();
  if (const std::optional<std::string> off = switches_.OffReason(channel); off.has_value()) {
    const std::string_view name = channels::ChannelName(channel);
    return LimitDecision{
        .kind = LimitDecision::Kind::kDefer,
        .retry_at = now + options_.recheck,
        .limit = "channel_disabled",
        .reason = absl::StrCat("channel disabled (an operator switched ",
                               absl::string_view(name.data(), name.size()), " off: ", *off, ")")};
  }
  return inner_.Reserve(request, recipient, now);
}

absl::StatusOr<LimitDecision> ChannelSwitchLimiter::ClearToSend(
    const events::v1::AlertRequested& request, absl::Time now, absl::Duration waited) {
  return inner_.ClearToSend(request, now, waited);
}

}  // namespace klaxon::delivery
