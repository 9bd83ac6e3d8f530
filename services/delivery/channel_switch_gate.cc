#include "services/delivery/channel_switch_gate.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {

ChannelSwitchGate::ChannelSwitchGate(ChannelSwitchGateOptions options,
                                     const channels::ChannelSwitchboard& switches, SendGate& inner)
    : options_(options), switches_(switches), inner_(inner) {}

absl::StatusOr<GateDecision> ChannelSwitchGate::Open(const events::v1::AlertRequested& request,
                                                     std::string_view recipient, absl::Time now,
                                                     GateChecks checks) {
  const channels::Channel channel = request.header().channel();
  const std::optional<std::string> off = switches_.OffReason(channel);
  // Unasked to reserve, the inner gate's answer stands: nothing would be sent either way.
  if (!off.has_value() || !checks.reserve()) return inner_.Open(request, recipient, now, checks);
  checks.reserve_among = {};
  absl::StatusOr<GateDecision> decision = inner_.Open(request, recipient, now, checks);
  if (!decision.ok() || decision->kind != GateDecision::Kind::kUnreserved) return decision;
  const std::string_view name = channels::ChannelName(channel);
  return GateDecision{.kind = GateDecision::Kind::kDeferred,
                      .limit = {.kind = LimitDecision::Kind::kDefer,
                                .retry_at = now + options_.recheck,
                                .limit = "channel_disabled",
                                .reason = absl::StrCat("channel disabled (an operator switched ",
                                                       absl::string_view(name.data(), name.size()),
                                                       " off: ", *off, ")")}};
}

}  // namespace klaxon::delivery
