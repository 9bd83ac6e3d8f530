#pragma once
// Turns Kafka values into AlertEvents, validating what the projection relies on. The recipient's
// number is reduced here to its country calling code and last four digits and goes no further;
// the message text is dropped.

#include <string_view>

#include "absl/status/statusor.h"
#include "services/audit/alert.h"

namespace klaxon::audit {

// A serialized klaxon.events.v1.AlertRequested. kInvalidArgument, naming the field, when the
// bytes do not parse or the header (UUID alert_id, caller, SMS or voice channel, attempt >= 1,
// occurred_at) or the E.164 recipient is missing or malformed.
absl::StatusOr<AlertEvent> DecodeAlertRequested(std::string_view value);

// A serialized klaxon.events.v1.DeliveryEvent carrying an outcome: ACCEPTED becomes SENT,
// REJECTED and GAVE_UP become FAILED. kInvalidArgument like DecodeAlertRequested, and for a
// missing or unspecified outcome.
absl::StatusOr<AlertEvent> DecodeDeliveryEvent(std::string_view value);

}  // namespace klaxon::audit
