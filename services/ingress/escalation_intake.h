#pragma once
// SendAlert with an escalation chain (docs/adr/0029): ordered recipients, each paged `attempts`
// times `spacing` apart, until one of them acknowledges. Each page is an ordinary alert taken in
// through SendAlert's own use case (AlertSubmitter), scheduled at its offset from the chain's
// start, so it is validated, limited, made durable and cancelled exactly as any alert is, and its
// wait survives restarts (the retry tiers, docs/adr/0025). What makes them a chain travels with
// each page: the chain's id (its first page's alert id) and the page's step. Workers check the
// chain's stop beside the page's, and every acknowledgement of a page stops the chain
// (common/stopped_alerts/escalation_chains.h).
//
// The first page is taken in under the caller's idempotency key and its id is the chain's; page n
// (from 1) under "<key>/p<n>", once the first is durable. The chain starts at send_at, or when its
// first page was first accepted (the time in its UUIDv7), so a retry of the same request maps
// every page to the alert it made: the same key, the same request, the same send_at.

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/send_alert_validation.h"

namespace klaxon::ingress {

inline constexpr int kMaxEscalationSteps = 10;
inline constexpr int kMaxEscalationPages = 20;
inline constexpr uint32_t kMaxPagesPerStep = 5;
inline constexpr absl::Duration kMinPageSpacing = absl::Seconds(5);
inline constexpr absl::Duration kMaxPageSpacing = absl::Hours(1);
inline constexpr absl::Duration kDefaultPageSpacing = absl::Minutes(5);
// Room for "/p19" after the caller's key within SendAlert's 128 characters.
inline constexpr size_t kMaxEscalationIdempotencyKeyLength = kMaxIdempotencyKeyLength - 4;

// The chain's own rules, before any page is taken in: kInvalidArgument naming the field. Each
// page's request is then checked as any SendAlert is. `now` places the last page: it must fall
// within alert_lifetime::kMaxScheduleAhead, as any send_at must, or the chain would be refused
// at that page after the first ones were taken in.
absl::Status ValidateEscalation(const alerts::v1::SendAlertRequest& request, absl::Time now);

class EscalationIntake {
 public:
  // All borrowed. `continuation` takes in the pages after the first: the first's answer comes
  // on the publisher's delivery thread, which must not wait on Redis.
  EscalationIntake(AlertSubmitter& alerts, concurrency::BlockingExecutor& continuation,
                   timing::Clock& clock)
      : alerts_(alerts), continuation_(continuation), clock_(clock) {}

  // `request` names an escalation. Calls `done` exactly once: with the chain's id (its first
  // page's) once every page is durable, or with the first refusal (a refused page after the
  // first names its step and asks for a retry with the same key, which takes in only what is
  // missing). `request` must stay valid until then.
  // `caller_key` is the caller's API key, for rendering the pages' template as the caller.
  void Send(std::string_view caller, std::string_view caller_key,
            const alerts::v1::SendAlertRequest& request, SendDone done);

 private:
  AlertSubmitter& alerts_;
  concurrency::BlockingExecutor& continuation_;
  timing::Clock& clock_;
};

}  // namespace klaxon::ingress
