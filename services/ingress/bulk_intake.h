#pragma once
// SendAlerts: the same alert to many recipients, one alert per recipient through SendAlert's own
// use case (AlertSubmitter), so each is validated, deduplicated, limited and made durable exactly
// as a single alert is, and each is accepted or refused on its own; what they all share is
// checked once first, so a field SendAlert would refuse refuses the batch. The recipients' alerts
// go in in batches of 64 (AlertSubmitter::SendAll): each batch's keys are reserved, and its budgets
// and quota charged, in one round trip each (ADR 0039).
//
// Recipient i's alert is SendAlert's request with that recipient and the idempotency key
// "<batch key>/<i>": a retry of the batch finds every recipient's alert already taken in
// (duplicate) and takes in only those refused before. A number given twice is refused at its
// second place, so one batch never pages a person twice. A batch naming a template gives each
// recipient's alert that template, with the recipient's own parameters beside the batch's.

#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "services/ingress/alert_intake.h"

namespace klaxon::ingress {

inline constexpr int kMaxBulkRecipients = 1000;
// Room for "/999" after the batch's key within SendAlert's 128 characters.
inline constexpr size_t kMaxBulkIdempotencyKeyLength = 120;

using BulkDone = absl::AnyInvocable<void(absl::StatusOr<alerts::v1::SendAlertsResponse>) &&>;

class BulkIntake {
 public:
  // `clock` judges send_at, as the intake does.
  BulkIntake(AlertSubmitter& alerts, timing::Clock& clock) : alerts_(alerts), clock_(clock) {}

  // Refuses the whole batch (kInvalidArgument, naming the field) only when it has no recipient,
  // more than kMaxBulkRecipients, a bad idempotency key, recipient_parameters that are not one
  // per recipient of a templated batch, or a field every recipient's alert shares that SendAlert
  // would refuse (text, metadata, template parameters, ...); otherwise submits every recipient's
  // alert and calls `done` exactly once, when the last has answered, with one outcome per
  // recipient. `caller_key` is the caller's API key, to render a template as the caller. `request`
  // must stay valid until then.
  void Send(std::string_view caller, std::string_view caller_key,
            const alerts::v1::SendAlertsRequest& request, BulkDone done);

 private:
  AlertSubmitter& alerts_;
  timing::Clock& clock_;
};

}  // namespace klaxon::ingress
