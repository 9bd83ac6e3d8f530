#pragma once
// SendGate over the separate ports, one call each: StoppedAlerts::Find (the alert's, then its
// escalation chain's), SuppressionList::IsSuppressed, SendLimiter::Reserve, then, for a slot due
// at once, InFlightLimit::Acquire without waiting and SendLimiter::ClearToSend. The same decisions
// as RedisSendGate's script, step by step; with the in-memory ports it is the gate the
// dispatcher's unit tests run on.

#include <optional>
#include <string>
#include <utility>

#include "common/stopped_alerts/stopped_alerts.h"
#include "services/delivery/in_flight_limit.h"
#include "services/delivery/send_gate.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/suppression_list.h"

namespace klaxon::delivery {

class StepwiseSendGate final : public SendGate {
 public:
  // All borrowed; they must outlive this.
  StepwiseSendGate(stopped_alerts::StoppedAlerts& stops, SuppressionList& suppressions,
                   SendLimiter& limiter, InFlightLimit& in_flight)
      : stops_(stops), suppressions_(suppressions), limiter_(limiter), in_flight_(in_flight) {}

  absl::StatusOr<GateDecision> Open(const events::v1::AlertRequested& request,
                                    std::string_view recipient, absl::Time now,
                                    GateChecks checks) override {
    absl::StatusOr<std::optional<FoundStop>> stop = FindStop(request);
    if (!stop.ok()) return stop.status();
    if (stop->has_value()) {
      return GateDecision{.kind = GateDecision::Kind::kStopped,
                          .stop = (*stop)->reason,
                          .chain_stopped = (*stop)->chain};
    }
    if (checks.suppression) {
      absl::StatusOr<bool> suppressed = suppressions_.IsSuppressed(recipient);
      if (!suppressed.ok()) return suppressed.status();
      if (*suppressed) return GateDecision{.kind = GateDecision::Kind::kSuppressed};
    }
    if (!checks.reserve()) return GateDecision{.kind = GateDecision::Kind::kUnreserved};
    absl::StatusOr<LimitDecision> limit =
        limiter_.Reserve(request, recipient, checks.reserve_among, now);
    if (!limit.ok()) return limit.status();
    if (limit->kind == LimitDecision::Kind::kDefer) {
      return GateDecision{.kind = GateDecision::Kind::kDeferred, .limit = *std::move(limit)};
    }
    GateDecision reserved{.kind = GateDecision::Kind::kReserved, .limit = *std::move(limit)};
    if (reserved.limit.send_at > now) return reserved;
    absl::StatusOr<std::string> slot = in_flight_.Acquire(absl::ZeroDuration(), request.priority());
    if (absl::IsResourceExhausted(slot.status())) return reserved;
    if (!slot.ok()) return slot.status();
    absl::StatusOr<LimitDecision> clear =
        limiter_.ClearToSend(request, reserved.limit.sender, now, absl::ZeroDuration());
    if (!clear.ok() || clear->kind != LimitDecision::Kind::kSend || clear->send_at > now) {
      in_flight_.Release(*slot);
      if (!clear.ok()) return clear.status();
      return reserved;
    }
    return GateDecision{.kind = GateDecision::Kind::kCleared,
                        .limit = std::move(reserved.limit),
                        .in_flight_slot = *std::move(slot)};
  }

  absl::StatusOr<std::optional<FoundStop>> FindStop(
      const events::v1::AlertRequested& request) override {
    absl::StatusOr<std::optional<stopped_alerts::StopReason>> own =
        stops_.Find(request.header().alert_id());
    if (!own.ok()) return own.status();
    if (own->has_value()) return FoundStop{.reason = **own};
    if (request.escalation_id().empty()) return std::nullopt;
    absl::StatusOr<std::optional<stopped_alerts::StopReason>> chain =
        stops_.Find(request.escalation_id());
    if (!chain.ok()) return chain.status();
    if (chain->has_value()) return FoundStop{.reason = **chain, .chain = true};
    return std::nullopt;
  }

 private:
  stopped_alerts::StoppedAlerts& stops_;
  SuppressionList& suppressions_;
  SendLimiter& limiter_;
  InFlightLimit& in_flight_;
};

}  // namespace klaxon::delivery
